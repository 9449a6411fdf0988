import { performance } from 'node:perf_hooks';
import type { DataSource, EntityManager } from 'typeorm';
import { fsyncDirectories } from './blob-store';
import { runStatement } from './run-statement';
import { runSerializedWrite } from './serial-access';
import { isDatabaseUnavailable } from './storage-errors';
import { makeCommitsDurable } from './wal-durability';

/**
 * One write of a group: runs inside the group's transaction, inside its own SAVEPOINT (unless submitted
 * with `savepoint: false`). It places its blobs with `BlobStore.place`, which adds to
 * `directoriesToSync`; the group fsyncs those directories once, before its COMMIT.
 */
export type GroupedWrite<T> = (manager: EntityManager, directoriesToSync: Set<string>) => Promise<T>;

/** Options of {@link CommitGroup.submit}. */
export interface SubmitOptions {
  /**
   * Settle only once the commit survives a power loss (the WAL fsynced): a write promised to a client,
   * such as an accepted item. `false` settles right after the COMMIT (which survives a crash of the
   * process): a replay-cache entry, which protects nothing a power cut could lose (see
   * typeorm-replay-store.ts). Default `true`.
   */
  durable?: boolean;
  /**
   * `false`: the write is statements that fail only when the database does (an `INSERT … ON CONFLICT`,
   * a `DELETE`), so it runs without a SAVEPOINT of its own: two statements less. Should it fail all
   * the same, its whole group fails (PostgreSQL cannot go on with a transaction after a failed
   * statement: a COMMIT would silently roll back the writes already reported done). Default `true`.
   */
  savepoint?: boolean;
}

/** At most this many writes share one transaction (bounds the time the database is held). */
const MAX_GROUP_SIZE = 64;

/**
 * How often groups may start: a group starts at least this long after the previous one started, so
 * that under load the writes of those milliseconds share one transaction: fewer COMMITs, lock turns and
 * pages written per item. Chosen with two workers on one SQLite file (bench/README.md): 6 ms against
 * 3 ms in eight interleaved sendDocument runs at concurrency 16 gave less CPU per request in seven
 * (0.36 transactions per request instead of 0.48) and a lower p99 in seven; 9 ms and 10 ms left the
 * cores idle. A write arriving after a quiet moment is not delayed, nor one arriving alone while groups
 * have lately held one write each (a lone client's: at concurrency 1 the pacing halved its throughput).
 */
export const DEFAULT_MIN_GROUP_INTERVAL_MS = 6;

/** The pacing of the groups: its interval, and the time and timer it reads (tests replace them). */
export interface GroupPacing {
  minIntervalMs: number;
  /** A monotonic time in ms. */
  now: () => number;
  delay: (ms: number) => Promise<void>;
}

const defaultPacing: GroupPacing = {
  minIntervalMs: DEFAULT_MIN_GROUP_INTERVAL_MS,
  now: () => performance.now(),
  delay: (ms) => new Promise((resolve) => setTimeout(resolve, ms)),
};

let pacing: GroupPacing = defaultPacing;

/** Replaces the pacing of every CommitGroup (undefined: back to the default). For tests. */
export function useGroupPacing(replacement: GroupPacing | undefined): void {
  pacing = replacement ?? defaultPacing;
}

const SAVEPOINT = 'grouped_write';

interface Pending<T> {
  write: GroupedWrite<T>;
  durable: boolean;
  savepoint: boolean;
  resolve: (value: T) => void;
  reject: (error: unknown) => void;
}

type Settlement = { ok: true; value: unknown } | { ok: false; error: unknown };

const groupsByDataSource = new WeakMap<DataSource, CommitGroup>();

/**
 * Group commit of the writes of one DataSource: the writes that arrive while a group is being stored
 * wait, and go together into the next transaction, one SAVEPOINT each, so that one write's failure (a
 * unique violation: a lost race on a Token, a ticket or a replay-cache key) rolls back that write only.
 * Per group, the database is held once (with the cross-process write lock, taken once), the blob
 * directories are fsynced once (in parallel, before the COMMIT: a durable row never names a blob whose
 * name could still be lost) and the WAL is fsynced once when the group holds a durable write (after the
 * COMMIT, off the event loop; see wal-durability.ts).
 *
 * The next group starts once that fsync is done: a write arriving while it runs would have to wait for
 * the next fsync anyway, and so do the writes arriving with it, which therefore share one transaction.
 * Under load this makes one COMMIT (its lock, its WAL commit frame, its index pages) per fsync rather than
 * one per write; alone, a write finds no fsync running and is committed at once. Under load (groups
 * lately held 1.5 writes or more on average, or several writes wait), groups also start at most every
 * {@link DEFAULT_MIN_GROUP_INTERVAL_MS} ms, for the same reason. A write that needs no
 * durability waits for that fsync too (at most one), and settles at its COMMIT.
 *
 * A write's promise settles once its group's commit is durable (a durable write) or done (the others):
 * fulfilled with what the write returned, rejected with what it threw (its savepoint rolled back, the
 * others kept), or rejected with the group's error when the transaction, the directory fsyncs, the
 * COMMIT or (for durable writes) the WAL fsync failed. A busy or closed database fails the whole group
 * at once (each write would wait the busy timeout).
 */
export class CommitGroup {
  private readonly queue: Pending<unknown>[] = [];
  private draining = false;
  /** The WAL fsync of the last group that held a durable write, while it runs. */
  private flushing: Promise<void> | undefined;
  /** When the last group started (`pacing.now()`). */
  private lastGroupStart = -Infinity;
  /** The writes per group lately: each group's size weighs half, the earlier average the other half. */
  private recentGroupSize = 1;
  private committedGroups = 0;
  private committedWrites = 0;

  /** Transactions committed so far (one per group). */
  get transactions(): number {
    return this.committedGroups;
  }

  /** Writes those transactions held (with the ones that failed alone, their savepoint rolled back). */
  get writes(): number {
    return this.committedWrites;
  }

  /** The one group of `dataSource`: every store writing through it shares its transactions. */
  static of(dataSource: DataSource): CommitGroup {
    let group = groupsByDataSource.get(dataSource);
    if (group === undefined) {
      group = new CommitGroup(dataSource);
      groupsByDataSource.set(dataSource, group);
    }
    return group;
  }

  private constructor(private readonly dataSource: DataSource) {}

  /** Stores `write` with the next group; see the class comment for when and how it settles. */
  submit<T>(write: GroupedWrite<T>, options: SubmitOptions = {}): Promise<T> {
    return new Promise<T>((resolve, reject) => {
      this.queue.push({
        write,
        durable: options.durable ?? true,
        savepoint: options.savepoint ?? true,
        resolve: resolve as (value: unknown) => void,
        reject,
      });
      if (!this.draining) void this.drain();
    });
  }

  private async drain(): Promise<void> {
    this.draining = true;
    try {
      // Writes submitted in the same turn as this one join its group (with PostgreSQL too, where the
      // group's turn would come at once).
      await undefined;
      while (this.queue.length > 0) {
        // The next transaction waits for the running flush: the writes that arrive meanwhile join it,
        // so that under load there is one COMMIT per fsync, not one per write (see the class comment).
        if (this.flushing !== undefined) await this.flushing;
        // Paced under load only: when groups have lately held more than one write, or several wait now.
        // A lone client's writes (its replay-cache entry, then its item a few ms later) are not held back.
        const underLoad = this.recentGroupSize >= 1.5 || this.queue.length > 1;
        const wait = underLoad ? this.lastGroupStart + pacing.minIntervalMs - pacing.now() : 0;
        if (wait > 0) await pacing.delay(wait);
        this.lastGroupStart = pacing.now();
        await this.storeNextGroup();
      }
    } finally {
      this.draining = false;
    }
  }

  /**
   * Writes and commits the next group; resolves after the COMMIT, settles durable writes after the WAL
   * fsync. The group is taken from the queue once the database is this process's to write (in a
   * cluster, once the write lock is taken): the writes that arrive while it waits join it, so a lock and
   * a COMMIT serve as many writes as possible without delaying any.
   */
  private async storeNextGroup(): Promise<void> {
    let group: Pending<unknown>[] | undefined;
    const settlements: Settlement[] = [];
    let groupError: { error: unknown } | undefined;
    try {
      await runSerializedWrite(this.dataSource, () => {
        group = this.queue.splice(0, MAX_GROUP_SIZE);
        this.recentGroupSize = (this.recentGroupSize + group.length) / 2;
        const taken = group;
        return this.dataSource.transaction(async (manager) => {
          const directoriesToSync = new Set<string>();
          for (const pending of taken) {
            settlements.push(
              pending.savepoint
                ? await this.writeInSavepoint(manager, pending.write, directoriesToSync)
                : // Its failure fails the group (see SubmitOptions.savepoint).
                  { ok: true, value: await pending.write(manager, directoriesToSync) },
            );
          }
          await fsyncDirectories(directoriesToSync);
        });
      });
      this.committedGroups += 1;
      this.committedWrites += group?.length ?? 0;
    } catch (error) {
      groupError = { error };
    }
    // Failed before its turn came: the writes it would have taken fail with that error.
    group ??= this.queue.splice(0, MAX_GROUP_SIZE);
    const outcomes = group.map((pending, index) => ({ pending, settlement: settlements[index] }));
    for (const { pending, settlement } of outcomes) {
      if (!pending.durable) settle(pending, settlement, groupError);
    }
    const durable = outcomes.filter(({ pending }) => pending.durable);
    if (durable.length > 0) {
      const flushing = this.settleWhenDurable(durable, groupError);
      this.flushing = flushing;
      void flushing.then(() => {
        if (this.flushing === flushing) this.flushing = undefined;
      });
    }
  }

  private async writeInSavepoint(
    manager: EntityManager,
    write: GroupedWrite<unknown>,
    directoriesToSync: Set<string>,
  ): Promise<Settlement> {
    await runStatement(manager, `SAVEPOINT ${SAVEPOINT}`);
    try {
      const value = await write(manager, directoriesToSync);
      await runStatement(manager, `RELEASE ${SAVEPOINT}`);
      return { ok: true, value };
    } catch (error) {
      if (isDatabaseUnavailable(error)) throw error;
      // When SQLite rolled the whole transaction back already, this throws and the group fails.
      await runStatement(manager, `ROLLBACK TO ${SAVEPOINT}`);
      await runStatement(manager, `RELEASE ${SAVEPOINT}`);
      return { ok: false, error };
    }
  }

  private async settleWhenDurable(
    outcomes: { pending: Pending<unknown>; settlement: Settlement | undefined }[],
    groupError: { error: unknown } | undefined,
  ): Promise<void> {
    let failure = groupError;
    if (failure === undefined) {
      try {
        await makeCommitsDurable(this.dataSource);
      } catch (error) {
        failure = { error };
      }
    }
    for (const { pending, settlement } of outcomes) settle(pending, settlement, failure);
  }
}

/** Settles one write: the group's failure first, else its own outcome. */
function settle(
  pending: Pending<unknown>,
  settlement: Settlement | undefined,
  failure: { error: unknown } | undefined,
): void {
  if (failure !== undefined || settlement === undefined) pending.reject(failure?.error);
  else if (settlement.ok) pending.resolve(settlement.value);
  else pending.reject(settlement.error);
}
