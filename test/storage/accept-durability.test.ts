import { spawn } from 'node:child_process';
import { createHash } from 'node:crypto';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { ManualClock } from '../../src/clock/clock';
import { SendDocumentService } from '../../src/domain/send-document';
import {
  ContentChunkEntity,
  ItemFileEntity,
  ItemReceiptEntity,
  RegisteredMailItemEntity,
} from '../../src/storage/entities';
import { TypeormItemStore } from '../../src/storage/typeorm-item-store';
import { walDurabilityOf } from '../../src/storage/wal-durability';
import {
  commandFor,
  defaultContentStore,
  defaultStaging,
  FakeReceiptIssuer,
  SENDER,
  stageBytes,
} from '../domain/storage-fixture';
import { onPostgres, openTestDatabase, removeTestDataDir } from '../support/test-database';

const ROOT = path.resolve(__dirname, '..', '..');
const WORKER = path.join(__dirname, 'accept-crash-worker.ts');

interface Answer {
  ticket: string;
  receiptSha256: string;
  documentSha256: string;
}

/** Starts the worker, collects its answers until it gave `count`, then kills it with SIGKILL. */
function answersUntilKilled(dataDir: string, count: number): Promise<Answer[]> {
  return new Promise((resolve, reject) => {
    const child = spawn(process.execPath, ['-r', 'ts-node/register', WORKER, dataDir], {
      cwd: ROOT,
      env: { ...process.env, TS_NODE_TRANSPILE_ONLY: '1' },
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    const answers: Answer[] = [];
    let pending = '';
    let stderr = '';
    child.stderr.on('data', (chunk: Buffer) => (stderr += chunk.toString()));
    child.stdout.on('data', (chunk: Buffer) => {
      pending += chunk.toString();
      const lines = pending.split('\n');
      pending = lines.pop() ?? '';
      for (const line of lines) answers.push(JSON.parse(line) as Answer);
      if (answers.length >= count && child.exitCode === null && !child.killed) child.kill('SIGKILL');
    });
    child.on('error', reject);
    child.on('exit', (code, signal) => {
      if (signal === 'SIGKILL') resolve(answers);
      else reject(new Error(`worker ended by itself (${code}): ${stderr}`));
    });
  });
}

describe('accepted items are durable when answered', () => {
  let dataDir: string;

  beforeEach(() => {
    dataDir = fs.mkdtempSync(path.join(os.tmpdir(), 'rm-durable-'));
  });

  afterEach(async () => {
    await removeTestDataDir(dataDir);
  });

  it('every item answered before a SIGKILL is stored whole: rows, receipt and document blobs', async () => {
    const answers = await answersUntilKilled(dataDir, 60);

    const dataSource = await openTestDatabase(dataDir);
    const contents = defaultContentStore(dataSource, dataDir);
    try {
      expect(answers.length).toBeGreaterThanOrEqual(60);
      for (const answer of answers) {
        expect(
          await dataSource.manager.exists(RegisteredMailItemEntity, { where: { ticket: answer.ticket } }),
        ).toBe(true);
        const receipt = await dataSource.manager.findOneByOrFail(ItemReceiptEntity, {
          ticket: answer.ticket,
        });
        expect(receipt.contentSha256).toBe(answer.receiptSha256);
        expect(createHashOf(await contents.read(answer.receiptSha256))).toBe(answer.receiptSha256);
        expect(createHashOf(await contents.read(answer.documentSha256))).toBe(answer.documentSha256);
      }
      // Nothing half-stored either: every item in the database has its receipt and its document.
      const receipts = await dataSource.manager.find(ItemReceiptEntity);
      for (const receipt of receipts) expect(await contents.has(receipt.contentSha256)).toBe(true);
      const files = await dataSource.manager.find(ItemFileEntity);
      for (const file of files) expect(await contents.has(file.blobSha256)).toBe(true);
      // Both places were used: the larger documents are blob files, the others rows.
      expect(fs.readdirSync(path.join(dataDir, 'blobs')).filter((name) => name !== '.incoming')).not.toEqual(
        [],
      );
      expect(await dataSource.manager.count(ContentChunkEntity)).toBeGreaterThan(answers.length);
    } finally {
      await dataSource.destroy();
    }
  }, 60_000);

  it('concurrent accepts share transactions (and on SQLite, WAL fsyncs)', async () => {
    const dataSource = await openTestDatabase(dataDir);
    let commits = 0;
    dataSource.subscribers.push({ afterTransactionCommit: () => void (commits += 1) });
    const clock = new ManualClock('2025-03-01T10:00:00.000Z');
    const service = new SendDocumentService({
      store: new TypeormItemStore(dataSource, defaultContentStore(dataSource, dataDir)),
      receiptIssuer: new FakeReceiptIssuer(clock),
      clock,
    });
    const staging = defaultStaging(dataDir);
    const durability = walDurabilityOf(dataSource);
    try {
      const before = durability?.flushes ?? 0;
      const receipts = await Promise.all(
        Array.from({ length: 12 }, async (_, index) => {
          const bytes = Buffer.from(`document ${index}`);
          const session = staging.openSession();
          try {
            return await service.send({
              sender: SENDER,
              command: commandFor({ token: `t-${index}`, documentBytes: bytes }),
              document: await stageBytes(session, bytes),
              annexes: [],
              requestId: String(index),
            });
          } finally {
            await session.discard();
          }
        }),
      );
      expect(new Set(receipts.map((receipt) => receipt.ticket)).size).toBe(12);
      expect(await dataSource.manager.count(RegisteredMailItemEntity)).toBe(12);
      expect(commits).toBeGreaterThanOrEqual(1);
      expect(commits).toBeLessThan(12);
      // PostgreSQL makes each COMMIT durable itself; on SQLite the group commit fsyncs the WAL.
      if (onPostgres()) {
        expect(durability).toBeUndefined();
      } else {
        const flushes = (durability?.flushes ?? 0) - before;
        expect(flushes).toBeGreaterThanOrEqual(1);
        expect(flushes).toBeLessThan(12);
      }
    } finally {
      await dataSource.destroy();
    }
  });
});

describe('grouped accepts', () => {
  it('a Token race lost inside one group rolls back the loser only, which names no blob', async () => {
    const dataDir = fs.mkdtempSync(path.join(os.tmpdir(), 'rm-group-'));
    const dataSource = await openTestDatabase(dataDir);
    const clock = new ManualClock('2025-03-01T10:00:00.000Z');
    const store = new TypeormItemStore(dataSource, defaultContentStore(dataSource, dataDir));
    const service = new SendDocumentService({ store, receiptIssuer: new FakeReceiptIssuer(clock), clock });
    const staging = defaultStaging(dataDir);
    try {
      // A first item keeps the group busy, so the next three are stored together: the two rivals for
      // one Token and an unrelated item.
      const documents = ['first', 'rival A', 'rival B', 'unrelated'].map((text) => Buffer.from(text));
      const tokens = ['first', 'contested', 'contested', 'unrelated'];
      const sessions = documents.map(() => staging.openSession());
      const staged = await Promise.all(documents.map((bytes, index) => stageBytes(sessions[index], bytes)));
      const outcomes = await Promise.allSettled(
        documents.map((bytes, index) =>
          service.send({
            sender: SENDER,
            command: commandFor({ token: tokens[index], documentBytes: bytes }),
            document: staged[index],
            annexes: [],
            requestId: String(index),
          }),
        ),
      );
      await Promise.all(sessions.map((session) => session.discard()));

      // Either rival may win; the other is answered REPO_B03 (another request under its Token).
      expect(outcomes[0].status).toBe('fulfilled');
      expect(outcomes[3].status).toBe('fulfilled');
      const [winner, loser] = outcomes[1].status === 'fulfilled' ? [1, 2] : [2, 1];
      expect(outcomes[winner].status).toBe('fulfilled');
      expect((outcomes[loser] as PromiseRejectedResult).reason).toMatchObject({ code: 'REPO_B03' });
      expect(await dataSource.manager.count(RegisteredMailItemEntity)).toBe(3);
      const contents = defaultContentStore(dataSource, dataDir);
      expect(await contents.has(staged[winner].sha256)).toBe(true);
      expect(await contents.has(staged[loser].sha256)).toBe(false);
      expect(await contents.has(staged[3].sha256)).toBe(true);
    } finally {
      await dataSource.destroy();
      await removeTestDataDir(dataDir);
    }
  });
});

function createHashOf(bytes: Buffer): string {
  return createHash('sha256').update(bytes).digest('hex');
}
