import type { DataSource, EntitySubscriberInterface } from 'typeorm';
import { CommitGroup, useGroupPacing } from '../../src/storage/commit-group';
import { ReplayCacheEntryEntity } from '../../src/storage/entities';
import { useCrossProcessWriteLock } from '../../src/storage/serial-access';
import { WalDurability, walDurabilityOf } from '../../src/storage/wal-durability';
import { makeTempDir } from '../domain/storage-fixture';
import { ManualWriteLock, settle } from '../support/manual-write-lock';
import { openTestDatabase, removeTestDataDir, testOnSqlite } from '../support/test-database';

const AT = new Date('2025-03-01T10:00:00.000Z');

describe('CommitGroup', () => {
  let dataDir: string;
  let dataSource: DataSource;
  let commits: number;

  beforeEach(async () => {
    dataDir = makeTempDir('rm-commit-group-');
    dataSource = await openTestDatabase(dataDir);
    commits = 0;
    const counter: EntitySubscriberInterface = {
      afterTransactionCommit: () => {
        commits += 1;
      },
    };
    dataSource.subscribers.push(counter);
  });

  afterEach(async () => {
    await dataSource.destroy();
    await removeTestDataDir(dataDir);
  });

  const insertKey = (key: string) => (manager: Parameters<Parameters<CommitGroup['submit']>[0]>[0]) =>
    manager.insert(ReplayCacheEntryEntity, { messageKey: key, expiresAt: AT, seenAt: AT });

  it('is one per DataSource, shared by every store writing through it', async () => {
    expect(CommitGroup.of(dataSource)).toBe(CommitGroup.of(dataSource));
    const other = await openTestDatabase(dataDir);
    try {
      expect(CommitGroup.of(other)).not.toBe(CommitGroup.of(dataSource));
    } finally {
      await other.destroy();
    }
  });

  it('writes arriving together share one transaction; a failing one rolls back alone', async () => {
    const group = CommitGroup.of(dataSource);
    // Submitted in one turn of the event loop: the group takes them all once the database is its turn.
    const outcomes = await Promise.allSettled([
      group.submit(insertKey('a'.repeat(64))),
      group.submit(insertKey('b'.repeat(64)), { durable: false }),
      group.submit(insertKey('b'.repeat(64))), // same key: a unique violation
      group.submit(insertKey('c'.repeat(64)), { durable: false }),
    ]);
    expect(outcomes.map((outcome) => outcome.status)).toEqual([
      'fulfilled',
      'fulfilled',
      'rejected',
      'fulfilled',
    ]);
    expect(commits).toBe(1);
    const keys = await dataSource.manager.find(ReplayCacheEntryEntity, { order: { messageKey: 'ASC' } });
    expect(keys.map((entry) => entry.messageKey[0])).toEqual(['a', 'b', 'c']);
    // What /metrics shows: one transaction, holding the four writes.
    expect([group.transactions, group.writes]).toEqual([1, 4]);
  });

  it('under load a group starts at least the pacing interval after the previous one; a lone write at once', async () => {
    let now = 1_000;
    const delays: number[] = [];
    let endDelay: () => void = () => undefined;
    useGroupPacing({
      minIntervalMs: 3,
      now: () => now,
      delay: (ms) => {
        delays.push(ms);
        return new Promise((resolve) => (endDelay = resolve));
      },
    });
    try {
      const group = CommitGroup.of(dataSource);
      // Two writes together: a group of two, at once.
      await Promise.all([
        group.submit(insertKey('a'.repeat(64)), { durable: false }),
        group.submit(insertKey('A'.repeat(64)), { durable: false }),
      ]);
      expect(commits).toBe(1);
      expect(delays).toEqual([]);

      now = 1_001;
      const second = group.submit(insertKey('b'.repeat(64)), { durable: false });
      await settle();
      // After a group of two: waits until 3 ms after it started; a write arriving meanwhile joins.
      expect(delays).toEqual([2]);
      const third = group.submit(insertKey('c'.repeat(64)), { durable: false });
      await settle();
      expect(commits).toBe(1);
      now = 1_003;
      endDelay();
      await Promise.all([second, third]);
      expect(commits).toBe(2);

      // After a quiet moment: at once.
      now = 2_000;
      await group.submit(insertKey('d'.repeat(64)), { durable: false });
      expect(delays).toEqual([2]);
      expect(commits).toBe(3);

      // A lone write 1 ms after a group of one (a client sending one request after another): at once.
      now = 2_001;
      await group.submit(insertKey('e'.repeat(64)), { durable: false });
      expect(delays).toEqual([2]);
      expect(commits).toBe(4);

      // Two writes waiting after that group of one: paced again.
      now = 2_002;
      const together = [
        group.submit(insertKey('f'.repeat(64)), { durable: false }),
        group.submit(insertKey('g'.repeat(64)), { durable: false }),
      ];
      await settle();
      expect(delays).toEqual([2, 2]);
      now = 2_004;
      endDelay();
      await Promise.all(together);
      expect(commits).toBe(5);
    } finally {
      useGroupPacing(undefined);
    }
  });

  it('a write submitted without a savepoint runs no SAVEPOINT', async () => {
    const statements: string[] = [];
    dataSource.subscribers.push({
      beforeQuery: (event) => {
        statements.push(event.query);
      },
    });
    try {
      const group = CommitGroup.of(dataSource);
      const outcomes = await Promise.allSettled([
        group.submit(insertKey('a'.repeat(64)), { durable: false, savepoint: false }),
        group.submit(insertKey('b'.repeat(64)), { savepoint: false }),
      ]);
      expect(outcomes.map((outcome) => outcome.status)).toEqual(['fulfilled', 'fulfilled']);
      expect(statements.filter((sql) => /SAVEPOINT|RELEASE/.test(sql))).toEqual([]);
      expect(statements.some((sql) => /INSERT/.test(sql))).toBe(true);
      expect(commits).toBe(1);
    } finally {
      dataSource.subscribers.pop();
    }
  });

  it('a failing write without a savepoint fails its whole group: nothing of it is stored', async () => {
    const group = CommitGroup.of(dataSource);
    const outcomes = await Promise.allSettled([
      group.submit(insertKey('a'.repeat(64))),
      group.submit(insertKey('a'.repeat(64)), { savepoint: false }), // a unique violation
      group.submit(insertKey('c'.repeat(64)), { durable: false }),
    ]);
    expect(outcomes.map((outcome) => outcome.status)).toEqual(['rejected', 'rejected', 'rejected']);
    expect(commits).toBe(0);
    expect(await dataSource.manager.count(ReplayCacheEntryEntity)).toBe(0);
    expect([group.transactions, group.writes]).toEqual([0, 0]); // nothing committed, nothing counted
  });

  // Only a SQLite file is shared through the cluster's write lock.
  testOnSqlite('the cross-process write lock')(
    'writes that arrive while the group waits for the write lock go into that group',
    async () => {
      const lock = new ManualWriteLock();
      useCrossProcessWriteLock(lock);
      try {
        const group = CommitGroup.of(dataSource);
        const first = group.submit(insertKey('a'.repeat(64)), { durable: false });
        await settle();
        expect(lock.events).toEqual(['requested 1']);

        const later = ['b', 'c'].map((key) => group.submit(insertKey(key.repeat(64))));
        await settle();
        expect(lock.events).toEqual(['requested 1']);
        lock.grantNext();
        await Promise.all([first, ...later]);

        expect(commits).toBe(1);
        expect(lock.events).toEqual(['requested 1', 'granted 1', 'released 1']);
        expect(await dataSource.manager.count(ReplayCacheEntryEntity)).toBe(3);
      } finally {
        useCrossProcessWriteLock(undefined);
      }
    },
  );

  // PostgreSQL makes every COMMIT durable itself: there is no WAL fsync of ours to wait for.
  testOnSqlite('WAL group commit')(
    'the next transaction waits for the running WAL fsync: the writes arriving meanwhile share it',
    async () => {
      const fsyncs: (() => void)[] = [];
      const flush = jest
        .spyOn(WalDurability.prototype, 'flush')
        .mockImplementation(() => new Promise<void>((resolve) => fsyncs.push(resolve)));
      try {
        const group = CommitGroup.of(dataSource);
        let firstDone = false;
        const first = group.submit(insertKey('a'.repeat(64))).then(() => (firstDone = true));
        await settle();
        // Alone: committed at once, and its fsync runs.
        expect(commits).toBe(1);
        expect(fsyncs).toHaveLength(1);
        expect(firstDone).toBe(false);

        const later = ['b', 'c', 'd'].map((key) => group.submit(insertKey(key.repeat(64))));
        const notDurable = group.submit(insertKey('e'.repeat(64)), { durable: false });
        await settle();
        expect(commits).toBe(1);

        fsyncs[0]();
        await first;
        await notDurable; // settled at its COMMIT, before the second fsync
        expect(commits).toBe(2);
        expect(fsyncs).toHaveLength(2);
        fsyncs[1]();
        await Promise.all(later);
        expect(commits).toBe(2);
        expect(await dataSource.manager.count(ReplayCacheEntryEntity)).toBe(5);
      } finally {
        flush.mockRestore();
      }
    },
  );

  // PostgreSQL makes every COMMIT durable itself: there is no WAL fsync of ours to count or to skip.
  testOnSqlite('WAL group commit')(
    'a group of writes that need no durability is settled at COMMIT, without an fsync of the WAL',
    async () => {
      const durability = walDurabilityOf(dataSource);
      const flushesBefore = durability?.flushes ?? 0;
      const group = CommitGroup.of(dataSource);
      await Promise.all(
        ['d', 'e', 'f'].map((key) => group.submit(insertKey(key.repeat(64)), { durable: false })),
      );
      expect(durability?.flushes).toBe(flushesBefore);

      await group.submit(insertKey('9'.repeat(64)));
      expect(durability?.flushes).toBe(flushesBefore + 1);
    },
  );
});
