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
