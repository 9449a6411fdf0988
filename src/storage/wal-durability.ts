import fs from 'node:fs/promises';
import path from 'node:path';
import type { DataSource } from 'typeorm';
import { CoalescedRun } from './coalesced-run';
import { databaseFileOf } from './serial-access';

/*
 * Why commits are made durable here and not by SQLite (`synchronous = NORMAL`, see data-source.ts):
 *
 * In WAL mode a commit appends its pages and a commit frame to `<db>-wal`. `synchronous = FULL` makes
 * SQLite fsync that file inside every COMMIT, and better-sqlite3 runs COMMIT on the event loop: every
 * write (an accepted item, each replay-cache entry) then stalls the whole service for one disk flush
 * (0.2 ms on a virtual disk, several ms on a real one). With `NORMAL`, COMMIT writes the same frames
 * without fsync; a committed transaction survives a crash of the process at once (the frames are in the
 * kernel's page cache) but not a power loss until the WAL is fsynced. This module does exactly the fsync
 * FULL would have done, off the event loop (libuv thread pool) and once for every commit made so far:
 * the WAL is append-only and SQLite's recovery replays it in order up to the last valid commit frame, so
 * one fsync after N commits makes all N durable (group commit).
 *
 * Why this is the fsync FULL does, and is enough:
 * - the WAL is one file whose inode lives as long as a connection is open (ours is, until destroy());
 *   fsync of any descriptor of it flushes the file's data and size;
 * - when a checkpoint copies frames into the database and the WAL starts over, SQLite (NORMAL) has fsynced
 *   the WAL before and the database after the copy, so frames overwritten by a restarted WAL were durable
 *   already; and when the last connection closes, SQLite checkpoints (with those fsyncs) and deletes the
 *   WAL: ENOENT then means there is nothing left to flush;
 * - SQLite fsyncs the directory of a new WAL on its first own sync, which NORMAL delays to the first
 *   checkpoint; so the first flush here also fsyncs the database's directory.
 *
 * A caller that answers a client with the promise "stored" awaits {@link WalDurability.flush} after its
 * COMMIT. Writes whose loss in a power cut is harmless (the replay cache, see typeorm-replay-store.ts)
 * need not: a later flush covers them too.
 */

/** What the fsyncs need of an open file (a `FileHandle`). */
export interface SyncableFile {
  sync(): Promise<void>;
  close(): Promise<void>;
}

/** Opens a file (read-only) to fsync it; tests count and control the opens. */
export type OpenForSync = (file: string) => Promise<SyncableFile>;

const openReadOnly: OpenForSync = (file) => fs.open(file, 'r');

/** Flushes a file's data to the disk: opened, fsynced (F_FULLFSYNC on macOS, as libuv does), closed. */
async function syncPath(open: OpenForSync, file: string): Promise<void> {
  const handle = await open(file);
  try {
    await handle.sync();
  } finally {
    await handle.close();
  }
}

function isMissing(error: unknown): boolean {
  return (error as NodeJS.ErrnoException | undefined)?.code === 'ENOENT';
}

/**
 * Group commit for one SQLite database file in WAL mode with `synchronous = NORMAL`: {@link flush}
 * resolves once every transaction committed before the call is on the disk.
 */
export class WalDurability {
  /** `<db>-wal` */
  readonly walPath: string;
  private readonly open: OpenForSync;
  private directorySynced = false;
  /** The fsyncs: a running one may have started before the caller's commit, so it does not count for it. */
  private readonly fsyncs = new CoalescedRun(() => this.syncOnce());
  /** How many {@link holdWalOpen} holds are not released. */
  private holds = 0;
  /** The WAL's descriptor, kept between fsyncs while held. */
  private openWal: SyncableFile | undefined;

  /**
   * @param databasePath the SQLite file
   * @param open how a file is opened to be fsynced (tests count the calls)
   */
  constructor(
    readonly databasePath: string,
    open: OpenForSync = openReadOnly,
  ) {
    this.walPath = `${databasePath}-wal`;
    this.open = open;
  }

  /** How many fsyncs of the WAL have been started (grouping shows as fewer flushes than callers). */
  get flushes(): number {
    return this.fsyncs.runs;
  }

  /**
   * Resolves when everything committed to the database before this call is durable; rejects when the
   * fsync fails (then nothing may be promised to a client).
   */
  flush(): Promise<void> {
    return this.fsyncs.request();
  }

  /**
   * Keeps the WAL open between fsyncs until the returned release is called: each flush is then one
   * fsync instead of an open, an fsync and a close (each a trip to libuv's thread pool; together about
   * a third of a flush's CPU). The caller must hold a connection to the database open for as long:
   * SQLite deletes the WAL only when the last connection closes (a later WAL would be another file,
   * which a kept descriptor would not flush), and otherwise starts it over in place. A kept descriptor
   * also hears of a write-back error that happened between two fsyncs, which one opened afterwards
   * would not (Linux reports such an error to the descriptors open at the time).
   *
   * The release closes the descriptor once the running fsyncs are done, when no other hold remains.
   */
  holdWalOpen(): () => Promise<void> {
    this.holds += 1;
    let released = false;
    return async () => {
      if (released) return;
      released = true;
      this.holds -= 1;
      await this.fsyncs.idle();
      if (this.holds > 0 || this.openWal === undefined) return;
      const wal = this.openWal;
      this.openWal = undefined;
      await wal.close();
    };
  }

  private async syncWal(): Promise<void> {
    if (this.holds === 0) return syncPath(this.open, this.walPath);
    this.openWal ??= await this.open(this.walPath);
    await this.openWal.sync();
  }

  private async syncOnce(): Promise<void> {
    try {
      await this.syncWal();
    } catch (error) {
      if (!isMissing(error)) throw error;
      // Checkpointed and deleted: the next WAL is a new directory entry, to be synced again.
      this.directorySynced = false;
      return;
    }
    if (!this.directorySynced) {
      try {
        await syncPath(this.open, path.dirname(this.walPath));
      } catch (error) {
        // Some platforms refuse to fsync a directory: best effort, as for the blob store's directories.
        const code = (error as NodeJS.ErrnoException).code ?? '';
        if (!['EISDIR', 'EPERM', 'EINVAL', 'EBADF'].includes(code)) throw error;
      }
      this.directorySynced = true;
    }
  }
}

const byFile = new Map<string, WalDurability>();

/**
 * The {@link WalDurability} of the DataSource's SQLite file (one per file in this process, so that all
 * stores on the file share the group commit); `undefined` for an in-memory database or a driver that is
 * not SQLite (a server database makes its commits durable itself).
 */
export function walDurabilityOf(dataSource: DataSource): WalDurability | undefined {
  if (dataSource.options.type !== 'better-sqlite3') return undefined;
  const file = databaseFileOf(dataSource);
  if (file === undefined) return undefined;
  let durability = byFile.get(file);
  if (durability === undefined) {
    durability = new WalDurability(file);
    byFile.set(file, durability);
  }
  return durability;
}

/** Awaits the group commit of the DataSource's database (nothing to wait for off SQLite files). */
export async function makeCommitsDurable(dataSource: DataSource): Promise<void> {
  await walDurabilityOf(dataSource)?.flush();
}
