import { fork, type ChildProcess } from 'node:child_process';
import { EventEmitter } from 'node:events';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import {
  WriteLockClient,
  WriteLockServer,
  type WriteLockChannel,
  type WriteLockPeer,
} from '../../src/app/cluster-write-lock';
import { openDatabase } from '../../src/storage/data-source';
import { ReplayCacheEntryEntity } from '../../src/storage/entities';
import { waitFor } from '../support/child-processes';
import { replayKeyOf, type WriteLockProcessAnswer, type WriteLockProcessCommand } from './write-lock-process';

/**
 * A worker's end and the primary's end of one IPC channel, in memory: messages are delivered on a later
 * turn of the event loop (structured-cloned), as node's IPC does; `exit()` ends the worker.
 */
class Channel {
  private readonly toPrimary = new EventEmitter();
  private readonly toWorker = new EventEmitter();
  private open = true;
  /** Every message the worker sent, in order. */
  readonly sentByWorker: unknown[] = [];

  readonly peer: WriteLockPeer = {
    send: (message, callback) => this.deliver(this.toWorker, message, callback),
    on: (event, listener) => this.toPrimary.on(event, listener),
    once: (event, listener) => this.toPrimary.once(event, listener),
  };

  readonly worker: WriteLockChannel = {
    send: (message, callback) => {
      this.sentByWorker.push(message);
      this.deliver(this.toPrimary, message, callback);
    },
    on: (event, listener) => this.toWorker.on(event, listener),
    once: (event, listener) => this.toWorker.once(event, listener),
  };

  /** The worker process ends: both ends see the channel close. */
  exit(): void {
    this.open = false;
    this.toWorker.emit('disconnect');
    this.toPrimary.emit('disconnect');
    this.toPrimary.emit('exit');
  }

  private deliver(to: EventEmitter, message: unknown, callback: (error: Error | null) => void): boolean {
    if (!this.open) {
      setImmediate(() => callback(new Error('channel closed')));
      return false;
    }
    const copy = structuredClone(message);
    setImmediate(() => {
      if (this.open) to.emit('message', copy);
      callback(null);
    });
    return true;
  }
}

/** Lets queued IPC deliveries (setImmediate) happen. */
async function settle(): Promise<void> {
  for (let turn = 0; turn < 10; turn += 1) await new Promise<void>((resolve) => setImmediate(resolve));
}

/** `acquire()` with its outcome observable without awaiting it. */
function track(client: WriteLockClient, label: string, granted: string[]): Promise<() => void> {
  return client.acquire().then((release) => {
    granted.push(label);
    return release;
  });
}

describe('the cluster write lock (primary server, worker clients)', () => {
  it('grants one request at a time, in the order the requests arrived, across workers', async () => {
    const server = new WriteLockServer();
    const channels = [new Channel(), new Channel(), new Channel()];
    for (const channel of channels) server.attach(channel.peer);
    const [a, b, c] = channels.map((channel) => new WriteLockClient(channel.worker));
    const granted: string[] = [];

    const first = track(a, 'a1', granted);
    await settle();
    const second = track(b, 'b1', granted);
    await settle();
    const third = track(c, 'c1', granted);
    await settle();
    const fourth = track(a, 'a2', granted);
    await settle();
    expect(granted).toEqual(['a1']);

    (await first)();
    await settle();
    expect(granted).toEqual(['a1', 'b1']);
    (await second)();
    await settle();
    expect(granted).toEqual(['a1', 'b1', 'c1']);
    (await third)();
    await settle();
    expect(granted).toEqual(['a1', 'b1', 'c1', 'a2']);
    (await fourth)();
    await settle();
    expect(server.stats()).toMatchObject({ grants: 4, mostWaiting: 3 });
  });

  it('two requests of one worker each wait for their own turn (no re-entrance, no deadlock)', async () => {
    const server = new WriteLockServer();
    const channel = new Channel();
    server.attach(channel.peer);
    const client = new WriteLockClient(channel.worker);
    const granted: string[] = [];
    const outer = track(client, 'outer', granted);
    const inner = track(client, 'inner', granted);
    await settle();
    expect(granted).toEqual(['outer']);
    (await outer)();
    (await inner)();
    await settle();
    expect(granted).toEqual(['outer', 'inner']);
  });

  it('a release is sent once however often it is called', async () => {
    const server = new WriteLockServer();
    const channel = new Channel();
    server.attach(channel.peer);
    const release = await new WriteLockClient(channel.worker).acquire();
    release();
    release();
    await settle();
    const releases = channel.sentByWorker.filter(
      (message) => (message as { type: string }).type === 'registered-mail:write-lock-released',
    );
    expect(releases).toHaveLength(1);
  });

  it('a worker that exits holding the lock releases it, and its waiting requests are dropped', async () => {
    const server = new WriteLockServer();
    const dying = new Channel();
    const surviving = new Channel();
    server.attach(dying.peer);
    server.attach(surviving.peer);
    const doomed = new WriteLockClient(dying.worker);
    const survivor = new WriteLockClient(surviving.worker);
    const granted: string[] = [];

    await track(doomed, 'doomed-holds', granted);
    // Its own client resolves this at the disconnect (see the next test); the server must not grant it.
    void doomed.acquire();
    await settle();
    const next = track(survivor, 'survivor', granted);
    await settle();
    expect(granted).toEqual(['doomed-holds']);

    dying.exit();
    (await next)();
    await settle();
    // The dead worker's waiting request was not granted (it would hold the lock for ever).
    (await track(survivor, 'survivor-again', granted))();
    expect(granted).toEqual(['doomed-holds', 'survivor', 'survivor-again']);
    expect(server.stats().grants).toBe(3);
  });

  it('a worker cut off from the primary writes without the lock (busy handling takes over)', async () => {
    const server = new WriteLockServer();
    const holder = new Channel();
    const cutOff = new Channel();
    server.attach(holder.peer);
    server.attach(cutOff.peer);
    await new WriteLockClient(holder.worker).acquire();
    const client = new WriteLockClient(cutOff.worker);
    const waiting = client.acquire();
    await settle();
    cutOff.exit();
    // Resolves although the lock is still held elsewhere: nothing waits for a primary that is gone.
    (await waiting)();
    (await client.acquire())();
  });
});

const WORKER = path.join(__dirname, 'write-lock-process.ts');

/** A forked worker process, with the answers it sent so far. */
interface LockWorker {
  child: ChildProcess;
  answers: WriteLockProcessAnswer[];
}

function forkWorker(dataDir: string, server: WriteLockServer): LockWorker {
  const child = fork(WORKER, [dataDir], {
    execArgv: ['-r', 'ts-node/register'],
    env: { ...process.env, TS_NODE_TRANSPILE_ONLY: 'true' },
    stdio: ['ignore', 'inherit', 'inherit', 'ipc'],
  });
  server.attach(child);
  const worker: LockWorker = { child, answers: [] };
  child.on('message', (message: WriteLockProcessAnswer) => {
    if (typeof message.type === 'string' && message.type.startsWith('test:')) worker.answers.push(message);
  });
  return worker;
}

function command(worker: LockWorker, message: WriteLockProcessCommand): void {
  worker.child.send(message);
}

function answered(worker: LockWorker, type: WriteLockProcessAnswer['type'], key?: string): Promise<true> {
  return waitFor(
    `${type} ${key ?? ''} from worker ${worker.child.pid}`,
    async () => {
      const failure = worker.answers.find((answer) => answer.type === 'test:failed');
      if (failure) throw new Error(`worker failed: ${failure.detail}`);
      return worker.answers.some((answer) => answer.type === type && answer.key === key) ? true : undefined;
    },
    { timeoutMs: 30_000, intervalMs: 20 },
  );
}

describe('the cluster write lock between real processes on one SQLite file', () => {
  let dataDir: string;
  const workers: LockWorker[] = [];

  beforeEach(async () => {
    dataDir = fs.mkdtempSync(path.join(os.tmpdir(), 'rm-write-lock-'));
    // Migrated once, before the workers open it (as the cluster's primary does).
    await (await openDatabase(dataDir)).destroy();
  });

  afterEach(() => {
    for (const worker of workers.splice(0)) worker.child.kill('SIGKILL');
    fs.rmSync(dataDir, { recursive: true, force: true });
  });

  it('a worker killed while it holds the lock releases it: the waiting worker then writes', async () => {
    const server = new WriteLockServer();
    const holder = forkWorker(dataDir, server);
    const waiter = forkWorker(dataDir, server);
    workers.push(holder, waiter);
    await Promise.all([answered(holder, 'test:ready'), answered(waiter, 'test:ready')]);

    command(holder, { type: 'test:hold', key: 'held' });
    await answered(holder, 'test:holding', 'held');
    command(waiter, { type: 'test:write', key: 'after-the-death' });
    // The waiter's request has reached the primary and waits behind the holder.
    await waitFor('a waiting request', async () => (server.stats().mostWaiting > 0 ? true : undefined), {
      timeoutMs: 30_000,
      intervalMs: 20,
    });
    expect(waiter.answers.some((answer) => answer.type === 'test:written')).toBe(false);

    holder.child.kill('SIGKILL');
    await answered(waiter, 'test:written', 'after-the-death');
    command(waiter, { type: 'test:write', key: 'and-again' });
    await answered(waiter, 'test:written', 'and-again');

    const dataSource = await openDatabase(dataDir);
    try {
      const keys = (await dataSource.getRepository(ReplayCacheEntryEntity).find()).map(
        (row) => row.messageKey,
      );
      expect(keys.sort()).toEqual([replayKeyOf('after-the-death'), replayKeyOf('and-again')].sort());
    } finally {
      await dataSource.destroy();
    }
  }, 60_000);
});
