import { In, type DataSource, type EntityManager } from 'typeorm';
import {
  DELIVERY_EVENTS,
  type AwaitingConsultation,
  type ClaimedItem,
  type ConsultedItem,
  type DeferredItem,
  type FailedItem,
  type OutboxStore,
  type PublishedItem,
} from '../domain/outbox';
import type { ItemStatus } from '../domain/model';
import { CommitGroup } from './commit-group';
import type { ContentStore } from './content-store';
import {
  ItemProofEntity,
  ItemPublicationEntity,
  ItemStatusHistoryEntity,
  OutboxEntryEntity,
  RegisteredMailItemEntity,
  type NewItemStatusHistoryRow,
} from './entities';
import { loadItemFacts } from './item-facts-mapping';
import { storeProof } from './proof-records';
import { RowInserter } from './row-inserter';
import { runSerialized, runSerializedWrite } from './serial-access';
import { toStorageFault } from './storage-errors';
import { timeText } from './time-column';

/** An entry is claimable when it is due and no live lease holds it (the same test in SELECT and UPDATE). */
const CLAIMABLE = 'next_attempt_at <= :now AND (lease_expires_at IS NULL OR lease_expires_at <= :now)';

/** The detail of the NO_DIGITAL_USER history row. */
const NO_DIGITAL_USER_DETAIL =
  'The recipient has no e-Box (NO_DIGITAL_USER); the item was published all the same.';

/** The INSERTs of delivery records, one per table (see row-inserter.ts for why not `manager.insert`). */
interface DeliveryInserters {
  history: RowInserter<NewItemStatusHistoryRow>;
  publications: RowInserter<ItemPublicationEntity>;
  proofs: RowInserter<ItemProofEntity>;
}

/**
 * The {@link OutboxStore} on TypeORM. Claims are compare-and-set UPDATEs whose WHERE repeats the
 * claimable test (SQLite), or row locks taken with `SKIP LOCKED` and then the lease set (PostgreSQL);
 * every write after a claim starts with a write on the entry conditioned on its owner, and writes
 * nothing else when that affects no row. Every access is queued per database file, and those that
 * write take the cluster's write lock when there is one (`read`, `write` and `transaction` below; see
 * `serial-access.ts`; nothing is queued on PostgreSQL); failures become service errors (see
 * `storage-errors.ts`).
 *
 * On SQLite, transactions start with their write (never a read first), so that a transaction waits for
 * the write lock (busy timeout) instead of failing to upgrade a stale read snapshot.
 */
export class TypeormOutboxStore implements OutboxStore {
  /** Built at the first record: the DataSource may not be initialised (no metadata yet) at construction. */
  private inserters: DeliveryInserters | undefined;

  constructor(
    private readonly dataSource: DataSource,
    private readonly contents: ContentStore,
  ) {}

  async claimDue(owner: string, now: Date, leaseExpiresAt: Date, limit: number): Promise<ClaimedItem[]> {
    if (limit <= 0) return [];
    const claimed =
      this.dataSource.options.type === 'postgres'
        ? await this.claimLocking(owner, now, leaseExpiresAt, limit)
        : await this.claimComparingAndSetting(owner, now, leaseExpiresAt, limit);
    if (claimed.length === 0) return [];
    const facts = await this.read((manager) =>
      loadItemFacts(
        manager,
        claimed.map((entry) => entry.ticket),
      ),
    );
    return claimed.map((entry) => ({
      ...factsOf(facts, entry.ticket),
      attempts: entry.attempts,
      owner,
      leaseExpiresAt,
    }));
  }

  /**
   * SQLite: the due entries read, then each claimed by a compare-and-set UPDATE (its WHERE repeats the
   * claimable test and the attempts as read), in one turn at the write lock but not in one transaction:
   * another worker may have claimed an entry since the SELECT, and then its UPDATE affects no row.
   */
  private async claimComparingAndSetting(
    owner: string,
    now: Date,
    leaseExpiresAt: Date,
    limit: number,
  ): Promise<OutboxEntryEntity[]> {
    const candidates = await this.read((manager) =>
      this.dueEntries(manager, now, limit).select(['entry.ticket', 'entry.attempts']).getMany(),
    );
    if (candidates.length === 0) return [];
    return this.write(async (manager) => {
      const won: OutboxEntryEntity[] = [];
      for (const candidate of candidates) {
        const result = await manager
          .createQueryBuilder()
          .update(OutboxEntryEntity)
          .set({ leaseOwner: owner, leaseExpiresAt })
          // The attempts as read: the claimed item reports how many attempts failed before this claim.
          .where('ticket = :ticket AND attempts = :attempts', {
            ticket: candidate.ticket,
            attempts: candidate.attempts,
          })
          .andWhere(CLAIMABLE, { now: timeText(now) })
          .execute();
        if (result.affected === 1) won.push(candidate);
      }
      return won;
    });
  }

  /**
   * PostgreSQL: one transaction locks the due entries (`FOR UPDATE SKIP LOCKED`: entries another worker
   * is claiming at this moment are passed over instead of waited for, and an entry claimed and committed
   * since is re-checked against the claimable test on its new version), then sets their lease. Workers
   * claiming together thus get disjoint batches at once, none of them waiting for another's claim.
   */
  private async claimLocking(
    owner: string,
    now: Date,
    leaseExpiresAt: Date,
    limit: number,
  ): Promise<OutboxEntryEntity[]> {
    try {
      return await this.dataSource.transaction(async (manager) => {
        const locked = await this.dueEntries(manager, now, limit)
          .select(['entry.ticket', 'entry.attempts'])
          .setLock('pessimistic_write')
          .setOnLocked('skip_locked')
          .getMany();
        if (locked.length === 0) return [];
        await manager
          .createQueryBuilder()
          .update(OutboxEntryEntity)
          .set({ leaseOwner: owner, leaseExpiresAt })
          .where({ ticket: In(locked.map((entry) => entry.ticket)) })
          .execute();
        return locked;
      });
    } catch (error) {
      throw toStorageFault(error);
    }
  }

  /** The claimable entries, oldest acceptance first, at most `limit`. */
  private dueEntries(manager: EntityManager, now: Date, limit: number) {
    return manager
      .createQueryBuilder(OutboxEntryEntity, 'entry')
      .where(CLAIMABLE, { now: timeText(now) })
      .orderBy('entry.acceptedAt', 'ASC')
      .addOrderBy('entry.ticket', 'ASC')
      .limit(limit);
  }

  async renewLease(ticket: string, owner: string, leaseExpiresAt: Date): Promise<boolean> {
    const result = await this.write((manager) =>
      manager.update(OutboxEntryEntity, { ticket, leaseOwner: owner }, { leaseExpiresAt }),
    );
    return result.affected === 1;
  }

  async releaseClaim(ticket: string, owner: string): Promise<void> {
    // next_attempt_at is left as it was: it had passed when the entry was claimed, so it is due at once.
    await this.write((manager) =>
      manager.update(
        OutboxEntryEntity,
        { ticket, leaseOwner: owner },
        { leaseOwner: null, leaseExpiresAt: null },
      ),
    );
  }

  async recordPublished(outcome: PublishedItem): Promise<boolean> {
    const { ticket, owner, proof, recordedAt } = outcome;
    if (proof.kind !== 'DISPATCH')
      throw toStorageFault(new Error('A publication is proven by a DISPATCH proof'));
    return this.transaction(async (manager) => {
      if (!(await this.leaveOutbox(manager, ticket, owner))) return false;
      await storeProof(manager, this.contents, this.rowInserters().proofs, ticket, proof);
      await this.rowInserters().publications.insert(manager, {
        ticket,
        eboxMessageId: outcome.eboxMessageId,
        publishedAt: outcome.publishedAt,
        noDigitalUser: outcome.noDigitalUser,
        consultedAt: null,
        consultationCheckedAt: null,
      });
      await setStatus(manager, ticket, 'SENT', recordedAt);
      const history = this.rowInserters().history;
      await history.insert(manager, {
        ticket,
        status: 'SENT',
        event: DELIVERY_EVENTS.published,
        occurredAt: recordedAt,
        detail: `e-Box message ${outcome.eboxMessageId}`,
      });
      if (outcome.noDigitalUser) {
        await history.insert(manager, {
          ticket,
          status: 'SENT',
          event: DELIVERY_EVENTS.noDigitalUser,
          occurredAt: recordedAt,
          detail: NO_DIGITAL_USER_DETAIL,
        });
      }
      return true;
    });
  }

  async recordDeferred(outcome: DeferredItem): Promise<boolean> {
    return this.transaction(async (manager) => {
      const result = await manager
        .createQueryBuilder()
        .update(OutboxEntryEntity)
        .set({
          attempts: () => 'attempts + 1',
          nextAttemptAt: outcome.nextAttemptAt,
          leaseOwner: null,
          leaseExpiresAt: null,
          lastError: outcome.reason,
        })
        .where('ticket = :ticket AND lease_owner = :owner', { ticket: outcome.ticket, owner: outcome.owner })
        .execute();
      return result.affected === 1;
    });
  }

  async recordFailed(outcome: FailedItem): Promise<boolean> {
    const { ticket, owner, reason, recordedAt } = outcome;
    return this.transaction(async (manager) => {
      if (!(await this.leaveOutbox(manager, ticket, owner))) return false;
      await setStatus(manager, ticket, 'ERROR', recordedAt);
      await this.rowInserters().history.insert(manager, {
        ticket,
        status: 'ERROR',
        event: DELIVERY_EVENTS.publicationFailed,
        occurredAt: recordedAt,
        detail: reason,
      });
      return true;
    });
  }

  async listAwaitingConsultation(limit: number, now: Date): Promise<AwaitingConsultation[]> {
    if (limit <= 0) return [];
    // No transaction: two pollers may list the same item at the same moment, and recordConsulted is
    // once-only anyway. Marking the rows checked is what moves every later call on.
    // Never checked first (oldest publication first), then the longest unchecked. Two queries, each an
    // index range of IDX_item_publication_awaiting (consulted_at, consultation_checked_at) read in order
    // up to the limit: one query ordering the NULLs first would sort every unconsulted publication.
    const publications = await this.read(async (manager) => {
      const awaiting = () =>
        manager
          .createQueryBuilder(ItemPublicationEntity, 'publication')
          .innerJoin(RegisteredMailItemEntity, 'item', 'item.ticket = publication.ticket')
          .where('publication.consultedAt IS NULL')
          .andWhere('item.status = :sent', { sent: 'SENT' });
      const neverChecked = await awaiting()
        .andWhere('publication.consultationCheckedAt IS NULL')
        .orderBy('publication.publishedAt', 'ASC')
        .addOrderBy('publication.ticket', 'ASC')
        .limit(limit)
        .getMany();
      if (neverChecked.length === limit) return neverChecked;
      const checkedLongest = await awaiting()
        .andWhere('publication.consultationCheckedAt IS NOT NULL')
        .orderBy('publication.consultationCheckedAt', 'ASC')
        .addOrderBy('publication.publishedAt', 'ASC')
        .addOrderBy('publication.ticket', 'ASC')
        .limit(limit - neverChecked.length)
        .getMany();
      return [...neverChecked, ...checkedLongest];
    });
    if (publications.length === 0) return [];
    await this.write((manager) =>
      manager.update(
        ItemPublicationEntity,
        { ticket: In(publications.map((publication) => publication.ticket)) },
        { consultationCheckedAt: now },
      ),
    );
    const facts = await this.read((manager) =>
      loadItemFacts(
        manager,
        publications.map((publication) => publication.ticket),
      ),
    );
    return publications.map((publication) => ({
      ...factsOf(facts, publication.ticket),
      eboxMessageId: publication.eboxMessageId,
      publishedAt: publication.publishedAt,
    }));
  }

  async recordConsulted(outcome: ConsultedItem): Promise<boolean> {
    const { ticket, readAt, proof } = outcome;
    if (proof.kind !== 'CONSULTATION') {
      throw toStorageFault(new Error('A consultation is proven by a CONSULTATION proof'));
    }
    return this.transaction(async (manager) => {
      const result = await manager
        .createQueryBuilder()
        .update(ItemPublicationEntity)
        .set({ consultedAt: readAt })
        .where('ticket = :ticket AND consulted_at IS NULL', { ticket })
        .execute();
      if (result.affected !== 1) return false;
      await storeProof(manager, this.contents, this.rowInserters().proofs, ticket, proof);
      await this.rowInserters().history.insert(manager, {
        ticket,
        status: 'SENT',
        event: DELIVERY_EVENTS.consulted,
        occurredAt: readAt,
        detail: null,
      });
      return true;
    });
  }

  async depth(): Promise<{ count: number; oldestAcceptedAt: Date | undefined }> {
    const row = await this.read((manager) =>
      manager
        .createQueryBuilder(OutboxEntryEntity, 'entry')
        .select('COUNT(*)', 'count')
        .addSelect('MIN(entry.acceptedAt)', 'oldest')
        .getRawOne<{ count: number | string; oldest: string | null }>(),
    );
    // COUNT is a number on SQLite and a bigint text on PostgreSQL.
    return {
      count: Number(row?.count ?? 0),
      oldestAcceptedAt: row?.oldest ? new Date(row.oldest) : undefined,
    };
  }

  /** Deletes the entry while `owner` holds it: true when it did (the caller may go on writing). */
  private async leaveOutbox(manager: EntityManager, ticket: string, owner: string): Promise<boolean> {
    const result = await manager
      .createQueryBuilder()
      .delete()
      .from(OutboxEntryEntity)
      .where('ticket = :ticket AND lease_owner = :owner', { ticket, owner })
      .execute();
    return result.affected === 1;
  }

  /** The INSERTs of delivery records, built at first use. */
  private rowInserters(): DeliveryInserters {
    return (this.inserters ??= {
      history: new RowInserter<NewItemStatusHistoryRow>(this.dataSource, ItemStatusHistoryEntity),
      publications: new RowInserter(this.dataSource, ItemPublicationEntity),
      proofs: new RowInserter(this.dataSource, ItemProofEntity),
    });
  }

  /** Statements that only read. */
  private async read<T>(work: (manager: EntityManager) => Promise<T>): Promise<T> {
    try {
      return await runSerialized(this.dataSource, () => work(this.dataSource.manager));
    } catch (error) {
      throw toStorageFault(error);
    }
  }

  /**
   * Statements that write, each committed on its own (claims, leases, consultation bookkeeping). They
   * need not be durable against a power loss: a power loss ends every lease, an entry whose claim was
   * lost is simply claimed again, and a lost check mark only makes an item checked again.
   */
  private async write<T>(work: (manager: EntityManager) => Promise<T>): Promise<T> {
    try {
      return await runSerializedWrite(this.dataSource, () => work(this.dataSource.manager));
    } catch (error) {
      throw toStorageFault(error);
    }
  }

  /**
   * The records of a delivery (published with its proof, deferred, failed, consulted with its proof):
   * each atomic (its own savepoint) and durable against a power loss before the caller goes on, written
   * with the database's group commit (commit-group.ts), so that the records of many deliveries, and the
   * accepts of the same moment, share one transaction, one turn at the write lock and one WAL fsync.
   */
  private async transaction<T>(work: (manager: EntityManager) => Promise<T>): Promise<T> {
    try {
      return await CommitGroup.of(this.dataSource).submit((manager) => work(manager));
    } catch (error) {
      throw toStorageFault(error);
    }
  }
}

function factsOf<T>(facts: Map<string, T>, ticket: string): T {
  const found = facts.get(ticket);
  if (found === undefined) throw toStorageFault(new Error(`No item stored for ticket ${ticket}`));
  return found;
}

async function setStatus(
  manager: EntityManager,
  ticket: string,
  status: ItemStatus,
  at: Date,
): Promise<void> {
  await manager.update(RegisteredMailItemEntity, { ticket }, { status, updatedAt: at });
}
