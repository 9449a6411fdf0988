import { execFile } from 'node:child_process';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { promisify } from 'node:util';
import type { DataSource } from 'typeorm';
import { ManualClock } from '../../src/clock/clock';
import { replayKey } from '../../src/policy/replay-guard';
import { createDataSource, SQLITE_FILE_NAME } from '../../src/storage/data-source';
import { ReplayCacheEntryEntity } from '../../src/storage/entities';
import { TypeormReplayStore } from '../../src/storage/typeorm-replay-store';
import { openTestDatabase, removeTestDataDir, testOnSqlite } from '../support/test-database';

/*
 * The replay cache on the database: one row per accepted message, a second sighting refused, shared by
 * every DataSource (node) on the file, kept across restarts, never counted after its expiry, purged on
 * the clock's time. Real databases (SQLite files, or PostgreSQL in the "postgres" project); the clock is a
 * ManualClock.
 */

const run = promisify(execFile);
const ROOT = path.resolve(__dirname, '..', '..');
const RACE_WORKER = path.join(__dirname, 'replay-race-worker.ts');

const START = new Date('2025-06-02T09:00:00.000Z');
const MINUTE = 60_000;

function keyOf(label: string): string {
  return replayKey(START, Buffer.from(label));
}

async function rows(dataSource: DataSource): Promise<ReplayCacheEntryEntity[]> {
  return dataSource.getRepository(ReplayCacheEntryEntity).find({ order: { messageKey: 'ASC' } });
}

describe('TypeormReplayStore', () => {
  let dataDir: string;
  let clock: ManualClock;
  let dataSource: DataSource;
  const extraSources: DataSource[] = [];

  beforeEach(async () => {
    dataDir = fs.mkdtempSync(path.join(os.tmpdir(), 'rm-replay-'));
    clock = new ManualClock(START);
    dataSource = await openTestDatabase(dataDir);
  });

  afterEach(async () => {
    for (const source of [dataSource, ...extraSources.splice(0)]) {
      if (source.isInitialized) await source.destroy();
    }
    await removeTestDataDir(dataDir);
  });

  async function anotherNode(options: { busyTimeoutMs?: number } = {}): Promise<DataSource> {
    const source = await openTestDatabase(dataDir, options);
    extraSources.push(source);
    return source;
  }

  it('the first sighting is recorded once, the second is a replay, and nothing is stored twice', async () => {
    const store = new TypeormReplayStore(dataSource, clock);
    const entry = { key: keyOf('message'), expiresAt: new Date(START.getTime() + 5 * MINUTE) };
    await expect(store.recordFirstSighting(entry)).resolves.toBe(true);
    clock.advance(1000);
    await expect(store.recordFirstSighting(entry)).resolves.toBe(false);
    expect(await rows(dataSource)).toEqual([
      { messageKey: entry.key, expiresAt: entry.expiresAt, seenAt: START },
    ]);
  });

  it('survives a restart: a new DataSource on the same file still refuses the message', async () => {
    const entry = { key: keyOf('before restart'), expiresAt: new Date(START.getTime() + 5 * MINUTE) };
    await new TypeormReplayStore(dataSource, clock).recordFirstSighting(entry);
    await dataSource.destroy();

    dataSource = await openTestDatabase(dataDir);
    await expect(new TypeormReplayStore(dataSource, clock).recordFirstSighting(entry)).resolves.toBe(false);
  });

  it('two nodes (two DataSources on one file) share it; of two racing, exactly one wins', async () => {
    const nodeA = new TypeormReplayStore(dataSource, clock);
    const nodeB = new TypeormReplayStore(await anotherNode(), clock);
    const expiresAt = new Date(START.getTime() + 5 * MINUTE);

    await expect(nodeA.recordFirstSighting({ key: keyOf('seen by A'), expiresAt })).resolves.toBe(true);
    await expect(nodeB.recordFirstSighting({ key: keyOf('seen by A'), expiresAt })).resolves.toBe(false);

    const racing = { key: keyOf('racing'), expiresAt };
    const outcomes = await Promise.all([
      nodeA.recordFirstSighting(racing),
      nodeB.recordFirstSighting(racing),
    ]);
    expect(outcomes.sort()).toEqual([false, true]);
    expect(await rows(dataSource)).toHaveLength(2);
  });

  it('three processes racing on the same messages: each message is won by exactly one', async () => {
    const keys = Array.from({ length: 20 }, (_, index) => keyOf(`race-${index}`));
    const expiresAt = new Date(Date.now() + 60 * MINUTE).toISOString();
    await dataSource.destroy();
    const outputs = await Promise.all(
      [1, 2, 3].map(async () => {
        const { stdout } = await run(
          process.execPath,
          ['-r', 'ts-node/register', RACE_WORKER, dataDir, expiresAt, ...keys],
          {
            cwd: ROOT,
            env: {
              ...process.env,
              TS_NODE_TRANSPILE_ONLY: 'true',
              TS_NODE_PROJECT: path.join(ROOT, 'tsconfig.json'),
            },
          },
        );
        return JSON.parse(stdout) as boolean[];
      }),
    );
    for (let index = 0; index < keys.length; index += 1) {
      expect(outputs.filter((won) => won[index])).toHaveLength(1);
    }
    dataSource = await openTestDatabase(dataDir);
    expect(await dataSource.getRepository(ReplayCacheEntryEntity).count()).toBe(keys.length);
  });

  it('an entry counts until its expiry inclusive, and never after, even before the purge', async () => {
    // A purge interval longer than the test: only the expiry rule can let the message through.
    const store = new TypeormReplayStore(dataSource, clock, { purgeIntervalMs: 24 * 60 * MINUTE });
    const expiresAt = new Date(START.getTime() + 5 * MINUTE);
    const entry = { key: keyOf('expiring'), expiresAt };
    await store.recordFirstSighting(entry);

    clock.set(expiresAt);
    await expect(store.recordFirstSighting(entry)).resolves.toBe(false);

    clock.set(expiresAt.getTime() + 1);
    const renewed = { key: entry.key, expiresAt: new Date(expiresAt.getTime() + 5 * MINUTE) };
    await expect(store.recordFirstSighting(renewed)).resolves.toBe(true);
    expect(await rows(dataSource)).toEqual([
      { messageKey: entry.key, expiresAt: renewed.expiresAt, seenAt: clock.now() },
    ]);
    await expect(store.recordFirstSighting(renewed)).resolves.toBe(false);
  });

  it('expired entries are purged by a recording once the purge interval of clock time has passed', async () => {
    const store = new TypeormReplayStore(dataSource, clock, { purgeIntervalMs: 10 * MINUTE });
    const old = { key: keyOf('old'), expiresAt: new Date(START.getTime() + 5 * MINUTE) };
    await store.recordFirstSighting(old); // the first recording purges (nothing yet) and schedules the next

    clock.set(START.getTime() + 6 * MINUTE); // expired, but the next purge is due at 10 minutes
    await store.recordFirstSighting({ key: keyOf('a'), expiresAt: new Date(clock.now().getTime() + MINUTE) });
    expect((await rows(dataSource)).map((row) => row.messageKey)).toContain(old.key);

    clock.set(START.getTime() + 10 * MINUTE);
    const fresh = { key: keyOf('fresh'), expiresAt: new Date(clock.now().getTime() + 5 * MINUTE) };
    await store.recordFirstSighting(fresh);
    // 'old' (expired at 5 min) and 'a' (at 7 min) are gone; the fresh one stays.
    expect((await rows(dataSource)).map((row) => row.messageKey)).toEqual([fresh.key]);
  });

  it('purgeExpired deletes what expired at the clock time and reports how many', async () => {
    const store = new TypeormReplayStore(dataSource, clock);
    for (const minutes of [1, 2, 3]) {
      await store.recordFirstSighting({
        key: keyOf(`m${minutes}`),
        expiresAt: new Date(START.getTime() + minutes * MINUTE),
      });
    }
    clock.set(START.getTime() + 2 * MINUTE + 1);
    await expect(store.purgeExpired()).resolves.toBe(2);
    expect(await rows(dataSource)).toHaveLength(1);
  });

  it('a closed database is SOA-02002 (retry)', async () => {
    const store = new TypeormReplayStore(dataSource, clock);
    await dataSource.destroy();
    await expect(
      store.recordFirstSighting({ key: keyOf('closed'), expiresAt: new Date(START.getTime() + MINUTE) }),
    ).rejects.toMatchObject({ code: 'SOA-02002', retry: true });
  });

  // PostgreSQL has no busy timeout: a racing writer waits for the row lock of the key it inserts.
  testOnSqlite('busy timeout')(
    'a write lock held by another process beyond the busy timeout is SOA-02002, and then it works',
    async () => {
      const impatient = await anotherNode({ busyTimeoutMs: 50 });
      const store = new TypeormReplayStore(impatient, clock);
      const holder = createDataSource({ sqlitePath: path.join(dataDir, SQLITE_FILE_NAME) });
      extraSources.push(holder);
      await holder.initialize();
      const lock = holder.createQueryRunner();
      const entry = { key: keyOf('busy'), expiresAt: new Date(START.getTime() + MINUTE) };
      await lock.query('BEGIN IMMEDIATE');
      try {
        await expect(store.recordFirstSighting(entry)).rejects.toMatchObject({ code: 'SOA-02002' });
      } finally {
        await lock.query('ROLLBACK');
        await lock.release();
      }
      await expect(store.recordFirstSighting(entry)).resolves.toBe(true);
    },
  );
});
