import { execFile } from 'node:child_process';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { promisify } from 'node:util';
import type { DataSource } from 'typeorm';
import { CheckpointedSqliteDataSource } from '../../src/storage/checkpointed-sqlite-data-source';
import { createDataSource, openDatabase, SQLITE_FILE_NAME } from '../../src/storage/data-source';
import { runSerializedWrite } from '../../src/storage/serial-access';
import {
  WalCheckpointer,
  type HoldWrites,
  type PragmaConnection,
  type WalCheckpointerOptions,
} from '../../src/storage/wal-checkpointer';

/** The connection's own `wal_autocheckpoint` setting (0: it never checkpoints inside a COMMIT). */
async function autocheckpointPages(dataSource: DataSource): Promise<number> {
  const [row] = (await dataSource.query('PRAGMA wal_autocheckpoint')) as { wal_autocheckpoint: number }[];
  return row.wal_autocheckpoint;
}

/** One committed transaction that adds one replay-cache row, queued as the service's writes are. */
async function commitOneRow(dataSource: DataSource, key: string): Promise<void> {
  await runSerializedWrite(dataSource, () =>
    dataSource.transaction((manager) =>
      manager.query('INSERT INTO replay_cache (message_key, expires_at, seen_at) VALUES (?, ?, ?)', [
        key,
        '2026-12-01T00:00:00.000Z',
        '2026-11-28T00:00:00.000Z',
      ]),
    ),
  );
}

/** The rows of the database file alone, read from a copy without its WAL (it must hold the schema). */
async function rowsInDatabaseFileAlone(dataDir: string, copyDir: string): Promise<number> {
  const copy = path.join(fs.mkdtempSync(path.join(copyDir, 'copy-')), SQLITE_FILE_NAME);
  fs.copyFileSync(path.join(dataDir, SQLITE_FILE_NAME), copy);
  const dataSource = createDataSource({ sqlitePath: copy });
  await dataSource.initialize();
  try {
    const [row] = (await dataSource.query('SELECT COUNT(*) AS n FROM replay_cache')) as { n: number }[];
    return row.n;
  } finally {
    await dataSource.destroy();
  }
}

describe('WalCheckpointer (SQLite checkpoints on a thread)', () => {
  let root: string;
  const open: DataSource[] = [];

  beforeEach(() => {
    root = fs.mkdtempSync(path.join(os.tmpdir(), 'rm-wal-checkpointer-'));
  });

  afterEach(async () => {
    for (const dataSource of open.splice(0)) if (dataSource.isInitialized) await dataSource.destroy();
    fs.rmSync(root, { recursive: true, force: true });
  });

  async function openCheckpointed(
    commitsPerCheckpoint: number,
    options: Omit<WalCheckpointerOptions, 'commitsPerCheckpoint'> = {},
  ): Promise<CheckpointedSqliteDataSource> {
    const dataSource = await openDatabase(path.join(root, 'data'), {
      walCheckpointThread: { commitsPerCheckpoint, ...options },
    });
    open.push(dataSource);
    expect(dataSource).toBeInstanceOf(CheckpointedSqliteDataSource);
    return dataSource as CheckpointedSqliteDataSource;
  }

  it('turns off the connection’s own checkpoints; without the option SQLite keeps its default', async () => {
    const checkpointed = await openCheckpointed(64);
    expect(await autocheckpointPages(checkpointed)).toBe(0);
    expect(checkpointed.walCheckpointer).toBeDefined();

    const plain = await openDatabase(path.join(root, 'plain'));
    open.push(plain);
    expect(plain).not.toBeInstanceOf(CheckpointedSqliteDataSource);
    expect(await autocheckpointPages(plain)).toBe(1000);
  });

  it('checkpoints after every n commits, copying the WAL into the database file', async () => {
    const dataSource = await openCheckpointed(3);
    const checkpointer = dataSource.walCheckpointer as WalCheckpointer;
    // The schema the migrations made, into the file (the WAL held it so far).
    await checkpointer.checkpoint();
    expect(checkpointer.checkpoints).toBe(1);

    await commitOneRow(dataSource, 'a');
    await commitOneRow(dataSource, 'b');
    expect(checkpointer.checkpoints).toBe(1);
    expect(await rowsInDatabaseFileAlone(path.join(root, 'data'), root)).toBe(0);

    await commitOneRow(dataSource, 'c');
    expect(checkpointer.checkpoints).toBe(2);
    // One asked for: it runs after the one under way and covers every commit made before it.
    await checkpointer.checkpoint();
    expect(checkpointer.checkpoints).toBe(3);
    for (const key of ['d', 'e', 'f']) await commitOneRow(dataSource, key);
    expect(checkpointer.checkpoints).toBe(4);

    await commitOneRow(dataSource, 'g');
    const outcome = await checkpointer.checkpoint();
    expect(outcome.busy).toBe(false);
    expect(outcome.walFrames).toBeGreaterThan(0);
    expect(outcome.checkpointedFrames).toBe(outcome.walFrames);
    expect(await rowsInDatabaseFileAlone(path.join(root, 'data'), root)).toBe(7);
  });

  it('starts the WAL over after a round that found restartAfterFrames, so it stays bounded', async () => {
    const dataSource = await openCheckpointed(5, { restartAfterFrames: 1 });
    const checkpointer = dataSource.walCheckpointer as WalCheckpointer;
    await checkpointer.checkpoint();
    await commitOneRow(dataSource, 'first');
    const framesOfOneCommit = (await checkpointer.checkpoint()).walFrames;
    expect(framesOfOneCommit).toBeGreaterThan(0);
    // The round left the whole WAL in the database: the next commit starts it over.
    await commitOneRow(dataSource, 'second');
    expect((await checkpointer.checkpoint()).walFrames).toBe(framesOfOneCommit);

    const walFile = path.join(root, 'data', `${SQLITE_FILE_NAME}-wal`);
    // SQLite writes a restarted WAL over the old frames: the file keeps its largest size so far.
    const walBytesBefore = fs.statSync(walFile).size;
    // Rounds started by commits, commits during rounds: after every round the WAL starts over.
    for (let batch = 0; batch < 20; batch += 1) {
      for (let index = 0; index < 5; index += 1) {
        await commitOneRow(dataSource, `batch-${batch}-${index}`);
        await new Promise((resolve) => setImmediate(resolve));
      }
      const outcome = await checkpointer.checkpoint();
      expect(outcome.checkpointedFrames).toBe(outcome.walFrames);
      // Never started over, the WAL would end with the frames of all 102 commits.
      expect(outcome.walFrames).toBeLessThan(framesOfOneCommit * 5 * 2);
    }
    const frameBytes = 24 + 4096;
    expect(fs.statSync(walFile).size).toBeLessThanOrEqual(
      Math.max(walBytesBefore, 32 + framesOfOneCommit * 5 * 2 * frameBytes),
    );
  });

  it('runs a second checkpoint while the writers wait when the WAL is large enough', async () => {
    const heldOutcomes: unknown[] = [];
    const holdWrites: HoldWrites = async (work) => {
      const outcome = await work();
      heldOutcomes.push(outcome);
      return outcome;
    };
    const told: { walFrames: number; writersHeld: boolean }[] = [];
    const dataSource = await openCheckpointed(1000, {
      holdWrites,
      restartAfterFrames: 10,
      onCheckpoint: ({ walFrames }, writersHeld) => told.push({ walFrames, writersHeld }),
    });
    const checkpointer = dataSource.walCheckpointer as WalCheckpointer;
    await checkpointer.checkpoint(); // the migrations' frames: more than 10
    expect(heldOutcomes).toHaveLength(1);
    expect(told.map(({ writersHeld }) => writersHeld)).toEqual([false, true]);
    expect(told[0].walFrames).toBeGreaterThanOrEqual(10);

    // Fewer than 10 frames: one checkpoint, nothing held.
    await commitOneRow(dataSource, 'a');
    const small = await checkpointer.checkpoint();
    expect(small.walFrames).toBeLessThan(10);
    expect(heldOutcomes).toHaveLength(1);

    for (let index = 0; index < 10; index += 1) await commitOneRow(dataSource, `b-${index}`);
    const large = await checkpointer.checkpoint();
    expect(heldOutcomes).toHaveLength(2);
    expect(heldOutcomes[1]).toBe(large);
    // Each checkpoint is told, the held ones as such: [first round], small, [large round].
    expect(told.map(({ writersHeld }) => writersHeld)).toEqual([false, true, false, false, true]);
    expect(told[2].walFrames).toBe(small.walFrames);
  });

  it('counts a statement that writes outside a transaction as a commit, and no read', async () => {
    const dataSource = await openCheckpointed(3);
    const checkpointer = dataSource.walCheckpointer as WalCheckpointer;
    for (let index = 0; index < 5; index += 1) {
      await dataSource.query('SELECT COUNT(*) AS n FROM replay_cache');
    }
    expect(checkpointer.checkpoints).toBe(0);
    await dataSource.query('INSERT INTO replay_cache (message_key, expires_at, seen_at) VALUES (?, ?, ?)', [
      'bare',
      '2026-12-01T00:00:00.000Z',
      '2026-11-28T00:00:00.000Z',
    ]);
    await dataSource.query('UPDATE replay_cache SET seen_at = ? WHERE message_key = ?', ['later', 'bare']);
    expect(checkpointer.checkpoints).toBe(0);
    await dataSource.query('DELETE FROM replay_cache WHERE message_key = ?', ['bare']);
    expect(checkpointer.checkpoints).toBe(1);
  });

  it('asks made while a checkpoint runs share the next one', async () => {
    const dataSource = await openCheckpointed(1000);
    const checkpointer = dataSource.walCheckpointer as WalCheckpointer;
    await commitOneRow(dataSource, 'a');
    const outcomes = await Promise.all([
      checkpointer.checkpoint(),
      checkpointer.checkpoint(),
      checkpointer.checkpoint(),
    ]);
    expect(checkpointer.checkpoints).toBe(2);
    expect(outcomes[1]).toEqual(outcomes[2]);
  });

  it('two connections on one file each checkpoint; neither fails when the other holds the lock', async () => {
    const first = await openCheckpointed(2);
    const second = await openCheckpointed(2);
    for (let index = 0; index < 20; index += 1) {
      await commitOneRow(index % 2 === 0 ? first : second, `key-${index}`);
    }
    const outcomes = await Promise.all([
      (first.walCheckpointer as WalCheckpointer).checkpoint(),
      (second.walCheckpointer as WalCheckpointer).checkpoint(),
    ]);
    expect(
      outcomes.some((outcome) => !outcome.busy && outcome.checkpointedFrames === outcome.walFrames),
    ).toBe(true);
    expect(await rowsInDatabaseFileAlone(path.join(root, 'data'), root)).toBe(20);
  });

  it('destroy() stops the thread; the database closes with everything in its file', async () => {
    const dataSource = await openCheckpointed(64);
    const checkpointer = dataSource.walCheckpointer as WalCheckpointer;
    await commitOneRow(dataSource, 'a');
    await dataSource.destroy();
    expect(dataSource.walCheckpointer).toBeUndefined();
    await expect(checkpointer.checkpoint()).rejects.toThrow('closed');
    expect(fs.existsSync(path.join(root, 'data', `${SQLITE_FILE_NAME}-wal`))).toBe(false);
    expect(await rowsInDatabaseFileAlone(path.join(root, 'data'), root)).toBe(1);
  });

  it('a process closing its database waits for the thread: its last round and its exit', async () => {
    const projectRoot = path.resolve(__dirname, '..', '..');
    const { stdout } = await promisify(execFile)(
      process.execPath,
      [
        '-r',
        'ts-node/register',
        path.join(__dirname, 'wal-checkpointer-exit-worker.ts'),
        path.join(root, 'exit'),
      ],
      {
        cwd: projectRoot,
        env: {
          ...process.env,
          TS_NODE_TRANSPILE_ONLY: 'true',
          TS_NODE_PROJECT: path.join(projectRoot, 'tsconfig.json'),
        },
      },
    );
    expect(stdout.trim().split('\n').pop()).toBe('closed');
    expect(fs.existsSync(path.join(root, 'exit', `${SQLITE_FILE_NAME}-wal`))).toBe(false);
    expect(await rowsInDatabaseFileAlone(path.join(root, 'exit'), root)).toBe(5);
  });

  it('when the thread fails, the connection checkpoints by itself again and the failure is told', async () => {
    const pragmas: string[] = [];
    const connection: PragmaConnection = { pragma: (source) => pragmas.push(source) };
    const failure = new Promise<Error>((resolve) => {
      // The thread cannot open a file that does not exist: it fails at once.
      WalCheckpointer.start(path.join(root, 'missing', 'db.sqlite'), connection, { onFailure: resolve });
    });
    expect((await failure).message).toMatch(/directory does not exist|unable to open/i);
    expect(pragmas).toEqual(['wal_autocheckpoint = 0', 'wal_autocheckpoint = 1000']);
  });

  it('refuses a commit count or a frame count that is not an integer in range', () => {
    const connection: PragmaConnection = { pragma: () => undefined };
    expect(() =>
      WalCheckpointer.start(path.join(root, 'x.sqlite'), connection, { restartAfterFrames: -1 }),
    ).toThrow(RangeError);
    for (const commitsPerCheckpoint of [0, -1, 1.5]) {
      expect(() =>
        WalCheckpointer.start(path.join(root, 'x.sqlite'), connection, { commitsPerCheckpoint }),
      ).toThrow(RangeError);
    }
  });
});
