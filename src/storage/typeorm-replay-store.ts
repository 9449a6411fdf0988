import type { DataSource, EntityManager } from 'typeorm';
import type { Clock } from '../clock/clock';
import type { ReplayEntry, ReplayGuard } from '../policy/replay-guard';
import { ReplayCacheEntryEntity } from './entities';
import { CommitGroup } from './commit-group';
import { runStatement } from './run-statement';
import { toStorageFault } from './storage-errors';
import { timeText } from './time-column';

/** How much clock time passes between two purges of expired entries, unless configured otherwise. */
export const DEFAULT_REPLAY_PURGE_INTERVAL_MS = 5 * 60 * 1000;

/** Options of {@link TypeormReplayStore}. */
export interface ReplayStoreOptions {
  /** Clock time between two purges; {@link DEFAULT_REPLAY_PURGE_INTERVAL_MS} when omitted. */
  purgeIntervalMs?: number;
}

/**
 * The replay cache in the service's database, so that it survives restarts and is shared by every
 * process and node on that database.
 *
 * Recording is one INSERT of the message key, the primary key: a conflict on the key means the message
 * was seen, and of two nodes racing on one message exactly one insert wins. An entry counts until its
 * `expiresAt` (inclusive) and never after, even before it is purged: a known key whose entry has expired
 * is taken over by the same statement's conditional UPDATE (`ON CONFLICT ... DO UPDATE ... WHERE
 * expires_at < now`), which again only one racer can win. Expired entries are deleted by a purge that
 * runs inside a recording at most once per `purgeIntervalMs` of the injected clock's time (no timer: an
 * idle service keeps its few expired rows, which never count).
 *
 * Every access writes (a recording, a purge): it goes with the next group commit of the database (see
 * commit-group.ts: one transaction for the recordings and accepted items that arrive together, each in
 * its own savepoint, and the cluster's write lock taken once per group); failures become service errors
 * (`toStorageFault`: an unavailable database is SOA-02002).
 *
 * Durability: an entry is committed before the message is processed, so it survives a crash of the
 * process. It is not fsynced on its own (`synchronous = NORMAL`, see data-source.ts): the next group
 * commit of an accepted item fsyncs the WAL, and the WAL is replayed in order, so an item that survives
 * a power loss has its message's entry too. An entry lost with a power cut is one whose message did not
 * get an item durably stored (a refused or failed send, or a read such as getStatus): processing such a
 * message again creates nothing twice.
 */
export class TypeormReplayStore implements ReplayGuard {
  private readonly purgeIntervalMs: number;
  /** Clock time (ms) from which the next recording purges; undefined: the next one does. */
  private nextPurgeAt: number | undefined;

  constructor(
    private readonly dataSource: DataSource,
    private readonly clock: Clock,
    options: ReplayStoreOptions = {},
  ) {
    this.purgeIntervalMs = options.purgeIntervalMs ?? DEFAULT_REPLAY_PURGE_INTERVAL_MS;
    if (!Number.isSafeInteger(this.purgeIntervalMs) || this.purgeIntervalMs < 0) {
      throw new RangeError('purgeIntervalMs must be a non-negative integer');
    }
  }

  async recordFirstSighting(entry: ReplayEntry): Promise<boolean> {
    return this.write(async (manager) => {
      const now = this.clock.now();
      if (this.nextPurgeAt === undefined || now.getTime() >= this.nextPurgeAt) {
        await deleteExpired(manager, now);
        this.nextPurgeAt = now.getTime() + this.purgeIntervalMs;
      }
      return insertOrTakeOverExpired(manager, entry, now);
    });
  }

  /**
   * Deletes every entry expired at the clock's time now (the periodic purge does this by itself).
   * @returns how many entries were deleted
   */
  async purgeExpired(): Promise<number> {
    return this.write((manager) => deleteExpired(manager, this.clock.now()));
  }

  /**
   * With the next group commit of the database, settled once committed (not waiting for an fsync), and
   * without a savepoint of its own.
   */
  private async write<T>(work: (manager: EntityManager) => Promise<T>): Promise<T> {
    try {
      // An INSERT … ON CONFLICT and a DELETE fail only with the database: no savepoint needed.
      return await CommitGroup.of(this.dataSource).submit((manager) => work(manager), {
        durable: false,
        savepoint: false,
      });
    } catch (error) {
      throw toStorageFault(error);
    }
  }
}

async function deleteExpired(manager: EntityManager, now: Date): Promise<number> {
  const result = await manager
    .createQueryBuilder()
    .delete()
    .from(ReplayCacheEntryEntity)
    .where('expires_at < :now', { now: timeText(now) })
    .execute();
  return result.affected ?? 0;
}

/**
 * Records the entry unless its key is known and still counts: one statement, an INSERT whose conflict
 * on the key becomes an UPDATE only when the known entry has expired (`expires_at < now`). It returns
 * the row it wrote (RETURNING), so no row means a replay. One statement rather than "INSERT, catch the
 * unique violation, UPDATE": on PostgreSQL a failed statement aborts the whole transaction (the group's),
 * and two racers on one key still get exactly one row back between them (the second waits for the first
 * to commit, then finds its entry unexpired). The same SQL on SQLite (3.35+) and PostgreSQL.
 */
async function insertOrTakeOverExpired(
  manager: EntityManager,
  entry: ReplayEntry,
  now: Date,
): Promise<boolean> {
  const [sql, parameters] = manager.connection.driver.escapeQueryWithParameters(
    'INSERT INTO replay_cache (message_key, expires_at, seen_at) VALUES (:key, :expiresAt, :now) ' +
      'ON CONFLICT (message_key) DO UPDATE SET expires_at = excluded.expires_at, seen_at = excluded.seen_at ' +
      'WHERE replay_cache.expires_at < :now ' +
      'RETURNING message_key',
    { key: entry.key, expiresAt: timeText(entry.expiresAt), now: timeText(now) },
  );
  const written = await runStatement(manager, sql, parameters);
  return written.length === 1;
}
