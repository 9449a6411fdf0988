import { execFile } from 'node:child_process';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { promisify } from 'node:util';
import { RegisteredMailItemEntity } from '../../src/storage/entities';
import { openTestDatabase, removeTestDataDir } from '../support/test-database';

const run = promisify(execFile);
const ROOT = path.resolve(__dirname, '..', '..');
const WORKER = path.join(__dirname, 'multi-process-worker.ts');

interface WorkerOutput {
  answers: { token: string; ticket: string; receiptSha256: string }[];
  issued: number;
}

describe('several processes on one data directory', () => {
  let dataDir: string;

  beforeEach(() => {
    dataDir = fs.mkdtempSync(path.join(os.tmpdir(), 'rm-processes-'));
  });

  afterEach(async () => {
    await removeTestDataDir(dataDir);
  });

  it('three processes started together on a fresh directory: one item and one ticket per Token', async () => {
    // A fresh directory (and database): the processes also race to migrate it (see openDatabase).
    const requests = 15;
    const outputs = await Promise.all(
      [1, 2, 3].map(async () => {
        const { stdout } = await run(
          process.execPath,
          ['-r', 'ts-node/register', WORKER, dataDir, String(requests)],
          {
            cwd: ROOT,
            env: {
              ...process.env,
              TS_NODE_TRANSPILE_ONLY: 'true',
              TS_NODE_PROJECT: path.join(ROOT, 'tsconfig.json'),
            },
          },
        );
        // The output is the last line: TypeORM prints a line to stdout when it loses the migration race.
        return JSON.parse(stdout.slice(stdout.lastIndexOf('\n') + 1)) as WorkerOutput;
      }),
    );

    for (let index = 0; index < requests; index += 1) {
      const answers = outputs.map((output) => output.answers[index]);
      expect(new Set(answers.map((answer) => answer.ticket)).size).toBe(1);
      expect(new Set(answers.map((answer) => answer.receiptSha256)).size).toBe(1);
    }
    const dataSource = await openTestDatabase(dataDir);
    try {
      expect(await dataSource.getRepository(RegisteredMailItemEntity).count()).toBe(requests);
    } finally {
      await dataSource.destroy();
    }
  });
});
