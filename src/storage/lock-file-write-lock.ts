import { performance } from 'node:perf_hooks';
import type { CrossProcessWriteLock } from './serial-access';

/** The part of a better-sqlite3 connection the lock uses (the package ships no types). */
interface SqliteConnection {
  pragma(source: string): unknown;
  prepare(source: string): { run(): unknown };
  close(): void;
}

type SqliteDatabase = new (file: string, options: { timeout: number }) => SqliteConnection;

// eslint-disable-next-line @typescript-eslint/no-require-imports
const Database = require('better-sqlite3') as SqliteDatabase;

/*
 * The single-writer discipline of the processes sharing one SQLite file (the cluster's workers), with no
 * coordinator and no message between them: a write first takes the write lock of a small SQLite file of
 * its own beside the database, `<db>.write-lock`, in WAL mode. BEGIN IMMEDIATE takes that file's WAL
 * write lock (a byte-range lock of its -shm, a few µs: no page is read or written) and ROLLBACK gives it
 * back; nothing is ever written to it.
 *
 * Why not wait in SQLite's busy handler on the database itself: better-sqlite3 is synchronous, so the
 * waiting process would sleep (1, 2, 5, 10 ms … steps) with its event loop blocked, every request it
 * serves stalled until the other process commits. Here BEGIN IMMEDIATE is tried with no busy timeout:
 * when another process holds the lock, the attempt fails at once and is made again from the event loop
 * (at its next turns, then every millisecond), which meanwhile goes on serving requests. A process that
 * dies holding the lock loses it with its file locks (the operating system drops them). The database's
 * own busy timeout stays underneath for processes that do not take this lock (a tool on the same file).
 *
 * It replaces a lock granted by the cluster's primary over IPC: three messages per transaction, each
 * waiting its turn in two busy event loops (≈ 6 ms per grant under load), against two SQLite calls.
 */

/** Turns of the event loop a waiting acquire retries at before it retries every millisecond. */
const IMMEDIATE_RETRIES = 8;

/** How long a start-up that found the new lock file being converted to WAL sleeps before trying again. */
const WAL_SWITCH_RETRY_MS = 2;

/** The error of an acquire that waited `timeoutMs` in vain: the database counts as busy (SOA-02002). */
export class WriteLockTimeoutError extends Error {
  /** As SQLite's own busy error, so that storage errors map it the same way. */
  readonly code = 'SQLITE_BUSY';

  constructor(file: string, timeoutMs: number) {
    super(`the write lock ${file} was held by another process for more than ${timeoutMs} ms`);
    this.name = 'WriteLockTimeoutError';
  }
}

/** Options of {@link LockFileWriteLock}. */
export interface LockFileWriteLockOptions {
  /** How long an acquire waits for another process before it fails (ms; the database's busy timeout). */
  timeoutMs: number;
  /** A monotonic time in ms (tests move it); `performance.now()` by default. */
  now?: () => number;
}

/** SQLITE_BUSY or one of its extended codes (SQLITE_BUSY_RECOVERY, SQLITE_BUSY_SNAPSHOT, …). */
function isBusy(error: unknown): boolean {
  const code = (error as { code?: unknown } | undefined)?.code;
  return typeof code === 'string' && code.startsWith('SQLITE_BUSY');
}

/** The lock file of the SQLite database `databaseFile`. */
export function writeLockFileOf(databaseFile: string): string {
  return `${databaseFile}.write-lock`;
}

/**
 * The write lock of one SQLite database shared with other processes (see the module comment). Acquires
 * of this process are served one at a time, in call order; each then waits for the other processes.
 */
export class LockFileWriteLock implements CrossProcessWriteLock {
  readonly file: string;
  private readonly connection: SqliteConnection;
  private readonly begin: { run(): unknown };
  private readonly rollback: { run(): unknown };
  private readonly timeoutMs: number;
  private readonly now: () => number;
  /** Settles when the last acquire of this process has released (or failed). */
  private tail: Promise<void> = Promise.resolve();

  /**
   * Opens (creating it if need be) the lock file of `databaseFile`; other processes may be opening it
   * at the same time.
   * @throws the SQLite error when the file cannot be opened or put in WAL mode
   */
  constructor(databaseFile: string, options: LockFileWriteLockOptions) {
    this.file = writeLockFileOf(databaseFile);
    this.timeoutMs = options.timeoutMs;
    this.now = options.now ?? (() => performance.now());
    this.connection = new Database(this.file, { timeout: this.timeoutMs });
    try {
      this.switchToWal();
      this.connection.pragma('busy_timeout = 0');
      this.begin = this.connection.prepare('BEGIN IMMEDIATE');
      this.rollback = this.connection.prepare('ROLLBACK');
    } catch (error) {
      this.connection.close();
      throw error;
    }
  }

  /**
   * Resolves with the release once this process holds the lock; the release gives it back (once,
   * however often it is called).
   * @throws WriteLockTimeoutError after `timeoutMs` of another process holding it; the SQLite error
   *   when the lock file fails otherwise
   */
  async acquire(): Promise<() => void> {
    const previous = this.tail;
    let done!: () => void;
    this.tail = new Promise((resolve) => (done = resolve));
    await previous;
    try {
      await this.takeFileLock();
    } catch (error) {
      done();
      throw error;
    }
    let released = false;
    return () => {
      if (released) return;
      released = true;
      try {
        this.rollback.run();
      } finally {
        done();
      }
    };
  }

  /**
   * Puts the lock file in WAL mode (a no-op once it is). Processes starting together may convert the new
   * file at the same moment, and SQLite answers that busy at once, whatever the busy timeout: it is
   * tried again, a few milliseconds later (blocking: once, at start-up), for at most the timeout.
   */
  private switchToWal(): void {
    const deadline = this.now() + this.timeoutMs;
    for (;;) {
      try {
        this.connection.pragma('journal_mode = WAL');
        return;
      } catch (error) {
        if (!isBusy(error) || this.now() >= deadline) throw error;
        Atomics.wait(new Int32Array(new SharedArrayBuffer(4)), 0, 0, WAL_SWITCH_RETRY_MS);
      }
    }
  }

  /** Closes the lock file (any lock held is given back with it). */
  close(): void {
    this.connection.close();
  }

  private takeFileLock(): Promise<void> {
    const deadline = this.now() + this.timeoutMs;
    return new Promise((resolve, reject) => {
      let attempts = 0;
      const attempt = () => {
        try {
          this.begin.run();
          resolve();
          return;
        } catch (error) {
          if (!isBusy(error)) {
            reject(error);
            return;
          }
        }
        attempts += 1;
        if (this.now() >= deadline) reject(new WriteLockTimeoutError(this.file, this.timeoutMs));
        else if (attempts <= IMMEDIATE_RETRIES) setImmediate(attempt);
        else setTimeout(attempt, 1);
      };
      attempt();
    });
  }
}
