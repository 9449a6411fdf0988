import { Worker } from 'node:worker_threads';
import { CoalescedRun } from './coalesced-run';

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
 * connection of its own runs `PRAGMA wal_checkpoint(PASSIVE)` after every `commitsPerCheckpoint` commits
 * (see {@link WalCheckpointer.round} for how the WAL starts over).
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
  /**
   * From this many frames in the WAL on, a round makes sure the WAL starts over (see
   * {@link WalCheckpointer.round}); default {@link DEFAULT_RESTART_AFTER_FRAMES}.
   */
  restartAfterFrames?: number;
  /**
   * Runs `work` while every writer of this process waits for it (see {@link WalCheckpointer.round});
   * default: runs it at once (the WAL then starts over only when a write happens to find it all copied).
   */
  holdWrites?: HoldWrites;
  /** Told when the thread failed (the connection then checkpoints by itself again). */
  onFailure?: (error: Error) => void;
  /**
   * Told of every checkpoint the thread ran: `writersHeld` is true for a round's second one, run while the
   * writers waited so that the WAL starts over (see {@link WalCheckpointer.round}).
   */
  onCheckpoint?: (outcome: CheckpointOutcome, writersHeld: boolean) => void;
}

/** What a {@link WalCheckpointer} reports to: every checkpoint, and the thread's failure. */
export type WalCheckpointObserver = Required<Pick<WalCheckpointerOptions, 'onCheckpoint' | 'onFailure'>>;

/** Runs `work` while the writers of the database wait. */
export type HoldWrites = <T>(work: () => Promise<T>) => Promise<T>;

/**
 * Commits between two checkpoints. An accepted item's commit writes 10 to 20 pages to the WAL; 64 of
 * them make about as many pages as SQLite's own threshold of 1000.
 */
export const DEFAULT_COMMITS_PER_CHECKPOINT = 64;

/** Frames (about 16 MiB with 4 KiB pages) from which a round starts the WAL over. */
export const DEFAULT_RESTART_AFTER_FRAMES = 4096;

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

/**
 * Checkpoints one SQLite database file in WAL mode on a worker thread, off the event loop; see the
 * comment at the top of this file. {@link noteCommit} is called after every commit of the connection.
 */
export class WalCheckpointer {
  private commitsSinceCheckpoint = 0;
  /** The rounds: a running one may have started before the caller's commits, so it does not count for them. */
  private readonly rounds = new CoalescedRun(() => this.round());
  /** The thread's answer awaited now (the thread runs one checkpoint at a time). */
  private answer:
    { resolve: (outcome: CheckpointOutcome) => void; reject: (error: Error) => void } | undefined;
  private failure: Error | undefined;
  private closed = false;

  private constructor(
    private readonly worker: Worker,
    private readonly connection: PragmaConnection,
    private readonly commitsPerCheckpoint: number,
    private readonly restartAfterFrames: number,
    private readonly holdWrites: HoldWrites,
    private readonly observer: Partial<WalCheckpointObserver>,
  ) {
    worker.on('message', (outcome: CheckpointOutcome) => {
      const answer = this.answer;
      this.answer = undefined;
      worker.unref();
      answer?.resolve(outcome);
    });
    worker.on('error', (error) => this.fail(error));
    worker.on('exit', (code) => {
      if (!this.closed) this.fail(new Error(`the WAL checkpoint thread exited (code ${code})`));
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
    const frames = options.restartAfterFrames ?? DEFAULT_RESTART_AFTER_FRAMES;
    if (!Number.isSafeInteger(frames) || frames < 0) {
      throw new RangeError('restartAfterFrames must be a non-negative integer');
    }
    const worker = new Worker(THREAD_SOURCE, {
      eval: true,
      workerData: { databasePath, driverPath: require.resolve('better-sqlite3') },
    });
    // An idle thread does not keep the process alive (an open DataSource does not either); one that is
    // checkpointing or closing does, so that its answer is waited for (see checkpointOnThread, close).
    worker.unref();
    connection.pragma('wal_autocheckpoint = 0');
    return new WalCheckpointer(
      worker,
      connection,
      commits,
      frames,
      options.holdWrites ?? ((work) => work()),
      options,
    );
  }

  /** Checkpoint rounds started so far (by commits or by {@link checkpoint}). */
  get checkpoints(): number {
    return this.rounds.runs;
  }

  /** Counts one commit of the connection; every `commitsPerCheckpoint`-th starts a round. */
  noteCommit(): void {
    this.commitsSinceCheckpoint += 1;
    if (this.commitsSinceCheckpoint < this.commitsPerCheckpoint) return;
    this.commitsSinceCheckpoint = 0;
    this.checkpoint().catch(() => undefined); // a failure is reported through onFailure
  }

  /**
   * Resolves with the outcome of a round started after this call (so it covers every commit made before
   * it): everything in the WAL when it started is then in the database file, unless a reader still
   * needed some of it. Rejects when the thread has failed or is closed. Not to be awaited while holding
   * the writes `holdWrites` waits for (it would wait for itself).
   */
  checkpoint(): Promise<CheckpointOutcome> {
    if (this.failure !== undefined) return Promise.reject(this.failure);
    if (this.closed) return Promise.reject(new Error('the WAL checkpointer is closed'));
    return this.rounds.request();
  }

  /**
   * Runs a last round (after the one under way), then stops the thread. The connection stays as it is:
   * closing it, SQLite checkpoints whatever is left.
   */
  async close(): Promise<void> {
    if (this.closed) return;
    await this.checkpoint().catch(() => undefined);
    this.closed = true;
    if (this.failure !== undefined) return;
    const exited = new Promise((resolve) => this.worker.once('exit', resolve));
    this.worker.ref();
    this.worker.postMessage('close');
    await exited;
  }

  /*
   * A round is one PASSIVE checkpoint, which copies while writers go on, and sometimes a second one. The
   * WAL starts over only when a write transaction begins while every frame is in the database, which
   * under load, with commits arriving all the time, hardly ever happens: the WAL would grow for as long as
   * the load lasts. So once it holds `restartAfterFrames` frames, a second checkpoint runs while the
   * writers wait (asynchronously, at `holdWrites`: the event loop stays free; the service's write queue,
   * and in a cluster the workers' shared write lock) and copies the few frames committed meanwhile; the
   * next write then starts the WAL over. That pause lasts about two fsyncs
   * (6 ms at the median on this machine's virtual disk), hence not every round.
   */
  private async round(): Promise<CheckpointOutcome> {
    const outcome = await this.checkpointOnThread(false);
    if (outcome.walFrames < this.restartAfterFrames) return outcome;
    return this.holdWrites(() => this.checkpointOnThread(true));
  }

  private async checkpointOnThread(writersHeld: boolean): Promise<CheckpointOutcome> {
    if (this.failure !== undefined) throw this.failure;
    const outcome = await new Promise<CheckpointOutcome>((resolve, reject) => {
      this.answer = { resolve, reject };
      this.worker.ref();
      this.worker.postMessage('checkpoint');
    });
    this.observer.onCheckpoint?.(outcome, writersHeld);
    return outcome;
  }

  private fail(error: Error): void {
    if (this.failure !== undefined) return;
    this.failure = error;
    try {
      this.connection.pragma(`wal_autocheckpoint = ${SQLITE_DEFAULT_AUTOCHECKPOINT_PAGES}`);
    } catch {
      // The connection is closed already: nothing left to checkpoint from it.
    }
    const answer = this.answer;
    this.answer = undefined;
    answer?.reject(error);
    this.observer.onFailure?.(error);
  }
}
