import type { DataSource } from 'typeorm';
import type { ItemStatus, ProofKind } from '../../src/domain/model';
import type { ContentStore } from '../../src/storage/content-store';
import {
  ItemProofEntity,
  ItemPublicationEntity,
  ItemStatusHistoryEntity,
  OutboxEntryEntity,
  RegisteredMailItemEntity,
} from '../../src/storage/entities';
import { queryRows } from './portable-sql';
import type { TestService } from './service-fixture';
import { defaultContentStore } from './stored-content';

/*
 * What delivery recorded about an item, read straight from the service's database and blob store: its
 * status, its history rows, its publication, its outbox entry and its proofs (with their bytes).
 */

/** One history row, as stored. */
export interface HistoryRow {
  status: ItemStatus;
  event: string;
  occurredAt: Date;
  detail: string | null;
}

/** A stored proof with its content read from the blob store. */
export interface StoredProofRecord {
  kind: ProofKind;
  evidenceId: string;
  /** The evidence bytes exactly as signed. */
  content: Buffer;
  contentSha256: string;
  /** DER of the detached CMS signature. */
  signature: Buffer;
  issuedAt: Date;
}

/** Reads delivery's records of a data directory through an open DataSource. */
export class DeliveryRecords {
  private readonly contents: ContentStore;

  constructor(
    private readonly dataSource: DataSource,
    dataDir: string,
  ) {
    this.contents = defaultContentStore(dataSource, dataDir);
  }

  /** The item's status column; undefined when there is no such item. */
  async status(ticket: string): Promise<ItemStatus | undefined> {
    const item = await this.dataSource.manager.findOneBy(RegisteredMailItemEntity, { ticket });
    return item?.status;
  }

  /** The item's history rows, oldest first. */
  async history(ticket: string): Promise<HistoryRow[]> {
    const rows = await this.dataSource.manager.find(ItemStatusHistoryEntity, {
      where: { ticket },
      order: { id: 'ASC' },
    });
    return rows.map(({ status, event, occurredAt, detail }) => ({ status, event, occurredAt, detail }));
  }

  /** The item's proofs after its receipt (DISPATCH, CONSULTATION), in the order they were issued. */
  async proofs(ticket: string): Promise<StoredProofRecord[]> {
    const rows = await this.dataSource.manager.find(ItemProofEntity, {
      where: { ticket },
      order: { issuedAt: 'ASC' },
    });
    return Promise.all(
      rows.map(async (row) => ({
        kind: row.kind,
        evidenceId: row.evidenceId,
        content: await this.contents.read(row.contentSha256),
        contentSha256: row.contentSha256,
        signature: Buffer.from(row.signature, 'base64'),
        issuedAt: row.issuedAt,
      })),
    );
  }

  /** The item's proof of one kind; throws when there is none. */
  async proof(ticket: string, kind: ProofKind): Promise<StoredProofRecord> {
    const proof = (await this.proofs(ticket)).find((candidate) => candidate.kind === kind);
    if (proof === undefined) throw new Error(`item ${ticket} has no ${kind} proof`);
    return proof;
  }

  /** The item's publication (once SENT); null before. */
  publication(ticket: string): Promise<ItemPublicationEntity | null> {
    return this.dataSource.manager.findOneBy(ItemPublicationEntity, { ticket });
  }

  /** The item's outbox entry while it waits; null once it left the outbox. */
  outboxEntry(ticket: string): Promise<OutboxEntryEntity | null> {
    return this.dataSource.manager.findOneBy(OutboxEntryEntity, { ticket });
  }

  /**
   * How many rows of a table each ticket has (to show that nothing was written twice); for the history,
   * only the rows of `event` when it is given.
   */
  async rowsPerTicket(
    table: 'item_proof' | 'item_publication' | 'item_status_history',
    event?: string,
  ): Promise<Map<string, number>> {
    const filter = event === undefined ? '' : 'WHERE event = :event';
    const rows = await queryRows<{ ticket: string; n: number | string }>(
      this.dataSource,
      `SELECT ticket, COUNT(*) AS n FROM ${table} ${filter} GROUP BY ticket`,
      { event },
    );
    return new Map(rows.map((row) => [row.ticket, Number(row.n)]));
  }
}

/** The records of a running test service. */
export function deliveryRecordsOf(fixture: TestService): DeliveryRecords {
  return new DeliveryRecords(fixture.service.dataSource, fixture.dataDir);
}
