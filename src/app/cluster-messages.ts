/*
 * What the cluster's primary and its workers tell each other over the IPC channel node:cluster opens.
 * Anything else arriving on that channel is ignored.
 */

/** Worker → primary: the worker's service listens (the shared socket) and delivers. */
export interface WorkerReadyMessage {
  type: 'registered-mail:ready';
  /** The URL the worker's service answers on (the same for every worker). */
  baseUrl: string;
}

/** Primary → worker: stop taking requests, finish the ones under way and delivery in flight, then exit. */
export interface WorkerShutdownMessage {
  type: 'registered-mail:shutdown';
}

/** Whether `message` is a worker's {@link WorkerReadyMessage}. */
export function isWorkerReadyMessage(message: unknown): message is WorkerReadyMessage {
  return (
    typeof message === 'object' &&
    message !== null &&
    (message as { type?: unknown }).type === 'registered-mail:ready' &&
    typeof (message as { baseUrl?: unknown }).baseUrl === 'string'
  );
}

/** Whether `message` is the primary's {@link WorkerShutdownMessage}. */
export function isWorkerShutdownMessage(message: unknown): message is WorkerShutdownMessage {
  return (
    typeof message === 'object' &&
    message !== null &&
    (message as { type?: unknown }).type === 'registered-mail:shutdown'
  );
}

function isNumbered(message: unknown, type: string): boolean {
  return (
    typeof message === 'object' &&
    message !== null &&
    (message as { type?: unknown }).type === type &&
    Number.isSafeInteger((message as { id?: unknown }).id)
  );
}

/*
 * Metrics (see `src/metrics/cluster-metrics.ts`): a scrape reaches one worker, which asks the primary for
 * every worker's counters; the primary collects them from each worker and hands them back together.
 */

/** Worker → primary: request `id` (among the worker's own) wants every worker's metrics snapshot. */
export interface MetricsRequestMessage {
  type: 'registered-mail:metrics-request';
  id: number;
}

/** Primary → worker: send your metrics snapshot for the primary's collection `id`. */
export interface MetricsCollectMessage {
  type: 'registered-mail:metrics-collect';
  id: number;
}

/** Worker → primary: this worker's snapshot (`Registry.getMetricsAsJSON()`) for collection `id`. */
export interface MetricsSnapshotMessage {
  type: 'registered-mail:metrics-snapshot';
  id: number;
  metrics: unknown[];
}

/** Primary → worker: the snapshots of the workers that answered the worker's request `id` in time. */
export interface MetricsGatheredMessage {
  type: 'registered-mail:metrics-gathered';
  id: number;
  snapshots: unknown[][];
}

/** Whether `message` is a worker's {@link MetricsRequestMessage}. */
export function isMetricsRequestMessage(message: unknown): message is MetricsRequestMessage {
  return isNumbered(message, 'registered-mail:metrics-request');
}

/** Whether `message` is the primary's {@link MetricsCollectMessage}. */
export function isMetricsCollectMessage(message: unknown): message is MetricsCollectMessage {
  return isNumbered(message, 'registered-mail:metrics-collect');
}

/** Whether `message` is a worker's {@link MetricsSnapshotMessage}. */
export function isMetricsSnapshotMessage(message: unknown): message is MetricsSnapshotMessage {
  return (
    isNumbered(message, 'registered-mail:metrics-snapshot') &&
    Array.isArray((message as { metrics?: unknown }).metrics)
  );
}

/** Whether `message` is the primary's {@link MetricsGatheredMessage}. */
export function isMetricsGatheredMessage(message: unknown): message is MetricsGatheredMessage {
  if (!isNumbered(message, 'registered-mail:metrics-gathered')) return false;
  const snapshots = (message as { snapshots?: unknown }).snapshots;
  return Array.isArray(snapshots) && snapshots.every((snapshot) => Array.isArray(snapshot));
}
