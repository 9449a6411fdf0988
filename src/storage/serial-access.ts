import path from 'node:path';
import type { DataSource } from 'typeorm';

/*
 * Why database access is queued in-process:
 * - TypeORM's better-sqlite3 driver has ONE connection and ONE query runner per DataSource. Two
 *   overlapping `transaction()` calls would not be two transactions: the second becomes a SAVEPOINT
 *   inside the first, and a plain query issued meanwhile runs inside someone else's transaction.
 * - better-sqlite3 is synchronous: when a second DataSource on the same file in the same process
 *   waits for the write lock (busy_timeout), it blocks the event loop, so the holder can never finish.
 * Every access therefore goes through {@link runSerialized}, queued per database FILE (so two
 * DataSources on one file in one process take turns). Separate processes are coordinated by SQLite's
 * own locking (WAL + busy_timeout). Pool-based drivers (PostgreSQL later) need no queue.
 */

const SINGLE_CONNECTION_DRIVERS = new Set(['better-sqlite3', 'sqlite', 'sqljs']);

const queuesByFile = new Map<string, Promise<void>>();
const queuesByDataSource = new WeakMap<DataSource, Promise<void>>();
const idle = Promise.resolve();

function fileOf(dataSource: DataSource): string | undefined {
  const database = (dataSource.options as { database?: unknown }).database;
  if (typeof database !== 'string' || database === '' || database === ':memory:') return undefined;
  return path.resolve(database);
}

/**
 * Runs `work` once every earlier access to the same single-connection database has finished, and makes
 * later ones wait for it. `work` must not call {@link runSerialized} for the same database (it would
 * wait for itself).
 */
export async function runSerialized<T>(dataSource: DataSource, work: () => Promise<T>): Promise<T> {
  if (!SINGLE_CONNECTION_DRIVERS.has(dataSource.options.type)) return work();
  const file = fileOf(dataSource);
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
