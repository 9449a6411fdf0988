import { Worker } from 'node:worker_threads';

/*
 * Why SQLite's WAL is checkpointed on a thread of our own:
 *
 * By default SQLite checkpoints inside the COMMIT that takes the WAL past 1000 pages: it copies the WAL's
 * pages into the database file and fsyncs both (`synchronous = NORMAL` syncs at checkpoints). better-
 * sqlite3 runs COMMIT on the event loop, so one request in about fifty stalled the whole process for the
 * checkpoint (3.7 ms at the 99th percentile of COMMITs under load, 12 ms and more at worst on this
 * machine's virtual disk, longer on a large database), and in a cluster it did so while holding the
 * cluster's write lock (cluster-write-lock.ts), so the other workers' writes waited too.
 *
 * Here the service's connection does not checkpoint (`wal_autocheckpoint = 0`); a worker thread with a
 * connection of its own runs `PRAGMA wal_checkpoint(PASSIVE)` after every `commitsPerCheckpoint` commits.
 * A PASSIVE checkpoint takes no lock that a reader or a writer waits for: it copies what no reader still
 * needs and leaves the rest for the next one; SQLite starts the WAL over at the next write once all of
 * it is in the database. Several processes on one file each run their own thread; of two checkpoints at
 * once, one finds the checkpointer's lock taken and returns at once (busy), which is harmless.
 *
 * Should the thread fail, the connection checkpoints by itself again (SQLite's default threshold), so
 * the WAL never grows without bound.
 */

/** The part of a better-sqlite3 `Database` the checkpointer uses: the service's own connection. */
export interface PragmaConnection {
  pragma(source: string): unknown;
}

/** What one PASSIVE checkpoint reported (`PRAGMA wal_checkpoint`). */
export interface CheckpointOutcome {
  /** Another connection was checkpointing: nothing was done this time. */
  busy: boolean;
  /** Frames in the WAL when the checkpoint ran. */
  walFrames: number;
  /** Frames of those that are now in the database file. */
  checkpointedFrames: number;
}

/** Options of {@link WalCheckpointer.start}. */
export interface WalCheckpointerOptions {
  /** A checkpoint runs after this many commits (default {@link DEFAULT_COMMITS_PER_CHECKPOINT}). */
  commitsPerCheckpoint?: number;
  /** Told when the thread failed (the connection then checkpoints by itself again). */
  onFailure?: (error: Error) => void;
}

/**
 * Commits between two checkpoints. An accepted item's commit writes 10 to 20 pages to the WAL; 64 of
 * them make about as many pages as SQLite's own threshold of 1000.
 */
export const DEFAULT_COMMITS_PER_CHECKPOINT = 64;

/** SQLite's default `wal_autocheckpoint`, restored on the connection when the thread fails. */
const SQLITE_DEFAULT_AUTOCHECKPOINT_PAGES = 1000;

/*
 * The thread's code. Plain JavaScript evaluated by the Worker, so that it runs the same from the built
 * service and from the TypeScript tests; it loads the driver the service uses (`workerData.driverPath`).
 */
const THREAD_SOURCE = `
const { parentPort, workerData } = require('node:worker_threads');
const Database = require(workerData.driverPath);
const database = new Database(workerData.databasePath, { fileMustExist: true });
database.pragma('synchronous = NORMAL');
parentPort.on('message', (message) => {
  if (message === 'close') {
    database.close();
    parentPort.close();
    return;
  }
  const [row] = database.pragma('wal_checkpoint(PASSIVE)');
  parentPort.postMessage({ busy: row.busy !== 0, walFrames: row.log, checkpointedFrames: row.checkpointed });
});
`;

type Waiter = { resolve: (outcome: CheckpointOutcome) => void; reject: (error: Error) => void };

/**
 * Checkpoints one SQLite database file in WAL mode on a worker thread, off the event loop; see the
 * comment at the top of this file. {@link noteCommit} is called after every commit of the connection.
 */
export class WalCheckpointer {
  private readonly commitsPerCheckpoint: number;
  private commitsSinceCheckpoint = 0;
  /** Callers of the checkpoint running now. */
  private running: Waiter[] | undefined;
  /** Callers of the checkpoint that runs when the running one ends (it may have missed their commits). */
  private queued: Waiter[] | undefined;
  private failure: Error | undefined;
  private closed = false;
  private checkpointCount = 0;

  private constructor(
    private readonly worker: Worker,
    private readonly connection: PragmaConnection,
    options: WalCheckpointerOptions,
  ) {
    this.commitsPerCheckpoint = options.commitsPerCheckpoint ?? DEFAULT_COMMITS_PER_CHECKPOINT;
    worker.on('message', (outcome: CheckpointOutcome) => this.finished(outcome));
    worker.on('error', (error) => this.fail(error, options.onFailure));
    worker.on('exit', (code) => {
      if (!this.closed)
        this.fail(new Error(`the WAL checkpoint thread exited (code ${code})`), options.onFailure);
    });
  }

  /**
   * Turns off the connection's own checkpoints and starts the thread on `databasePath` (an existing
   * SQLite file in WAL mode, the one `connection` has open).
   */
  static start(
    databasePath: string,
    connection: PragmaConnection,
    options: WalCheckpointerOptions = {},
  ): WalCheckpointer {
    const commits = options.commitsPerCheckpoint ?? DEFAULT_COMMITS_PER_CHECKPOINT;
    if (!Number.isSafeInteger(commits) || commits < 1) {
      throw new RangeError('commitsPerCheckpoint must be a positive integer');
    }
    const worker = new Worker(THREAD_SOURCE, {
      eval: true,
      workerData: { databasePath, driverPath: require.resolve('better-sqlite3') },
    });
    // The thread never keeps the process alive: an open DataSource is what does.
    worker.unref();
    connection.pragma('wal_autocheckpoint = 0');
    return new WalCheckpointer(worker, connection, options);
  }

  /** Checkpoints started so far (by commits or by {@link checkpoint}). */
  get checkpoints(): number {
    return this.checkpointCount;
  }

  /** Counts one commit of the connection; every `commitsPerCheckpoint`-th starts a checkpoint. */
  noteCommit(): void {
    this.commitsSinceCheckpoint += 1;
    if (this.commitsSinceCheckpoint < this.commitsPerCheckpoint) return;
    this.commitsSinceCheckpoint = 0;
    this.checkpoint().catch(() => undefined); // a failure is reported through onFailure
  }

  /**
   * Resolves with the outcome of a checkpoint started after this call (so it covers every commit made
   * before it); rejects when the thread has failed or is closed.
   */
  checkpoint(): Promise<CheckpointOutcome> {
    if (this.failure !== undefined) return Promise.reject(this.failure);
    if (this.closed) return Promise.reject(new Error('the WAL checkpointer is closed'));
    return new Promise((resolve, reject) => {
      const waiter = { resolve, reject };
      if (this.running === undefined) {
        this.running = [waiter];
        this.post();
      } else {
        this.queued ??= [];
        this.queued.push(waiter);
      }
    });
  }

  /**
   * Runs a last checkpoint (after the one under way), then stops the thread. The connection stays as it
   * is: closing it, SQLite checkpoints whatever is left.
   */
  async close(): Promise<void> {
    if (this.closed) return;
    await this.checkpoint().catch(() => undefined);
    this.closed = true;
    if (this.failure !== undefined) return;
    const exited = new Promise((resolve) => this.worker.once('exit', resolve));
    this.worker.postMessage('close');
    await exited;
  }

  private post(): void {
    this.checkpointCount += 1;
    this.worker.postMessage('checkpoint');
  }

  private finished(outcome: CheckpointOutcome): void {
    const done = this.running ?? [];
    this.running = this.queued;
    this.queued = undefined;
    if (this.running !== undefined) this.post();
    for (const waiter of done) waiter.resolve(outcome);
  }

  private fail(error: Error, onFailure: ((error: Error) => void) | undefined): void {
    if (this.failure !== undefined) return;
    this.failure = error;
    try {
      this.connection.pragma(`wal_autocheckpoint = ${SQLITE_DEFAULT_AUTOCHECKPOINT_PAGES}`);
    } catch {
      // The connection is closed already: nothing left to checkpoint from it.
    }
    for (const waiter of [this.running ?? [], this.queued ?? []].flat()) waiter.reject(error);
    this.running = undefined;
    this.queued = undefined;
    onFailure?.(error);
  }
}
