import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { openDatabase, SQLITE_FILE_NAME } from '../../src/storage/data-source';
import { walDurabilityOf, WalDurability, type SyncableFile } from '../../src/storage/wal-durability';

const nextTurn = () => new Promise<void>((resolve) => setImmediate(resolve));

/**
 * Files opened for fsync whose fsyncs complete when the test says so, recording what was opened,
 * flushed and closed.
 */
class ControlledFsync {
  /** The files fsynced, in order. */
  readonly calls: string[] = [];
  readonly opens: string[] = [];
  readonly closes: string[] = [];
  private readonly releases: (() => void)[] = [];
  failNext: Error | undefined;

  readonly open = (file: string): Promise<SyncableFile> => {
    this.opens.push(file);
    return Promise.resolve({
      sync: () => this.fsync(file),
      close: () => {
        this.closes.push(file);
        return Promise.resolve();
      },
    });
  };

  private fsync(file: string): Promise<void> {
    this.calls.push(file);
    const failure = this.failNext;
    this.failNext = undefined;
    return new Promise<void>((resolve, reject) => {
      this.releases.push(() => (failure ? reject(failure) : resolve()));
    });
  }

  /** Completes the oldest pending fsync and lets its continuations run. */
  async completeOne(): Promise<void> {
    // The fsync starts once its file is open (a few turns of the event loop at most).
    for (let turn = 0; turn < 5 && this.releases.length === 0; turn += 1) await nextTurn();
    const release = this.releases.shift();
    if (!release) throw new Error('no fsync is pending');
    release();
    await nextTurn();
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
    const durability = new WalDurability(database, fsync.open);
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
    const durability = new WalDurability(database, fsync.open);
    const running = durability.flush();
    // Committed while the first fsync runs: that fsync may have missed them.
    const late = [durability.flush(), durability.flush(), durability.flush()];
    await nextTurn();
    expect(fsync.pending).toBe(1);

    await fsync.completeOne(); // the WAL
    await fsync.completeOne(); // the directory
    await running;
    expect(await settled(late[0])).toBe(false);
    await nextTurn();
    expect(fsync.pending).toBe(1); // one fsync for the three late callers

    await fsync.completeOne();
    await Promise.all(late);
    expect(durability.flushes).toBe(2);
  });

  it('a failed fsync rejects its callers; the next flush tries again', async () => {
    const fsync = new ControlledFsync();
    const durability = new WalDurability(database, fsync.open);
    fsync.failNext = Object.assign(new Error('EIO'), { code: 'EIO' });
    const failing = durability.flush();
    await fsync.completeOne();
    await expect(failing).rejects.toThrow('EIO');

    const retried = durability.flush();
    await fsync.completeOne();
    await fsync.completeOne();
    await expect(retried).resolves.toBeUndefined();
  });

  it('unheld, each fsync opens and closes the WAL; held, it stays open until the release', async () => {
    const fsync = new ControlledFsync();
    const durability = new WalDurability(database, fsync.open);
    const wal = `${database}-wal`;
    const first = durability.flush();
    await fsync.completeOne(); // the WAL
    await fsync.completeOne(); // the directory
    await first;
    expect(fsync.opens).toEqual([wal, path.dirname(database)]);
    expect(fsync.closes).toEqual(fsync.opens);

    const release = durability.holdWalOpen();
    for (let round = 0; round < 3; round += 1) {
      const flushed = durability.flush();
      await fsync.completeOne();
      await flushed;
    }
    expect(fsync.calls.filter((file) => file === wal)).toHaveLength(4);
    expect(fsync.opens).toEqual([wal, path.dirname(database), wal]);
    expect(fsync.closes).toEqual([wal, path.dirname(database)]);

    // Released while an fsync runs on the descriptor: closed once that fsync is done.
    const running = durability.flush();
    const released = release();
    expect(await settled(released)).toBe(false);
    expect(fsync.closes).toHaveLength(2);
    await fsync.completeOne();
    await Promise.all([running, released]);
    expect(fsync.closes).toEqual([wal, path.dirname(database), wal]);
    await release(); // a second call does nothing
    expect(fsync.closes).toHaveLength(3);

    // Unheld again: open, fsync, close.
    const later = durability.flush();
    await fsync.completeOne();
    await later;
    expect(fsync.opens).toHaveLength(4);
    expect(fsync.closes).toHaveLength(4);
  });

  it('the descriptor stays while another hold remains', async () => {
    const fsync = new ControlledFsync();
    const durability = new WalDurability(database, fsync.open);
    const releaseOne = durability.holdWalOpen();
    const releaseOther = durability.holdWalOpen();
    const flushed = durability.flush();
    await fsync.completeOne();
    await fsync.completeOne();
    await flushed;
    await releaseOne();
    expect(fsync.closes).toEqual([path.dirname(database)]);
    await releaseOther();
    expect(fsync.closes).toEqual([path.dirname(database), `${database}-wal`]);
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

  it("the service's DataSource keeps one descriptor of its WAL from its first flush to destroy()", async () => {
    const dataDir = fs.mkdtempSync(path.join(os.tmpdir(), 'rm-wal-'));
    const wal = path.join(dataDir, `${SQLITE_FILE_NAME}-wal`);
    /** This process's descriptors of the WAL (Linux: /proc/self/fd). */
    const walDescriptors = () =>
      fs.readdirSync('/proc/self/fd').filter((fd) => {
        try {
          return fs.readlinkSync(`/proc/self/fd/${fd}`) === wal;
        } catch {
          return false; // closed meanwhile (e.g. the directory's own descriptor)
        }
      });
    const dataSource = await openDatabase(dataDir, { walCheckpointThread: {} });
    try {
      // SQLite's own connection has the WAL open; the fsyncs' descriptor comes on top of it.
      const sqliteOwn = walDescriptors().length;
      const durability = walDurabilityOf(dataSource);
      for (let round = 0; round < 3; round += 1) {
        await dataSource.query(
          `INSERT INTO replay_cache VALUES ('k${round}', '2030-01-01T00:00:00.000Z', 'x')`,
        );
        await durability?.flush();
        expect(walDescriptors()).toHaveLength(sqliteOwn + 1);
      }
      await dataSource.destroy();
      expect(walDescriptors()).toHaveLength(0);
      // Open again: a new WAL, flushed through a new descriptor.
      await dataSource.initialize();
      await dataSource.query("INSERT INTO replay_cache VALUES ('k9', '2030-01-01T00:00:00.000Z', 'x')");
      await durability?.flush();
      expect(walDescriptors()).toHaveLength(sqliteOwn + 1);
    } finally {
      if (dataSource.isInitialized) await dataSource.destroy();
      fs.rmSync(dataDir, { recursive: true, force: true });
    }
  });
});
