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

/** Flushes the file's data to the disk (fsync; F_FULLFSYNC on macOS, as libuv does). */
export type FsyncFile = (file: string) => Promise<void>;

async function fsyncPath(file: string): Promise<void> {
  const handle = await fs.open(file, 'r');
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
  private readonly fsyncFile: FsyncFile;
  private directorySynced = false;
  /** The fsyncs: a running one may have started before the caller's commit, so it does not count for it. */
  private readonly fsyncs = new CoalescedRun(() => this.syncOnce());

  /**
   * @param databasePath the SQLite file
   * @param fsyncFile how a file is flushed (tests count the calls)
   */
  constructor(
    readonly databasePath: string,
    fsyncFile: FsyncFile = fsyncPath,
  ) {
    this.walPath = `${databasePath}-wal`;
    this.fsyncFile = fsyncFile;
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

  private async syncOnce(): Promise<void> {
    try {
      await this.fsyncFile(this.walPath);
    } catch (error) {
      if (!isMissing(error)) throw error;
      // Checkpointed and deleted: the next WAL is a new directory entry, to be synced again.
      this.directorySynced = false;
      return;
    }
    if (!this.directorySynced) {
      try {
        await this.fsyncFile(path.dirname(this.walPath));
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
