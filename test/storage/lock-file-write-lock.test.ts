import { spawn, type ChildProcess } from 'node:child_process';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import {
  LockFileWriteLock,
  WriteLockTimeoutError,
  writeLockFileOf,
} from '../../src/storage/lock-file-write-lock';
import { isDatabaseUnavailable } from '../../src/storage/storage-errors';
import { settle } from '../support/manual-write-lock';

const TIMEOUT_MS = 5_000;

/** Another process holding the lock file of `database` until it is killed; resolves once it holds it. */
function holdInAnotherProcess(database: string): Promise<ChildProcess> {
  const script = `
    const Database = require(${JSON.stringify(require.resolve('better-sqlite3'))});
    const connection = new Database(${JSON.stringify(writeLockFileOf(database))}, { timeout: 0 });
    connection.pragma('journal_mode = WAL');
    connection.prepare('BEGIN IMMEDIATE').run();
    process.stdout.write('holding\\n');
    setInterval(() => undefined, 60_000);
  `;
  const child = spawn(process.execPath, ['-e', script], { stdio: ['ignore', 'pipe', 'inherit'] });
  return new Promise((resolve, reject) => {
    child.stdout?.on('data', (chunk: Buffer) => {
      if (chunk.toString().includes('holding')) resolve(child);
    });
    child.once('exit', (code) => reject(new Error(`the holder exited (${code}) before holding the lock`)));
  });
}

/** An acquire under way, and whether it has been granted yet. */
function startAcquire(lock: LockFileWriteLock): { granted: () => boolean; release: Promise<() => void> } {
  let granted = false;
  const release = lock.acquire().then((giveBack) => {
    granted = true;
    return giveBack;
  });
  return { granted: () => granted, release };
}

function pause(milliseconds: number): Promise<void> {
  return new Promise((resolve) => setTimeout(resolve, milliseconds));
}

function exited(child: ChildProcess): Promise<void> {
  return new Promise((resolve) => {
    if (child.exitCode !== null || child.signalCode !== null) resolve();
    else child.once('exit', () => resolve());
  });
}

describe('LockFileWriteLock: the write lock of a shared SQLite file', () => {
  let dir: string;
  let database: string;
  const locks: LockFileWriteLock[] = [];
  const children: ChildProcess[] = [];

  const open = (options: { timeoutMs?: number; now?: () => number } = {}) => {
    const lock = new LockFileWriteLock(database, { timeoutMs: TIMEOUT_MS, ...options });
    locks.push(lock);
    return lock;
  };

  beforeEach(() => {
    dir = fs.mkdtempSync(path.join(os.tmpdir(), 'rm-lock-file-'));
    database = path.join(dir, 'registered-mail.sqlite');
  });

  afterEach(async () => {
    for (const lock of locks.splice(0)) lock.close();
    for (const child of children.splice(0)) {
      child.kill('SIGKILL');
      await exited(child);
    }
    fs.rmSync(dir, { recursive: true, force: true });
  });

  it('is a file of its own beside the database', async () => {
    const lock = open();
    expect(lock.file).toBe(`${database}.write-lock`);
    const release = await lock.acquire();
    release();
    expect(fs.existsSync(lock.file)).toBe(true);
    expect(fs.existsSync(database)).toBe(false);
  });

  it('one holder at a time: the other waits with its event loop free, and gets it at the release', async () => {
    const first = open();
    const second = open(); // another connection: SQLite answers it as it answers another process
    const releaseFirst = await first.acquire();
    const secondAcquire = startAcquire(second);
    // Timers run meanwhile: the wait does not block the event loop.
    await pause(20);
    expect(secondAcquire.granted()).toBe(false);

    releaseFirst();
    const releaseSecond = await secondAcquire.release;
    // The first one's release was given once: calling it again does not give back the second's lock.
    releaseFirst();
    const firstAgain = startAcquire(first);
    await pause(20);
    expect(firstAgain.granted()).toBe(false);
    releaseSecond();
    (await firstAgain.release)();
  });

  it("a process's own acquires are served one at a time, in call order", async () => {
    const lock = open();
    const order: string[] = [];
    const work = (name: string) =>
      lock.acquire().then(async (release) => {
        order.push(`${name} holds`);
        await settle();
        order.push(`${name} releases`);
        release();
      });
    await Promise.all([work('a'), work('b'), work('c')]);
    expect(order).toEqual(['a holds', 'a releases', 'b holds', 'b releases', 'c holds', 'c releases']);
  });

  it('waits for another process, and takes the lock once that process dies holding it', async () => {
    const holder = await holdInAnotherProcess(database);
    children.push(holder);
    const acquire = startAcquire(open());
    await pause(50);
    expect(acquire.granted()).toBe(false);

    holder.kill('SIGKILL');
    await exited(holder);
    (await acquire.release)();
  });

  it('gives up after the timeout with a busy error (SOA-02002), and is usable again afterwards', async () => {
    let now = 0;
    const holder = open();
    const waiter = open({ timeoutMs: 1_000, now: () => now });
    const releaseHolder = await holder.acquire();

    let result: unknown;
    const outcome = waiter.acquire().then(
      () => (result = 'acquired'),
      (error: unknown) => (result = error),
    );
    await settle();
    now = 999;
    await pause(10);
    expect(result).toBeUndefined();
    now = 1_000;
    const error = await outcome;
    expect(error).toBeInstanceOf(WriteLockTimeoutError);
    expect((error as WriteLockTimeoutError).code).toBe('SQLITE_BUSY');
    expect(isDatabaseUnavailable(error)).toBe(true);

    releaseHolder();
    (await waiter.acquire())();
  });

  it('processes starting together open a new lock file at the same moment', async () => {
    // Each opener, once loaded, opens the lock of database-<round> as soon as the go-<round> file
    // appears: all of them within microseconds of each other, round after round, each on a new file.
    const rounds = 20;
    const opener = `
      const fs = require('node:fs');
      const path = require('node:path');
      const { LockFileWriteLock } = require(${JSON.stringify(require.resolve('../../src/storage/lock-file-write-lock'))});
      const dir = process.argv[1];
      fs.writeFileSync(path.join(dir, 'loaded-' + process.pid), '');
      (async () => {
        for (let round = 0; round < ${rounds}; round += 1) {
          while (!fs.existsSync(path.join(dir, 'go-' + round))) {}
          const lock = new LockFileWriteLock(path.join(dir, 'database-' + round), { timeoutMs: 5000 });
          (await lock.acquire())();
          lock.close();
        }
      })().catch((error) => {
        process.stderr.write(String(error));
        process.exit(1);
      });
    `;
    const runs = Array.from({ length: 3 }, () => {
      const child = spawn(process.execPath, ['-r', 'ts-node/register/transpile-only', '-e', opener, dir], {
        stdio: ['ignore', 'ignore', 'pipe'],
      });
      children.push(child);
      let stderr = '';
      child.stderr?.on('data', (chunk: Buffer) => (stderr += chunk.toString()));
      return new Promise<string>((resolve) => child.once('exit', (code) => resolve(`${code} ${stderr}`)));
    });
    while (fs.readdirSync(dir).filter((name) => name.startsWith('loaded-')).length < runs.length) {
      await pause(10);
    }
    for (let round = 0; round < rounds; round += 1) {
      fs.writeFileSync(path.join(dir, `go-${round}`), '');
      await pause(20);
    }
    expect(await Promise.all(runs)).toEqual(['0 ', '0 ', '0 ']);
  }, 60_000);

  it('a lock file that cannot be opened fails at construction', () => {
    expect(
      () => new LockFileWriteLock(path.join(dir, 'missing', 'registered-mail.sqlite'), { timeoutMs: 10 }),
    ).toThrow();
  });
});
