import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { openDatabase, SQLITE_FILE_NAME } from '../../src/storage/data-source';
import { walDurabilityOf, WalDurability } from '../../src/storage/wal-durability';

/** An fsync that completes when the test says so, recording what it was asked to flush. */
class ControlledFsync {
  readonly calls: string[] = [];
  private readonly releases: (() => void)[] = [];
  failNext: Error | undefined;

  readonly fsync = (file: string): Promise<void> => {
    this.calls.push(file);
    const failure = this.failNext;
    this.failNext = undefined;
    return new Promise<void>((resolve, reject) => {
      this.releases.push(() => (failure ? reject(failure) : resolve()));
    });
  };

  /** Completes the oldest pending fsync and lets its continuations run. */
  async completeOne(): Promise<void> {
    const release = this.releases.shift();
    if (!release) throw new Error('no fsync is pending');
    release();
    await new Promise<void>((resolve) => setImmediate(resolve));
  }

  get pending(): number {
    return this.releases.length;
  }
}

const settled = async (promise: Promise<unknown>): Promise<boolean> => {
  let done = false;
  promise.then(
    () => (done = true),
    () => (done = true),
  );
  await new Promise<void>((resolve) => setImmediate(resolve));
  return done;
};

describe('WalDurability (group commit of the SQLite WAL)', () => {
  const database = path.join(os.tmpdir(), 'no-such-dir', 'db.sqlite');

  it('the first flush fsyncs the WAL, then its directory (once)', async () => {
    const fsync = new ControlledFsync();
    const durability = new WalDurability(database, fsync.fsync);
    const first = durability.flush();
    await fsync.completeOne();
    await fsync.completeOne();
    await first;
    expect(fsync.calls).toEqual([`${database}-wal`, path.dirname(database)]);

    const second = durability.flush();
    await fsync.completeOne();
    await second;
    expect(fsync.calls).toEqual([`${database}-wal`, path.dirname(database), `${database}-wal`]);
  });

  it('callers arriving during a flush share the next one, which starts after the running one', async () => {
    const fsync = new ControlledFsync();
    const durability = new WalDurability(database, fsync.fsync);
    const running = durability.flush();
    // Committed while the first fsync runs: that fsync may have missed them.
    const late = [durability.flush(), durability.flush(), durability.flush()];
    expect(fsync.pending).toBe(1);

    await fsync.completeOne(); // the WAL
    await fsync.completeOne(); // the directory
    await running;
    expect(await settled(late[0])).toBe(false);
    expect(fsync.pending).toBe(1); // one fsync for the three late callers

    await fsync.completeOne();
    await Promise.all(late);
    expect(durability.flushes).toBe(2);
  });

  it('a failed fsync rejects its callers; the next flush tries again', async () => {
    const fsync = new ControlledFsync();
    const durability = new WalDurability(database, fsync.fsync);
    fsync.failNext = Object.assign(new Error('EIO'), { code: 'EIO' });
    const failing = durability.flush();
    await fsync.completeOne();
    await expect(failing).rejects.toThrow('EIO');

    const retried = durability.flush();
    await fsync.completeOne();
    await fsync.completeOne();
    await expect(retried).resolves.toBeUndefined();
  });

  it('a missing WAL (checkpointed and deleted) is nothing to flush', async () => {
    const durability = new WalDurability(database);
    await expect(durability.flush()).resolves.toBeUndefined();
  });

  it('one instance per database file, none for an in-memory database; flushes a real WAL', async () => {
    const dataDir = fs.mkdtempSync(path.join(os.tmpdir(), 'rm-wal-'));
    const dataSource = await openDatabase(dataDir);
    try {
      const durability = walDurabilityOf(dataSource);
      expect(durability).toBe(walDurabilityOf(dataSource));
      expect(durability?.walPath).toBe(path.join(dataDir, `${SQLITE_FILE_NAME}-wal`));
      await dataSource.query("INSERT INTO replay_cache VALUES ('k', '2030-01-01T00:00:00.000Z', 'x')");
      expect(fs.existsSync(path.join(dataDir, `${SQLITE_FILE_NAME}-wal`))).toBe(true);
      await expect(durability?.flush()).resolves.toBeUndefined();
    } finally {
      await dataSource.destroy();
      fs.rmSync(dataDir, { recursive: true, force: true });
    }
  });
});
