import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import type { DataSource } from 'typeorm';
import { CheckpointedSqliteDataSource } from '../../src/storage/checkpointed-sqlite-data-source';
import { createDataSource, openDatabase, SQLITE_FILE_NAME } from '../../src/storage/data-source';
import { WalCheckpointer, type PragmaConnection } from '../../src/storage/wal-checkpointer';

/** The connection's own `wal_autocheckpoint` setting (0: it never checkpoints inside a COMMIT). */
async function autocheckpointPages(dataSource: DataSource): Promise<number> {
  const [row] = (await dataSource.query('PRAGMA wal_autocheckpoint')) as { wal_autocheckpoint: number }[];
  return row.wal_autocheckpoint;
}

/** One committed transaction that adds one replay-cache row. */
async function commitOneRow(dataSource: DataSource, key: string): Promise<void> {
  await dataSource.transaction((manager) =>
    manager.query('INSERT INTO replay_cache (message_key, expires_at, seen_at) VALUES (?, ?, ?)', [
      key,
      '2026-12-01T00:00:00.000Z',
      '2026-11-28T00:00:00.000Z',
    ]),
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

  async function openCheckpointed(commitsPerCheckpoint: number): Promise<CheckpointedSqliteDataSource> {
    const dataSource = await openDatabase(path.join(root, 'data'), {
      walCheckpointThread: { commitsPerCheckpoint },
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

  it('refuses a commit count that is not a positive integer', () => {
    const connection: PragmaConnection = { pragma: () => undefined };
    for (const commitsPerCheckpoint of [0, -1, 1.5]) {
      expect(() =>
        WalCheckpointer.start(path.join(root, 'x.sqlite'), connection, { commitsPerCheckpoint }),
      ).toThrow(RangeError);
    }
  });
});
