import { performance } from 'node:perf_hooks';
import type { CrossProcessWriteLock } from '../storage/serial-access';
import {
  isWriteLockGrantMessage,
  isWriteLockReleaseMessage,
  isWriteLockRequestMessage,
  type WriteLockGrantMessage,
  type WriteLockReleaseMessage,
  type WriteLockRequestMessage,
} from './cluster-messages';

/*
 * The cluster's single-writer discipline on the shared SQLite file: before work that writes, a worker
 * asks the primary for the write lock over the cluster's IPC channel and waits for the grant with its
 * event loop free (it goes on parsing, verifying and signing other requests, and reading: WAL readers
 * never wait). Without it, the worker's synchronous SQLite call would sleep in the busy handler while the
 * other worker holds the file's lock, blocking every request of the waiting process.
 *
 * The primary grants one request at a time, first come first served. A worker that exits or loses its
 * channel gives up what it held or waited for (SQLite has already dropped the dead process's own file
 * locks, and its uncommitted transaction with them). SQLite's locking with busy_timeout stays underneath
 * as the fallback: for processes outside the cluster on the same file, and for a worker whose channel is
 * gone (it then writes without asking).
 */

/** A worker as the lock server sees it: a node:cluster `Worker` (a `ChildProcess` fits as well). */
export interface WriteLockPeer {
  send(message: WriteLockGrantMessage, callback: (error: Error | null) => void): boolean;
  on(event: 'message', listener: (message: unknown) => void): unknown;
  once(event: 'exit' | 'disconnect', listener: () => void): unknown;
}

/** What the lock server has seen so far (for the log, and to size busy_timeout). */
export interface WriteLockStatistics {
  /** Grants handed out. */
  grants: number;
  /** The longest time one grant was held, grant sent to release received (ms). */
  longestHoldMs: number;
  /** The longest time one request waited for its grant (ms). */
  longestWaitMs: number;
  /** The most requests waiting at one time. */
  mostWaiting: number;
}

interface LockRequest {
  peer: WriteLockPeer;
  id: number;
  requestedAt: number;
}

/** The primary's side: grants the write lock to one worker request at a time, in arrival order. */
export class WriteLockServer {
  private holder: (LockRequest & { grantedAt: number }) | undefined;
  private readonly waiting: LockRequest[] = [];
  private readonly gone = new WeakSet<WriteLockPeer>();
  private readonly statistics: WriteLockStatistics = {
    grants: 0,
    longestHoldMs: 0,
    longestWaitMs: 0,
    mostWaiting: 0,
  };

  /** @param now a monotonic time in ms (measures hold and wait times only; no rule depends on it) */
  constructor(private readonly now: () => number = () => performance.now()) {}

  /** Serves `peer`'s requests from now on; when it exits or disconnects, it gives up its requests. */
  attach(peer: WriteLockPeer): void {
    peer.on('message', (message: unknown) => {
      if (isWriteLockRequestMessage(message)) this.request(peer, message.id);
      else if (isWriteLockReleaseMessage(message)) this.release(peer, message.id);
    });
    const leave = () => this.leave(peer);
    peer.once('exit', leave);
    peer.once('disconnect', leave);
  }

  /** A copy of the figures so far. */
  stats(): WriteLockStatistics {
    return { ...this.statistics };
  }

  private request(peer: WriteLockPeer, id: number): void {
    if (this.gone.has(peer)) return;
    this.waiting.push({ peer, id, requestedAt: this.now() });
    this.statistics.mostWaiting = Math.max(this.statistics.mostWaiting, this.waiting.length);
    this.grantNext();
  }

  private release(peer: WriteLockPeer, id: number): void {
    if (this.holder?.peer === peer && this.holder.id === id) {
      this.statistics.longestHoldMs = Math.max(
        this.statistics.longestHoldMs,
        this.now() - this.holder.grantedAt,
      );
      this.holder = undefined;
      this.grantNext();
      return;
    }
    // A request given up before its grant.
    const index = this.waiting.findIndex((request) => request.peer === peer && request.id === id);
    if (index >= 0) this.waiting.splice(index, 1);
  }

  private leave(peer: WriteLockPeer): void {
    if (this.gone.has(peer)) return;
    this.gone.add(peer);
    for (let index = this.waiting.length - 1; index >= 0; index -= 1) {
      if (this.waiting[index].peer === peer) this.waiting.splice(index, 1);
    }
    if (this.holder?.peer === peer) {
      this.holder = undefined;
      this.grantNext();
    }
  }

  private grantNext(): void {
    if (this.holder !== undefined) return;
    const next = this.waiting.shift();
    if (next === undefined) return;
    const grantedAt = this.now();
    const holder = { ...next, grantedAt };
    this.holder = holder;
    this.statistics.grants += 1;
    this.statistics.longestWaitMs = Math.max(this.statistics.longestWaitMs, grantedAt - next.requestedAt);
    const grant: WriteLockGrantMessage = { type: 'registered-mail:write-lock-granted', id: next.id };
    next.peer.send(grant, (error) => {
      // Undeliverable: the worker's channel is closing (its 'disconnect' follows); do not wait for it.
      if (error !== null && this.holder === holder) this.leave(next.peer);
    });
  }
}

/** The primary as a worker sees it: `process` in a node:cluster worker. */
export interface WriteLockChannel {
  send(
    message: WriteLockRequestMessage | WriteLockReleaseMessage,
    callback: (error: Error | null) => void,
  ): void;
  on(event: 'message', listener: (message: unknown) => void): unknown;
  once(event: 'disconnect', listener: () => void): unknown;
}

const NOTHING_TO_RELEASE = () => undefined;

/**
 * The worker's side: {@link acquire} asks the primary and resolves with the release once granted. When
 * the channel to the primary is gone (a failed send, a disconnect), every waiting and later acquire
 * resolves at once with nothing to release: SQLite's busy handling coordinates the writers then.
 */
export class WriteLockClient implements CrossProcessWriteLock {
  private nextId = 0;
  private readonly pending = new Map<number, () => void>();
  private connected = true;

  constructor(private readonly channel: WriteLockChannel) {
    channel.on('message', (message: unknown) => {
      if (!isWriteLockGrantMessage(message)) return;
      const granted = this.pending.get(message.id);
      this.pending.delete(message.id);
      granted?.();
    });
    channel.once('disconnect', () => this.disconnected());
  }

  acquire(): Promise<() => void> {
    if (!this.connected) return Promise.resolve(NOTHING_TO_RELEASE);
    this.nextId += 1;
    const id = this.nextId;
    return new Promise((resolve) => {
      this.pending.set(id, () => resolve(this.releaseOf(id)));
      const request: WriteLockRequestMessage = { type: 'registered-mail:write-lock', id };
      this.channel.send(request, (error) => {
        if (error !== null) this.disconnected();
      });
    });
  }

  /** The release of grant `id`: tells the primary once, however often it is called. */
  private releaseOf(id: number): () => void {
    let released = false;
    return () => {
      if (released || !this.connected) return;
      released = true;
      const release: WriteLockReleaseMessage = { type: 'registered-mail:write-lock-released', id };
      this.channel.send(release, (error) => {
        if (error !== null) this.disconnected();
      });
    };
  }

  private disconnected(): void {
    this.connected = false;
    const waiting = [...this.pending.values()];
    this.pending.clear();
    for (const granted of waiting) granted();
  }
}

/**
 * The write lock of this node:cluster worker, granted by its primary's {@link WriteLockServer}.
 * @throws Error outside a process with an IPC channel
 */
export function clusterWorkerWriteLock(): WriteLockClient {
  const send = process.send?.bind(process);
  if (send === undefined) throw new Error('clusterWorkerWriteLock runs in a cluster worker only');
  return new WriteLockClient({
    send: (message, callback) => {
      send(message, undefined, undefined, callback);
    },
    on: (event, listener) => process.on(event, listener),
    once: (event, listener) => process.once(event, listener),
  });
}
