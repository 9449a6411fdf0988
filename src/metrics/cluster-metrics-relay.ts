import cluster, { type Worker } from 'node:cluster';
import {
  isMetricsRequestMessage,
  isMetricsSnapshotMessage,
  type MetricsCollectMessage,
  type MetricsGatheredMessage,
} from '../app/cluster-messages';

/** How long the primary waits for a worker's snapshot; one that is silent longer is left out. */
const COLLECT_TIMEOUT_MS = 5_000;

/** One worker's request for the cluster's snapshots, while the workers answer. */
interface Collection {
  requester: Worker;
  requestId: number;
  /** The ids of the workers asked that have not answered yet. */
  pending: Set<number>;
  snapshots: unknown[][];
  timer: NodeJS.Timeout;
}

/**
 * The primary's side of the cluster's metrics (see `cluster-metrics.ts`): the primary serves no HTTP,
 * so a scrape reaches one worker, which asks here; every connected worker is asked for its snapshot and
 * the snapshots are handed back together to the worker that asked. A worker that does not answer within
 * {@link COLLECT_TIMEOUT_MS} (hung, or dying) is left out, which the scrape shows in
 * `registered_mail_processes_reporting`.
 */
export class ClusterMetricsRelay {
  private nextId = 0;
  private readonly collections = new Map<number, Collection>();
  private readonly onMessage = (worker: Worker, message: unknown) => {
    if (isMetricsRequestMessage(message)) this.collect(worker, message.id);
    else if (isMetricsSnapshotMessage(message)) this.received(worker, message.id, message.metrics);
  };

  /** Starts answering the workers' requests. */
  start(): void {
    cluster.on('message', this.onMessage);
  }

  /** Stops answering; collections under way are dropped (their scrapes fail at the worker). */
  stop(): void {
    cluster.off('message', this.onMessage);
    for (const collection of this.collections.values()) clearTimeout(collection.timer);
    this.collections.clear();
  }

  private collect(requester: Worker, requestId: number): void {
    const id = this.nextId++;
    const workers = Object.values(cluster.workers ?? {}).filter(
      (worker): worker is Worker => worker !== undefined && worker.isConnected(),
    );
    const timer = setTimeout(() => this.finish(id), COLLECT_TIMEOUT_MS);
    timer.unref();
    const collection: Collection = {
      requester,
      requestId,
      pending: new Set(workers.map((worker) => worker.id)),
      snapshots: [],
      timer,
    };
    this.collections.set(id, collection);
    const message: MetricsCollectMessage = { type: 'registered-mail:metrics-collect', id };
    for (const worker of workers) {
      worker.send(message, undefined, (error) => {
        // Its channel closed meanwhile: it will not answer.
        if (error) this.forget(id, worker.id);
      });
    }
    if (workers.length === 0) this.finish(id);
  }

  private received(worker: Worker, id: number, metrics: unknown[]): void {
    const collection = this.collections.get(id);
    if (!collection || !collection.pending.has(worker.id)) return;
    collection.snapshots.push(metrics);
    this.forget(id, worker.id);
  }

  /** Worker `workerId` is no longer awaited for collection `id`; the last one ends it. */
  private forget(id: number, workerId: number): void {
    const collection = this.collections.get(id);
    if (!collection) return;
    collection.pending.delete(workerId);
    if (collection.pending.size === 0) this.finish(id);
  }

  private finish(id: number): void {
    const collection = this.collections.get(id);
    if (!collection) return;
    clearTimeout(collection.timer);
    this.collections.delete(id);
    if (!collection.requester.isConnected()) return;
    const answer: MetricsGatheredMessage = {
      type: 'registered-mail:metrics-gathered',
      id: collection.requestId,
      snapshots: collection.snapshots,
    };
    collection.requester.send(answer, undefined, () => undefined);
  }
}
