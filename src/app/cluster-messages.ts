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

/**
 * Worker → primary: asks for the cluster's database write lock (see `cluster-write-lock.ts`); `id`
 * names this request among the worker's own.
 */
export interface WriteLockRequestMessage {
  type: 'registered-mail:write-lock';
  id: number;
}

/** Primary → worker: the worker's request `id` holds the write lock now. */
export interface WriteLockGrantMessage {
  type: 'registered-mail:write-lock-granted';
  id: number;
}

/** Worker → primary: request `id` gives the write lock back (or no longer waits for it). */
export interface WriteLockReleaseMessage {
  type: 'registered-mail:write-lock-released';
  id: number;
}

function isNumbered(message: unknown, type: string): boolean {
  return (
    typeof message === 'object' &&
    message !== null &&
    (message as { type?: unknown }).type === type &&
    Number.isSafeInteger((message as { id?: unknown }).id)
  );
}

/** Whether `message` is a worker's {@link WriteLockRequestMessage}. */
export function isWriteLockRequestMessage(message: unknown): message is WriteLockRequestMessage {
  return isNumbered(message, 'registered-mail:write-lock');
}

/** Whether `message` is the primary's {@link WriteLockGrantMessage}. */
export function isWriteLockGrantMessage(message: unknown): message is WriteLockGrantMessage {
  return isNumbered(message, 'registered-mail:write-lock-granted');
}

/** Whether `message` is a worker's {@link WriteLockReleaseMessage}. */
export function isWriteLockReleaseMessage(message: unknown): message is WriteLockReleaseMessage {
  return isNumbered(message, 'registered-mail:write-lock-released');
}
