import { createHash, randomBytes, X509Certificate } from 'node:crypto';
import { performance } from 'node:perf_hooks';
import type { DataSource, EntityTarget, ObjectLiteral } from 'typeorm';
import { ACCEPTED_EVENT, DELIVERY_EVENTS } from '../../src/domain/outbox';
import { TICKET_ALPHABET, TICKET_LENGTH, ticketTimeSymbols } from '../../src/domain/ticket-generator';
import { openDatabase } from '../../src/storage/data-source';
import { RowInserter } from '../../src/storage/row-inserter';
import {
  ContentChunkEntity,
  ItemFileEntity,
  ItemProofEntity,
  ItemPublicationEntity,
  ItemReceiptEntity,
  ItemStatusHistoryEntity,
  OutboxEntryEntity,
  RegisteredMailItemEntity,
  ReplayCacheEntryEntity,
} from '../../src/storage/entities';
import { BENCH_RECIPIENT_INSS } from './signed-requests';

/*
 * Fills a service's database with items, as if it had served for a while, before the service starts:
 * through the storage layer's entities, not through the service's API (a million signed requests would
 * take hours). The database is opened (and migrated) by the storage layer; each entity's INSERT is the
 * storage layer's own (src/storage/row-inserter.ts: built from the TypeORM metadata, the driver's value
 * conversions), prepared once and run on the driver's connection, many rows per statement and one
 * transaction per batch of items:
 * TypeORM's query builder does the same with far more work per row (about 20 000 rows/s here).
 *
 * Every item gets the rows the service writes for it: the item, its document (and for a share an annex),
 * its history, its receipt; then, by its fate, an outbox entry (still PENDING), a publication and a
 * ProofOfDispatch (SENT; for a share also CONSULTED with a proof of consultation) or a failure (ERROR).
 * The replay cache gets unexpired entries for a tenth of the items (messages within their Timestamp's
 * age). Items belong to the given senders in turn. Each item's document, annex, receipt and proofs are
 * content of its own (a per-item header before bytes of a typical size), stored where the service
 * stores content of that size: rows of `content_chunk`, one per content.
 */

/** Whose items: a sender as its certificate identifies it. */
export interface SeedSender {
  cbe: string;
  /** The CN of its certificate (the service's `Sender.applicationId`). */
  applicationId: string;
}

/** What {@link seedItems} does. */
export interface SeedOptions {
  items: number;
  senders: readonly SeedSender[];
  /** Items per transaction (default 10 000). */
  itemsPerTransaction?: number;
  /** Progress lines. */
  log?: (line: string) => void;
  /** The clock of the rows: seeded items were accepted during the year before this time. */
  now?: Date;
}

/** What was seeded, and how fast. */
export interface SeedResult {
  items: number;
  /** Rows inserted, every table. */
  rows: number;
  rowsByTable: Record<string, number>;
  /** Items by status. */
  itemsByStatus: Record<string, number>;
  durationMs: number;
  rowsPerSecond: number;
}

/** The share of items still in the outbox (the most recent ones), and of items that failed. */
const PENDING_SHARE = 0.01;
const ERROR_SHARE = 0.01;
/** Of the SENT items, the share whose recipient consulted them. */
const CONSULTED_SHARE = 0.3;
/** The share of items with one annex. */
const ANNEX_SHARE = 0.2;
/** Replay cache entries per item. */
const REPLAY_SHARE = 0.1;
const DAY_MS = 24 * 60 * 60 * 1000;

/** The bytes every seeded content starts from; each item's content puts its own header before them. */
interface ContentBases {
  document: Buffer;
  annex: Buffer;
  receipt: Buffer;
  evidence: Buffer;
  /** A base64 CMS-sized signature (about what a CAdES-T detached SignedData weighs). */
  signature: string;
}

function contentBases(): ContentBases {
  const pdf = (size: number) =>
    Buffer.concat([Buffer.from('%PDF-1.4\n'), randomBytes(size), Buffer.from('\n%%EOF\n')]);
  return {
    // The size of the benchmark's documents.
    document: pdf(1024),
    annex: pdf(4 * 1024),
    receipt: Buffer.from(`<Receipt>${'seeded receipt '.repeat(50)}</Receipt>`),
    evidence: Buffer.from(`<Evidence>${'seeded evidence '.repeat(100)}</Evidence>`),
    signature: randomBytes(4200).toString('base64'),
  };
}

/** One item's own content: its header, then the base bytes; stored as a `content_chunk` row. */
function ownContent(rows: BatchRows, base: Buffer, label: string) {
  const bytes = Buffer.concat([Buffer.from(`${label}\n`), base]);
  const digest = createHash('sha256').update(bytes).digest();
  rows.contents.push({ sha256: digest.toString('hex'), chunkIndex: 0, bytes });
  return { sha256Hex: digest.toString('hex'), sha256Base64: digest.toString('base64'), size: bytes.length };
}

/**
 * A ticket as the service makes them (`timeOrderedTickets`): the acceptance time, then 5 symbols from a
 * hash of the counter.
 */
function seededTicket(index: number, salt: Buffer, acceptedAt: Date): string {
  const digest = createHash('sha256').update(salt).update(String(index)).digest();
  let ticket = ticketTimeSymbols(acceptedAt);
  for (let i = 0; ticket.length < TICKET_LENGTH; i += 1)
    ticket += TICKET_ALPHABET[digest[i] % TICKET_ALPHABET.length];
  return ticket;
}

type Fate = 'PENDING' | 'ERROR' | 'SENT' | 'CONSULTED';

/** Oldest first: the last items are still pending, a few in between failed. */
function fateOf(index: number, items: number): Fate {
  if (index >= items - Math.ceil(items * PENDING_SHARE)) return 'PENDING';
  if (index % Math.round(1 / ERROR_SHARE) === 7) return 'ERROR';
  return index % 10 < CONSULTED_SHARE * 10 ? 'CONSULTED' : 'SENT';
}

/** The rows of a batch, by entity. */
class BatchRows {
  readonly items: RegisteredMailItemEntity[] = [];
  readonly files: ItemFileEntity[] = [];
  readonly history: Omit<ItemStatusHistoryEntity, 'id'>[] = [];
  readonly receipts: ItemReceiptEntity[] = [];
  readonly outbox: OutboxEntryEntity[] = [];
  readonly publications: ItemPublicationEntity[] = [];
  readonly proofs: ItemProofEntity[] = [];
  readonly replay: ReplayCacheEntryEntity[] = [];
  readonly contents: ContentChunkEntity[] = [];
}

function addItem(
  rows: BatchRows,
  index: number,
  options: { items: number; senders: readonly SeedSender[]; now: Date; salt: Buffer; bases: ContentBases },
): Fate {
  const { items, senders, now, salt, bases } = options;
  // Spread over the year before now, in index order.
  const acceptedAt = new Date(now.getTime() - 365 * DAY_MS + Math.floor((index / items) * 365 * DAY_MS));
  const ticket = seededTicket(index, salt, acceptedAt);
  const document = ownContent(rows, bases.document, `document of ${ticket}`);
  const sender = senders[index % senders.length];
  const sentAt = new Date(acceptedAt.getTime() + 2_000);
  const consultedAt = new Date(acceptedAt.getTime() + 3 * DAY_MS);
  const fate = fateOf(index, items);
  const status = fate === 'CONSULTED' ? 'SENT' : fate;
  const token = `seed-${salt.toString('hex').slice(0, 8)}-${index}`;
  rows.items.push({
    ticket,
    token,
    idempotencyToken: token,
    senderCbe: sender.cbe,
    senderApplicationId: sender.applicationId,
    recipientKind: 'citizen',
    recipientId: BENCH_RECIPIENT_INSS,
    recipientQualityCode: 'CITIZEN',
    checkEboxStatus: 'BYPASS',
    meta: '[]',
    status,
    requestFingerprint: createHash('sha256').update(ticket).digest('hex'),
    acceptedAt,
    updatedAt: status === 'PENDING' ? acceptedAt : fate === 'CONSULTED' ? consultedAt : sentAt,
  });
  rows.files.push({
    ticket,
    position: 0,
    role: 'DOCUMENT',
    title: `Seeded document ${index}`,
    digestMethod: 'SHA-256',
    digestValue: document.sha256Base64,
    downloadFileName: `document-${index}.pdf`,
    mime: 'application/pdf',
    documentType: 'EDER501',
    language: 'fr',
    size: document.size,
    blobSha256: document.sha256Hex,
  });
  if (index % Math.round(1 / ANNEX_SHARE) === 3) {
    const annex = ownContent(rows, bases.annex, `annex of ${ticket}`);
    rows.files.push({
      ticket,
      position: 1,
      role: 'ANNEX',
      title: `Seeded annex ${index}`,
      digestMethod: 'SHA-256',
      digestValue: annex.sha256Base64,
      downloadFileName: `annex-${index}.pdf`,
      mime: 'application/pdf',
      documentType: null,
      language: null,
      size: annex.size,
      blobSha256: annex.sha256Hex,
    });
  }
  rows.history.push({
    ticket,
    status: 'PENDING',
    event: ACCEPTED_EVENT,
    occurredAt: acceptedAt,
    detail: `request seed-${index}`,
  });
  const receipt = ownContent(rows, bases.receipt, `receipt of ${ticket}`);
  rows.receipts.push({
    ticket,
    contentSha256: receipt.sha256Hex,
    contentSize: receipt.size,
    signature: bases.signature,
    issuedAt: acceptedAt,
  });
  if (fate === 'PENDING') {
    rows.outbox.push({
      ticket,
      acceptedAt,
      nextAttemptAt: acceptedAt,
      attempts: 0,
      leaseOwner: null,
      leaseExpiresAt: null,
      lastError: null,
    });
  } else if (fate === 'ERROR') {
    rows.history.push({
      ticket,
      status: 'ERROR',
      event: DELIVERY_EVENTS.publicationFailed,
      occurredAt: sentAt,
      detail: 'seeded: the e-Box refused the message',
    });
  } else {
    const eboxMessageId = `seed-message-${index}`;
    rows.publications.push({
      ticket,
      eboxMessageId,
      publishedAt: sentAt,
      noDigitalUser: false,
      consultedAt: fate === 'CONSULTED' ? consultedAt : null,
      consultationCheckedAt: fate === 'CONSULTED' ? consultedAt : sentAt,
    });
    const proof = (kind: 'DISPATCH' | 'CONSULTATION', issuedAt: Date): ItemProofEntity => {
      const evidence = ownContent(rows, bases.evidence, `${kind} evidence of ${ticket}`);
      return {
        ticket,
        kind,
        evidenceId: `seed-${kind.toLowerCase()}-${index}`,
        contentSha256: evidence.sha256Hex,
        contentSize: evidence.size,
        signature: bases.signature,
        issuedAt,
      };
    };
    rows.proofs.push(proof('DISPATCH', sentAt));
    rows.history.push({
      ticket,
      status: 'SENT',
      event: DELIVERY_EVENTS.published,
      occurredAt: sentAt,
      detail: `e-Box message ${eboxMessageId}`,
    });
    if (fate === 'CONSULTED') {
      rows.proofs.push(proof('CONSULTATION', consultedAt));
      rows.history.push({
        ticket,
        status: 'SENT',
        event: DELIVERY_EVENTS.consulted,
        occurredAt: consultedAt,
        detail: null,
      });
    }
  }
  if (index % Math.round(1 / REPLAY_SHARE) === 0) {
    rows.replay.push({
      messageKey: createHash('sha256').update(salt).update(`replay ${index}`).digest('hex'),
      // Unexpired (seen within the last Timestamp age), so no purge removes them during the run.
      expiresAt: new Date(now.getTime() + DAY_MS),
      seenAt: now,
    });
  }
  return fate;
}

/** The part of better-sqlite3's connection the seeding uses. */
interface SqliteConnection {
  prepare(sql: string): { run(...parameters: unknown[]): unknown };
  transaction(work: () => void): () => void;
}

/** The better-sqlite3 connection under a SQLite DataSource (the bench seeds SQLite files only). */
function sqliteConnectionOf(dataSource: DataSource): SqliteConnection {
  return (dataSource.driver as unknown as { databaseConnection: SqliteConnection }).databaseConnection;
}

/**
 * Inserts rows of one entity: the statements of the service's {@link RowInserter} (columns, values
 * converted by the driver, many rows per statement), prepared once each and run on the driver's
 * connection directly, without TypeORM's query runner (its per-query bookkeeping is too much for
 * millions of rows, and the seeding needs no savepoint nor error wrapping).
 */
class EntityInserter {
  private readonly rows: RowInserter<ObjectLiteral>;
  private readonly connection: SqliteConnection;
  private readonly statements = new Map<string, { run(...parameters: unknown[]): unknown }>();
  readonly tableName: string;

  constructor(dataSource: DataSource, entity: EntityTarget<ObjectLiteral>) {
    this.rows = new RowInserter(dataSource, entity);
    this.connection = sqliteConnectionOf(dataSource);
    this.tableName = this.rows.tableName;
  }

  insert(rows: readonly ObjectLiteral[]): void {
    for (const { sql, parameters } of this.rows.statementsFor(rows)) {
      let statement = this.statements.get(sql);
      if (statement === undefined) {
        statement = this.connection.prepare(sql);
        this.statements.set(sql, statement);
      }
      statement.run(...parameters);
    }
  }
}

/**
 * Opens the database of `dataDir` (migrating it when new), seeds `options.items` items and closes it.
 * Call it while no service uses the directory.
 */
export async function seedItems(dataDir: string, options: SeedOptions): Promise<SeedResult> {
  if (options.senders.length === 0) throw new Error('seeding needs at least one sender');
  const started = performance.now();
  const bases = contentBases();
  const dataSource = await openDatabase(dataDir);
  const now = options.now ?? new Date();
  const salt = randomBytes(8);
  const perTransaction = options.itemsPerTransaction ?? 10_000;
  const tables: [keyof BatchRows, EntityInserter][] = (
    [
      ['items', RegisteredMailItemEntity],
      ['files', ItemFileEntity],
      ['history', ItemStatusHistoryEntity],
      ['receipts', ItemReceiptEntity],
      ['outbox', OutboxEntryEntity],
      ['publications', ItemPublicationEntity],
      ['proofs', ItemProofEntity],
      ['replay', ReplayCacheEntryEntity],
      ['contents', ContentChunkEntity],
    ] as [keyof BatchRows, EntityTarget<ObjectLiteral>][]
  ).map(([key, entity]) => [key, new EntityInserter(dataSource, entity)]);
  const connection = sqliteConnectionOf(dataSource);
  // Tickets are random keys: a larger page cache than the default 2 MiB keeps the indexes' pages at hand.
  await dataSource.query('PRAGMA cache_size = -262144');
  const rowsByTable: Record<string, number> = {};
  const itemsByStatus: Record<string, number> = {};
  let rows = 0;
  let lastLog = performance.now();
  try {
    for (let first = 0; first < options.items; first += perTransaction) {
      const batch = new BatchRows();
      const end = Math.min(options.items, first + perTransaction);
      for (let index = first; index < end; index += 1) {
        const fate = addItem(batch, index, {
          items: options.items,
          senders: options.senders,
          now,
          salt,
          bases,
        });
        const status = fate === 'CONSULTED' ? 'SENT' : fate;
        itemsByStatus[status] = (itemsByStatus[status] ?? 0) + 1;
      }
      connection.transaction(() => {
        for (const [key, inserter] of tables) inserter.insert(batch[key]);
      })();
      for (const [key, inserter] of tables) {
        const table = inserter.tableName;
        rowsByTable[table] = (rowsByTable[table] ?? 0) + batch[key].length;
        rows += batch[key].length;
      }
      if (options.log && (performance.now() - lastLog > 5_000 || end === options.items)) {
        lastLog = performance.now();
        const seconds = (lastLog - started) / 1000;
        options.log(`seeded ${end} of ${options.items} items (${Math.round(rows / seconds)} rows/s)`);
      }
    }
    await dataSource.query('PRAGMA wal_checkpoint(TRUNCATE)');
  } finally {
    await dataSource.destroy();
  }
  const durationMs = performance.now() - started;
  return {
    items: options.items,
    rows,
    rowsByTable,
    itemsByStatus,
    durationMs,
    rowsPerSecond: (rows * 1000) / durationMs,
  };
}

/** The {@link SeedSender} of a certificate: the CBE the dev PKI states and the certificate's CN. */
export function seedSenderOf(sender: { cbe: string; certPem: string }): SeedSender {
  const subject = new X509Certificate(sender.certPem).subject;
  const commonName = /^CN=(.*)$/m.exec(subject)?.[1];
  if (!commonName) throw new Error('the sender certificate has no CN');
  return { cbe: sender.cbe, applicationId: commonName };
}
