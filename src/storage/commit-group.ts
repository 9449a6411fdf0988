import type { DataSource, EntityManager } from 'typeorm';
import type { BlobStore } from './blob-store';
import { runSerializedWrite } from './serial-access';
import { isDatabaseUnavailable } from './storage-errors';
import { makeCommitsDurable } from './wal-durability';

/**
 * One write of a group: runs inside the group's transaction, inside its own SAVEPOINT. It places its
 * blobs with `BlobStore.place`, which adds to `directoriesToSync`; the group fsyncs those directories
 * once, before its COMMIT.
 */
export type GroupedWrite<T> = (manager: EntityManager, directoriesToSync: Set<string>) => Promise<T>;

/** At most this many writes share one transaction (bounds the time the database is held). */
const MAX_GROUP_SIZE = 64;

const SAVEPOINT = 'grouped_write';

interface Pending<T> {
  write: GroupedWrite<T>;
  resolve: (value: T) => void;
  reject: (error: unknown) => void;
}

type Settlement = { ok: true; value: unknown } | { ok: false; error: unknown };

/**
 * Group commit of writes that each hold an answer to a client (an accepted item): the writes that
 * arrive while a group is being stored wait, and go together into the next transaction, one SAVEPOINT
 * each, so that one write's failure (a unique violation: a lost race on a Token or a ticket) rolls back
 * that write only. Per group, the database is held once, the blob directories are fsynced once (in
 * parallel, before the COMMIT: a durable row never names a blob whose name could still be lost) and the
 * WAL is fsynced once (after the COMMIT, off the event loop, while the next group is already being
 * written; see wal-durability.ts).
 *
 * A write's promise settles once its group's commit is durable (or failed): fulfilled with what the
 * write returned, rejected with what it threw (its savepoint rolled back, the others kept), or rejected
 * with the group's error when the transaction, the directory fsyncs, the COMMIT or the WAL fsync failed.
 * A busy or closed database fails the whole group at once (each write would wait the busy timeout).
 */
export class CommitGroup {
  private readonly queue: Pending<unknown>[] = [];
  private draining = false;

  constructor(
    private readonly dataSource: DataSource,
    private readonly blobs: BlobStore,
  ) {}

  /** Stores `write` with the next group; see the class comment for when and how it settles. */
  submit<T>(write: GroupedWrite<T>): Promise<T> {
    return new Promise<T>((resolve, reject) => {
      this.queue.push({ write, resolve: resolve as (value: unknown) => void, reject });
      if (!this.draining) void this.drain();
    });
  }

  private async drain(): Promise<void> {
    this.draining = true;
    try {
      while (this.queue.length > 0) await this.store(this.queue.splice(0, MAX_GROUP_SIZE));
    } finally {
      this.draining = false;
    }
  }

  /** Writes and commits one group; resolves after the COMMIT, settles the writes after the WAL fsync. */
  private async store(group: Pending<unknown>[]): Promise<void> {
    const settlements: Settlement[] = [];
    let groupError: { error: unknown } | undefined;
    try {
      await runSerializedWrite(this.dataSource, () =>
        this.dataSource.transaction(async (manager) => {
          const directoriesToSync = new Set<string>();
          for (const pending of group) {
            settlements.push(await this.writeInSavepoint(manager, pending.write, directoriesToSync));
          }
          await this.blobs.syncDirectories(directoriesToSync);
        }),
      );
    } catch (error) {
      groupError = { error };
    }
    void this.settleWhenDurable(group, settlements, groupError);
  }

  private async writeInSavepoint(
    manager: EntityManager,
    write: GroupedWrite<unknown>,
    directoriesToSync: Set<string>,
  ): Promise<Settlement> {
    await manager.query(`SAVEPOINT ${SAVEPOINT}`);
    try {
      const value = await write(manager, directoriesToSync);
      await manager.query(`RELEASE ${SAVEPOINT}`);
      return { ok: true, value };
    } catch (error) {
      if (isDatabaseUnavailable(error)) throw error;
      // When SQLite rolled the whole transaction back already, this throws and the group fails.
      await manager.query(`ROLLBACK TO ${SAVEPOINT}`);
      await manager.query(`RELEASE ${SAVEPOINT}`);
      return { ok: false, error };
    }
  }

  private async settleWhenDurable(
    group: Pending<unknown>[],
    settlements: Settlement[],
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
    group.forEach((pending, index) => {
      const settlement = settlements[index];
      if (failure !== undefined) pending.reject(failure.error);
      else if (settlement.ok) pending.resolve(settlement.value);
      else pending.reject(settlement.error);
    });
  }
}
