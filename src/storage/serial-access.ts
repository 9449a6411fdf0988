import path from 'node:path';
import type { DataSource } from 'typeorm';

/*
 * Why database access is queued in-process:
 * - TypeORM's better-sqlite3 driver has ONE connection and ONE query runner per DataSource. Two
 *   overlapping `transaction()` calls would not be two transactions: the second becomes a SAVEPOINT
 *   inside the first, and a plain query issued meanwhile runs inside someone else's transaction.
 * - better-sqlite3 is synchronous: when a second DataSource on the same file in the same process
 *   waits for the write lock (busy_timeout), it blocks the event loop, so the holder can never finish.
 * Every access therefore goes through {@link runSerialized} (reads) or {@link runSerializedWrite} (work
 * that writes), queued per database FILE (so two DataSources on one file in one process take turns).
 *
 * Between processes:
 * - processes that share the file by design (the cluster's workers) install a {@link CrossProcessWriteLock}
 *   (`lock-file-write-lock.ts`): work that writes first takes that lock, so at most one of them writes
 *   at a time and the others wait for it with a free event loop. Without it, a writer that
 *   finds the file locked waits inside SQLite's busy handler: a synchronous sleep that blocks the whole
 *   process (every request it serves) until the other commits;
 * - any other process on the file (a second service started separately, a tool) is coordinated by
 *   SQLite's own locking, WAL + busy_timeout, which remains the fallback in every case.
 * Reads never take the cross-process lock: in WAL mode readers do not wait for writers.
 * Pool-based drivers (PostgreSQL) need neither queue nor lock: every access runs at once on a connection
 * of the pool, and the server orders concurrent writers itself (row locks, unique keys).
 */

const SINGLE_CONNECTION_DRIVERS = new Set(['better-sqlite3', 'sqlite', 'sqljs']);

/**
 * A write lock shared by several processes on one SQLite file (one holder at a time; a process's own
 * acquires in call order). {@link acquire} resolves with the function that releases it; the release must
 * be called once, after the work's COMMIT (or rollback).
 */
export interface CrossProcessWriteLock {
  acquire(): Promise<() => void>;
}

let crossProcessWriteLock: CrossProcessWriteLock | undefined;

/**
 * Makes every {@link runSerializedWrite} on a SQLite file in this process take `lock` first (undefined:
 * none, the default, for a process alone on its database or one without a coordinator). Set it before
 * the service opens its database.
 */
export function useCrossProcessWriteLock(lock: CrossProcessWriteLock | undefined): void {
  crossProcessWriteLock = lock;
}

const queuesByFile = new Map<string, Promise<void>>();
const queuesByDataSource = new WeakMap<DataSource, Promise<void>>();
const idle = Promise.resolve();

/**
 * The absolute path of the database file of a single-connection DataSource (SQLite); undefined for an
 * in-memory database, which belongs to its connection alone.
 */
export function databaseFileOf(dataSource: DataSource): string | undefined {
  const database = (dataSource.options as { database?: unknown }).database;
  if (typeof database !== 'string' || database === '' || database === ':memory:') return undefined;
  return path.resolve(database);
}

/** Appends `work` to the in-process queue of the DataSource's database (see the module comment). */
function enqueue<T>(dataSource: DataSource, file: string | undefined, work: () => Promise<T>): Promise<T> {
  const previous = (file !== undefined ? queuesByFile.get(file) : queuesByDataSource.get(dataSource)) ?? idle;
  const current = previous.then(work);
  // The queue moves on whatever this work's outcome is; the caller sees the outcome through `current`.
  const tail = current.then(
    () => undefined,
    () => undefined,
  );
  if (file !== undefined) {
    queuesByFile.set(file, tail);
    // Forget an idle file so the map does not grow with every temp database of a test run.
    void tail.then(() => {
      if (queuesByFile.get(file) === tail) queuesByFile.delete(file);
    });
  } else {
    queuesByDataSource.set(dataSource, tail);
  }
  return current;
}

/**
 * Runs `work`, which only reads, once every earlier access to the same single-connection database has
 * finished, and makes later ones wait for it. Work that writes (even one statement) goes through
 * {@link runSerializedWrite} instead. `work` must not call {@link runSerialized} or
 * {@link runSerializedWrite} for the same database (it would wait for itself).
 */
export async function runSerialized<T>(dataSource: DataSource, work: () => Promise<T>): Promise<T> {
  if (!SINGLE_CONNECTION_DRIVERS.has(dataSource.options.type)) return work();
  return enqueue(dataSource, databaseFileOf(dataSource), work);
}

/**
 * As {@link runSerialized}, for work that writes (a write transaction, or statements that each write):
 * when a {@link CrossProcessWriteLock} is in use, the work takes it before its turn and gives it back
 * once it has settled (after its COMMIT). The lock is taken BEFORE joining the in-process queue, so that
 * reads queued meanwhile are not held up by the wait for another process, and so that nothing in the
 * queue ever waits for the lock (two writes of this process wait at the lock, each for its own turn).
 */
export async function runSerializedWrite<T>(dataSource: DataSource, work: () => Promise<T>): Promise<T> {
  if (!SINGLE_CONNECTION_DRIVERS.has(dataSource.options.type)) return work();
  const file = databaseFileOf(dataSource);
  const lock = crossProcessWriteLock;
  // An in-memory database belongs to this process alone.
  if (lock === undefined || file === undefined) return enqueue(dataSource, file, work);
  const release = await lock.acquire();
  try {
    return await enqueue(dataSource, file, work);
  } finally {
    release();
  }
}
