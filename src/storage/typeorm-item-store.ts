import type { DataSource, EntityManager } from 'typeorm';
import type { AcceptedItem, AcceptOutcome, ItemStore, PriorAcceptance } from '../domain/item-store';
import type {
  IssuedReceipt,
  ItemHistoryView,
  ItemStatusView,
  ProofKind,
  Sender,
  StoredProof,
} from '../domain/model';
import { ACCEPTED_EVENT } from '../domain/outbox';
import { RepositoryError } from '../errors/faults';
import type { ContentStore, ContentToStore } from './content-store';
import { CommitGroup } from './commit-group';
import {
  ItemFileEntity,
  ItemPublicationEntity,
  ItemReceiptEntity,
  ItemStatusHistoryEntity,
  OutboxEntryEntity,
  RegisteredMailItemEntity,
  type NewItemStatusHistoryRow,
} from './entities';
import { historyOf } from './item-history-mapping';
import { findProofRow, proofOfRow } from './proof-records';
import { RowFinder } from './row-finder';
import { RowInserter } from './row-inserter';
import { runSerialized } from './serial-access';
import { isUniqueViolation, toStorageFault } from './storage-errors';

/** The history event written when an item is accepted (defined in the domain, next to the others). */
export { ACCEPTED_EVENT };

function itemRow(item: AcceptedItem): RegisteredMailItemEntity {
  const { command, sender } = item;
  const recipient = command.recipient;
  return {
    ticket: item.ticket,
    token: command.token,
    idempotencyToken: command.token === '' ? null : command.token,
    senderCbe: sender.cbe,
    senderApplicationId: sender.applicationId,
    recipientKind: recipient.kind,
    recipientId: recipient.kind === 'citizen' ? recipient.inss : recipient.cbe,
    recipientQualityCode: recipient.qualityCode,
    checkEboxStatus: command.checkEboxStatus,
    meta: JSON.stringify(command.meta),
    status: 'PENDING',
    requestFingerprint: item.requestFingerprint,
    acceptedAt: item.acceptedAt,
    updatedAt: item.acceptedAt,
  };
}

function fileRows(item: AcceptedItem): ItemFileEntity[] {
  const { document, annexes } = item.command;
  const documentRow: ItemFileEntity = {
    ticket: item.ticket,
    position: 0,
    role: 'DOCUMENT',
    title: document.title,
    digestMethod: document.digest.method,
    digestValue: document.digest.value.toString('base64'),
    downloadFileName: document.downloadFileName,
    mime: document.mime ?? null,
    documentType: document.type,
    language: document.language ?? null,
    size: item.document.size,
    blobSha256: item.document.sha256.toString('hex'),
  };
  const annexRows = annexes.map((annex, index): ItemFileEntity => ({
    ticket: item.ticket,
    position: index + 1,
    role: 'ANNEX',
    title: annex.title,
    digestMethod: annex.digest.method,
    digestValue: annex.digest.value.toString('base64'),
    downloadFileName: annex.downloadFileName,
    mime: annex.mime ?? null,
    documentType: null,
    language: null,
    size: item.annexes[index].size,
    blobSha256: item.annexes[index].sha256.toString('hex'),
  }));
  return [documentRow, ...annexRows];
}

/** The INSERTs of an accepted item, one per table (see row-inserter.ts for why not `manager.insert`). */
interface AcceptInserters {
  items: RowInserter<RegisteredMailItemEntity>;
  files: RowInserter<ItemFileEntity>;
  history: RowInserter<NewItemStatusHistoryRow>;
  outbox: RowInserter<OutboxEntryEntity>;
  receipts: RowInserter<ItemReceiptEntity>;
}

/** The look-ups of the request path (see row-finder.ts for why not `manager.findOne`). */
interface ItemFinders {
  /** A sender's item by its Token (the retry key). */
  byToken: RowFinder<
    RegisteredMailItemEntity,
    'ticket' | 'requestFingerprint',
    'senderCbe' | 'senderApplicationId' | 'idempotencyToken'
  >;
  /** A sender's item by its ticket: the WHERE holds the sender, so unknown and foreign cost the same. */
  sendersByTicket: RowFinder<
    RegisteredMailItemEntity,
    'ticket' | 'token' | 'status',
    'ticket' | 'senderCbe' | 'senderApplicationId'
  >;
}

function itemFindersOf(dataSource: DataSource): ItemFinders {
  return {
    byToken: new RowFinder(dataSource, RegisteredMailItemEntity, {
      select: ['ticket', 'requestFingerprint'],
      where: ['senderCbe', 'senderApplicationId', 'idempotencyToken'],
    }),
    sendersByTicket: new RowFinder(dataSource, RegisteredMailItemEntity, {
      select: ['ticket', 'token', 'status'],
      where: ['ticket', 'senderCbe', 'senderApplicationId'],
    }),
  };
}

function acceptInsertersOf(dataSource: DataSource): AcceptInserters {
  return {
    items: new RowInserter(dataSource, RegisteredMailItemEntity),
    files: new RowInserter(dataSource, ItemFileEntity),
    history: new RowInserter<NewItemStatusHistoryRow>(dataSource, ItemStatusHistoryEntity),
    outbox: new RowInserter(dataSource, OutboxEntryEntity),
    receipts: new RowInserter(dataSource, ItemReceiptEntity),
  };
}

/**
 * The {@link ItemStore} on TypeORM. An accepted item is its rows, its outbox entry and its content
 * (receipt, document, annexes: see `content-store.ts`), stored all at once or not at all, and durable
 * (against a crash of the process and a power loss) before {@link TypeormItemStore.accept} resolves, i.e.
 * before the receipt is answered:
 * 1. outside the database, in parallel with other requests: content too large for the database (staged
 *    files, a large receipt written to a temporary file) fsynced;
 * 2. with the items of concurrent requests, in one transaction (see `commit-group.ts`), each in its own
 *    savepoint: the rows, then the content stored (small content as rows; files as hard links, after
 *    the inserts, so a losing concurrent duplicate names no blob), then the blob directories fsynced,
 *    then COMMIT;
 * 3. the WAL fsynced once for the whole group (see `wal-durability.ts`).
 * Every access is queued per database file (see `serial-access.ts`) and failures become service errors
 * (see `storage-errors.ts`).
 */
export class TypeormItemStore implements ItemStore {
  private readonly commits: CommitGroup;
  /** Built at the first accept: the DataSource may not be initialised (no metadata yet) at construction. */
  private inserters: AcceptInserters | undefined;
  /** Built at the first look-up, for the same reason. */
  private itemFinders: ItemFinders | undefined;

  constructor(
    private readonly dataSource: DataSource,
    private readonly contents: ContentStore,
  ) {
    this.commits = CommitGroup.of(dataSource);
  }

  async findByToken(sender: Sender, token: string): Promise<PriorAcceptance | undefined> {
    if (token === '') return undefined;
    const row = await this.access((manager) =>
      this.finders().byToken.findOne(manager, {
        senderCbe: sender.cbe,
        senderApplicationId: sender.applicationId,
        idempotencyToken: token,
      }),
    );
    return row ? { ticket: row.ticket, requestFingerprint: row.requestFingerprint } : undefined;
  }

  async loadReceipt(ticket: string): Promise<IssuedReceipt> {
    const { item, receipt } = await this.access(async (manager) => ({
      item: await manager.findOne(RegisteredMailItemEntity, { select: { token: true }, where: { ticket } }),
      receipt: await manager.findOne(ItemReceiptEntity, { where: { ticket } }),
    }));
    if (!item || !receipt) {
      throw new RepositoryError({ cause: new Error(`No receipt stored for ticket ${ticket}`) });
    }
    let content: Buffer;
    try {
      content = await this.contents.read(receipt.contentSha256);
    } catch (error) {
      throw toStorageFault(error);
    }
    return {
      ticket,
      token: item.token,
      content,
      contentSha256: Buffer.from(receipt.contentSha256, 'hex'),
      signature: Buffer.from(receipt.signature, 'base64'),
      issuedAt: receipt.issuedAt,
    };
  }

  async accept(item: AcceptedItem): Promise<AcceptOutcome> {
    if (item.annexes.length !== item.command.annexes.length) {
      throw new RepositoryError({ cause: new Error('Staged annexes do not match the described annexes') });
    }
    const staged = [item.document, ...item.annexes];
    let receipt: ContentToStore | undefined;
    try {
      // The slow part of making the content durable (a large receipt written and fsynced, staged files
      // fsynced) comes first, in parallel with the other requests, and names nothing yet: a request that
      // loses below leaves nothing behind. Small content needs nothing here: it goes in with the rows.
      [receipt] = await Promise.all([
        this.contents.prepare(item.receipt.content),
        ...staged.map((content) => this.contents.syncContent(content)),
      ]);
      if (!receipt.sha256.equals(item.receipt.contentSha256)) {
        throw new Error('The issued receipt states another SHA-256 than its content has');
      }
      const receiptContent = receipt;
      await this.commits.submit((manager, directoriesToSync) =>
        this.insertAccepted(manager, item, receiptContent, directoriesToSync),
      );
      return { kind: 'accepted' };
    } catch (error) {
      if (!isUniqueViolation(error)) throw toStorageFault(error);
      return this.explainUniqueViolation(item, error);
    } finally {
      if (receipt !== undefined) await this.contents.release(receipt).catch(() => undefined);
    }
  }

  /**
   * The rows of an accepted item, then its content stored (receipt, document, annexes): inside the
   * group's transaction, after the inserts, so a losing concurrent duplicate fails before naming any blob.
   */
  private async insertAccepted(
    manager: EntityManager,
    item: AcceptedItem,
    receipt: ContentToStore,
    directoriesToSync: Set<string>,
  ): Promise<void> {
    const insert = (this.inserters ??= acceptInsertersOf(this.dataSource));
    // The item first: its key and the idempotency key decide who wins, before any blob is touched.
    await insert.items.insert(manager, itemRow(item));
    await insert.files.insert(manager, fileRows(item));
    await insert.history.insert(manager, {
      ticket: item.ticket,
      status: 'PENDING',
      event: ACCEPTED_EVENT,
      occurredAt: item.acceptedAt,
      detail: item.requestId === undefined ? null : `request ${item.requestId}`,
    });
    // Into the outbox with the item: an accepted item can never be left undelivered.
    await insert.outbox.insert(manager, {
      ticket: item.ticket,
      acceptedAt: item.acceptedAt,
      nextAttemptAt: item.acceptedAt,
      attempts: 0,
      leaseOwner: null,
      leaseExpiresAt: null,
      lastError: null,
    });
    await insert.receipts.insert(manager, {
      ticket: item.ticket,
      contentSha256: receipt.sha256.toString('hex'),
      contentSize: receipt.size,
      signature: item.receipt.signature.toString('base64'),
      issuedAt: item.receipt.issuedAt,
    });
    await this.contents.place(manager, receipt, directoriesToSync);
    for (const content of [item.document, ...item.annexes]) {
      await this.contents.place(manager, content, directoriesToSync);
    }
  }

  async findStatus(sender: Sender, ticket: string): Promise<ItemStatusView | undefined> {
    // One query whose WHERE holds the sender: an unknown ticket and another sender's ticket cost the same.
    const row = await this.access((manager) =>
      this.finders().sendersByTicket.findOne(manager, {
        ticket,
        senderCbe: sender.cbe,
        senderApplicationId: sender.applicationId,
      }),
    );
    if (!row) return undefined;
    const view: ItemStatusView = { ticket: row.ticket, token: row.token, status: row.status };
    if (row.status !== 'SENT') return view;
    // Only now that the item is known to be the sender's: its ProofOfDispatch, written with SENT.
    const proofOfDispatch = await this.loadProof(ticket, 'DISPATCH');
    if (!proofOfDispatch) {
      throw new RepositoryError({ cause: new Error(`Item ${ticket} is SENT without a ProofOfDispatch`) });
    }
    return { ...view, proofOfDispatch };
  }

  async findHistory(sender: Sender, ticket: string): Promise<ItemHistoryView | undefined> {
    // One read transaction: the status, the history and the publication are one snapshot (see
    // readTransaction), so the status answered is the one after the last event listed.
    return this.readTransaction(async (manager) => {
      // First the query whose WHERE holds the sender, as in findStatus: unknown and foreign cost the same.
      const item = await this.finders().sendersByTicket.findOne(manager, {
        ticket,
        senderCbe: sender.cbe,
        senderApplicationId: sender.applicationId,
      });
      if (!item) return undefined;
      const rows = await manager.find(ItemStatusHistoryEntity, {
        where: { ticket },
        order: { occurredAt: 'ASC', id: 'ASC' },
      });
      const publication = await manager.findOne(ItemPublicationEntity, {
        select: { ticket: true, eboxMessageId: true },
        where: { ticket },
      });
      return {
        ticket: item.ticket,
        token: item.token,
        status: item.status,
        events: historyOf(ticket, rows, publication ?? undefined),
      };
    });
  }

  async loadProof(ticket: string, kind: ProofKind): Promise<StoredProof | undefined> {
    const row = await this.access((manager) => findProofRow(manager, ticket, kind));
    if (!row) return undefined;
    try {
      return await proofOfRow(row, this.contents);
    } catch (error) {
      throw toStorageFault(error);
    }
  }

  /** After a rolled-back insert: was it the sender's Token (a concurrent twin won) or the ticket? */
  private async explainUniqueViolation(item: AcceptedItem, violation: unknown): Promise<AcceptOutcome> {
    const prior = await this.findByToken(item.sender, item.command.token);
    if (prior) return { kind: 'token-taken', prior };
    const ticketTaken = await this.access((manager) =>
      manager.exists(RegisteredMailItemEntity, { where: { ticket: item.ticket } }),
    );
    if (ticketTaken) return { kind: 'ticket-taken' };
    throw new RepositoryError({ cause: violation });
  }

  private finders(): ItemFinders {
    return (this.itemFinders ??= itemFindersOf(this.dataSource));
  }

  /** Reads (every write of this store is an accept, stored by the commit group). */
  private async access<T>(work: (manager: EntityManager) => Promise<T>): Promise<T> {
    try {
      return await runSerialized(this.dataSource, () => work(this.dataSource.manager));
    } catch (error) {
      throw toStorageFault(error);
    }
  }

  /**
   * Reads that must see one snapshot; the transaction never writes, so it never waits for a lock. A SQLite
   * transaction in WAL mode reads one snapshot by itself; PostgreSQL's default READ COMMITTED takes a
   * new snapshot per statement, so there it is REPEATABLE READ (one snapshot from the first statement;
   * a transaction that only reads never fails with a serialization error).
   */
  private async readTransaction<T>(work: (manager: EntityManager) => Promise<T>): Promise<T> {
    try {
      return await runSerialized(this.dataSource, () =>
        this.dataSource.options.type === 'postgres'
          ? this.dataSource.transaction('REPEATABLE READ', work)
          : this.dataSource.transaction(work),
      );
    } catch (error) {
      throw toStorageFault(error);
    }
  }
}
