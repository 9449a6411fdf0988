import cluster, { type Worker } from 'node:cluster';
import type { Clock } from '../clock/clock';
import type { Logger } from '../logging/logger';
import { isWorkerReadyMessage, type WorkerShutdownMessage } from './cluster-messages';
import { WorkerDeaths } from './restart-backoff';

/** "exit code 1" or "signal SIGKILL". */
function describeExit(code: number | null, signal: string | null): string {
  return signal ? `signal ${signal}` : `exit code ${code}`;
}

const SHUTDOWN: WorkerShutdownMessage = { type: 'registered-mail:shutdown' };

/**
 * The primary's side of the worker processes (node:cluster, which shares the listening socket among
 * them): forks them, replaces one that dies while the service runs (after a backoff, see
 * `restart-backoff.ts`), and stops them all on request, each finishing its work in flight.
 */
export class WorkerSupervisor {
  private phase: 'idle' | 'starting' | 'running' | 'stopping' = 'idle';
  private readonly workers = new Set<Worker>();
  private readonly restartTimers = new Set<NodeJS.Timeout>();
  private readonly deaths = new WorkerDeaths();
  private stopped: Promise<boolean> | undefined;
  private everyWorkerClean = true;
  private onLastExit: (() => void) | undefined;

  /**
   * @param count how many workers run at once
   * @param env settings added to the primary's environment for every worker (e.g. RM_EBOX_URL)
   */
  constructor(
    private readonly count: number,
    private readonly env: Record<string, string>,
    private readonly clock: Clock,
    private readonly log: Logger,
  ) {
    if (!Number.isSafeInteger(count) || count < 1) throw new RangeError('count must be a positive integer');
  }

  /**
   * Forks the workers and resolves with the URL they answer on once every one is ready.
   * @throws Error when a worker ends before it is ready (its own error is on its stderr); the others
   *   are then still running: {@link stop} them
   */
  async start(): Promise<string> {
    if (this.phase !== 'idle') throw new Error('the workers were started already');
    this.phase = 'starting';
    const urls = await Promise.all(Array.from({ length: this.count }, () => this.fork()));
    if (this.phase === 'starting') this.phase = 'running';
    return urls[0];
  }

  /** The process ids of the workers now running. */
  pids(): number[] {
    return [...this.workers].map((worker) => worker.process.pid).filter((pid) => pid !== undefined);
  }

  /**
   * Asks every worker to stop (no new requests; those under way, and delivery in flight, finish) and
   * resolves once all have ended: true when each exited with code 0. No worker is restarted any more.
   */
  stop(): Promise<boolean> {
    if (this.stopped) return this.stopped;
    this.phase = 'stopping';
    for (const timer of this.restartTimers) clearTimeout(timer);
    this.restartTimers.clear();
    this.stopped = new Promise((resolve) => {
      this.onLastExit = () => resolve(this.everyWorkerClean);
      if (this.workers.size === 0) return this.onLastExit();
      for (const worker of this.workers) this.askToStop(worker);
    });
    return this.stopped;
  }

  /** Ends every worker at once (SIGKILL): for a second interrupt while {@link stop} waits. */
  kill(): void {
    for (const worker of this.workers) worker.process.kill('SIGKILL');
  }

  private askToStop(worker: Worker): void {
    // A worker whose channel is gone (it is ending anyway) gets the signal it also handles.
    if (!worker.isConnected()) {
      worker.process.kill('SIGTERM');
      return;
    }
    worker.send(SHUTDOWN, undefined, (error) => {
      if (error) worker.process.kill('SIGTERM');
    });
  }

  /** Forks one worker: resolves with its URL once it is ready; rejects when it ends before. */
  private fork(): Promise<string> {
    const worker = cluster.fork(this.env);
    this.workers.add(worker);
    const pid = worker.process.pid;
    this.log.info('worker started', { worker: worker.id, workerPid: pid });
    return new Promise((resolve, reject) => {
      let ready = false;
      worker.on('message', (message: unknown) => {
        if (ready || !isWorkerReadyMessage(message)) return;
        ready = true;
        this.log.info('worker ready', { worker: worker.id, workerPid: pid });
        resolve(message.baseUrl);
        // Asked to stop while it was starting: the request was sent, and the worker acts on it once started.
      });
      worker.once('exit', (code: number | null, signal: string | null) => {
        this.workers.delete(worker);
        const how = describeExit(code, signal);
        if (!ready) reject(new Error(`worker ${pid} ended before it was ready (${how})`));
        this.exited(worker, how, code === 0 && signal === null);
      });
    });
  }

  private exited(worker: Worker, how: string, clean: boolean): void {
    if (this.phase === 'stopping') {
      if (!clean) this.everyWorkerClean = false;
      this.log.info('worker stopped', { worker: worker.id, workerPid: worker.process.pid, exit: how });
      if (this.workers.size === 0) this.onLastExit?.();
      return;
    }
    if (this.phase !== 'running') return; // start() fails with it
    const delayMs = this.deaths.record(this.clock.now().getTime());
    this.log.error('worker died: replacing it', {
      worker: worker.id,
      workerPid: worker.process.pid,
      exit: how,
      restartInMs: delayMs,
    });
    const timer = setTimeout(() => {
      this.restartTimers.delete(timer);
      if (this.phase !== 'running') return;
      // A replacement that dies, even before it is ready, is replaced in turn (with a longer wait).
      this.fork().catch(() => undefined);
    }, delayMs);
    this.restartTimers.add(timer);
  }
}
