import type { Registry } from 'prom-client';
import {
  isMetricsCollectMessage,
  isMetricsGatheredMessage,
  type MetricsRequestMessage,
  type MetricsSnapshotMessage,
} from '../app/cluster-messages';
import type { ProcessMetricsSnapshot, ProcessMetricsSource } from './metrics-exposition';

/**
 * How long a worker waits for the primary to gather every worker's snapshot before the scrape fails
 * (longer than the primary's own wait for a silent worker, see `cluster-metrics-relay.ts`).
 */
const GATHER_TIMEOUT_MS = 10_000;

/** A worker's IPC channel to its primary (the process's own, see {@link processIpcEndpoint}). */
export interface IpcEndpoint {
  send(message: unknown): void;
  on(event: 'message', listener: (message: unknown) => void): unknown;
  off(event: 'message', listener: (message: unknown) => void): unknown;
}

/** This process's channel to the primary that forked it. */
export function processIpcEndpoint(): IpcEndpoint {
  return {
    send(message) {
      if (!process.send) throw new Error('this process has no IPC channel to a primary');
      process.send(message);
    },
    on: (event, listener) => process.on(event, listener),
    off: (event, listener) => process.off(event, listener),
  };
}

interface Waiting {
  resolve(snapshots: ProcessMetricsSnapshot[]): void;
  reject(error: Error): void;
  timer: NodeJS.Timeout;
}

/**
 * A cluster worker's side of the metrics: it answers the primary's collections with its own registry's
 * snapshot, and, for a scrape it serves, asks the primary for every worker's (its own included), so
 * that any worker's `/metrics` shows the whole cluster.
 */
export class WorkerMetricsChannel implements ProcessMetricsSource {
  private registry: Registry | undefined;
  private nextId = 0;
  private readonly waiting = new Map<number, Waiting>();
  private readonly onMessage = (message: unknown) => {
    if (isMetricsCollectMessage(message)) void this.answerCollection(message.id);
    else if (isMetricsGatheredMessage(message)) this.gathered(message.id, message.snapshots);
  };

  constructor(private readonly ipc: IpcEndpoint = processIpcEndpoint()) {
    ipc.on('message', this.onMessage);
  }

  /** The registry this worker's snapshots come from (until it is set, the worker answers an empty one). */
  attach(registry: Registry): void {
    this.registry = registry;
  }

  /**
   * Every worker's snapshot, through the primary.
   * @throws Error when the primary has not answered in time
   */
  snapshots(): Promise<ProcessMetricsSnapshot[]> {
    const id = this.nextId++;
    return new Promise((resolve, reject) => {
      const timer = setTimeout(() => {
        this.waiting.delete(id);
        reject(
          new Error(`the cluster's primary did not gather the workers' metrics in ${GATHER_TIMEOUT_MS} ms`),
        );
      }, GATHER_TIMEOUT_MS);
      timer.unref();
      this.waiting.set(id, { resolve, reject, timer });
      const request: MetricsRequestMessage = { type: 'registered-mail:metrics-request', id };
      try {
        this.ipc.send(request);
      } catch (error) {
        clearTimeout(timer);
        this.waiting.delete(id);
        reject(error instanceof Error ? error : new Error(String(error)));
      }
    });
  }

  /** Stops listening; scrapes still waiting fail. */
  close(): void {
    this.ipc.off('message', this.onMessage);
    for (const [id, waiting] of this.waiting) {
      clearTimeout(waiting.timer);
      this.waiting.delete(id);
      waiting.reject(new Error('the metrics channel is closed'));
    }
  }

  private async answerCollection(id: number): Promise<void> {
    let metrics: ProcessMetricsSnapshot;
    try {
      metrics = this.registry ? await this.registry.getMetricsAsJSON() : [];
    } catch {
      // Unanswered: the primary stops waiting for this worker and the scrape shows one process fewer.
      return;
    }
    const answer: MetricsSnapshotMessage = { type: 'registered-mail:metrics-snapshot', id, metrics };
    try {
      this.ipc.send(answer);
    } catch {
      // The channel is closing: this worker is on its way out.
    }
  }

  private gathered(id: number, snapshots: unknown[][]): void {
    const waiting = this.waiting.get(id);
    if (!waiting) return; // answered after the scrape gave up
    clearTimeout(waiting.timer);
    this.waiting.delete(id);
    waiting.resolve(snapshots as ProcessMetricsSnapshot[]);
  }
}
