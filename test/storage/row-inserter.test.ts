import { randomBytes } from 'node:crypto';
import { QueryFailedError, type DataSource } from 'typeorm';
import {
  ContentChunkEntity,
  ItemFileEntity,
  ItemStatusHistoryEntity,
  OutboxEntryEntity,
  RegisteredMailItemEntity,
} from '../../src/storage/entities';
import { MAX_PARAMETERS_PER_STATEMENT, RowInserter } from '../../src/storage/row-inserter';
import { isUniqueViolation } from '../../src/storage/storage-errors';
import { makeTempDir } from '../domain/storage-fixture';
import { queryRows } from '../support/portable-sql';
import { ACCEPTED_AT, itemRow } from '../support/item-rows';
import { onPostgres, openTestDatabase, removeTestDataDir } from '../support/test-database';

function fileRow(ticket: string, position: number): ItemFileEntity {
  return {
    ticket,
    position,
    role: position === 0 ? 'DOCUMENT' : 'ANNEX',
    title: `file ${position}`,
    digestMethod: 'SHA-256',
    digestValue: randomBytes(32).toString('base64'),
    downloadFileName: `file-${position}.pdf`,
    mime: position === 0 ? 'application/pdf' : null,
    documentType: position === 0 ? 'EDER501' : null,
    language: null,
    size: 1000 + position,
    blobSha256: randomBytes(32).toString('hex'),
  };
}

/** A ticket of 13 symbols, distinct per number. */
const ticketOf = (n: number) => `T${String(n).padStart(12, '0')}`;

describe('RowInserter', () => {
  let dataDir: string;
  let dataSource: DataSource;

  beforeEach(async () => {
    dataDir = makeTempDir('rm-row-inserter-');
    dataSource = await openTestDatabase(dataDir);
  });

  afterEach(async () => {
    await dataSource.destroy();
    await removeTestDataDir(dataDir);
  });

  it('writes rows that TypeORM reads back equal, stored as TypeORM itself stores them', async () => {
    const items = new RowInserter(dataSource, RegisteredMailItemEntity);
    const ours = itemRow(ticketOf(1), 'token-1');
    const typeorms = itemRow(ticketOf(2), 'token-2');
    await dataSource.transaction(async (manager) => {
      await items.insert(manager, ours);
      await manager.insert(RegisteredMailItemEntity, typeorms);
    });

    // Transformers applied both ways: the times come back as the same Dates.
    expect(await dataSource.manager.findOneBy(RegisteredMailItemEntity, { ticket: ours.ticket })).toEqual(
      ours,
    );
    // The same stored values as TypeORM's own insert (ISO text for times, NULL, numbers), key aside.
    const stored = await queryRows<Record<string, unknown>>(
      dataSource,
      'SELECT * FROM registered_mail_item ORDER BY ticket',
    );
    const withoutKeys = stored.map((row) => ({
      ...row,
      ticket: undefined,
      token: undefined,
      idempotency_token: undefined,
    }));
    expect(withoutKeys[0]).toEqual(withoutKeys[1]);
    expect(stored[0].accepted_at).toBe('2025-03-14T09:26:53.589Z');

    // Bytes in and out (blob on SQLite, bytea on PostgreSQL), a generated id left to the database.
    const bytes = randomBytes(1000);
    const chunks = new RowInserter(dataSource, ContentChunkEntity);
    const history = new RowInserter<Omit<ItemStatusHistoryEntity, 'id'>>(dataSource, ItemStatusHistoryEntity);
    await dataSource.transaction(async (manager) => {
      await chunks.insert(manager, { sha256: 'a'.repeat(64), chunkIndex: 0, bytes });
      await history.insert(manager, [
        { ticket: ours.ticket, status: 'PENDING', event: 'ACCEPTED', occurredAt: ACCEPTED_AT, detail: null },
        { ticket: ours.ticket, status: 'SENT', event: 'PUBLISHED', occurredAt: ACCEPTED_AT, detail: 'x' },
      ]);
    });
    const chunk = await dataSource.manager.findOneByOrFail(ContentChunkEntity, { sha256: 'a'.repeat(64) });
    expect(Buffer.isBuffer(chunk.bytes) && chunk.bytes.equals(bytes)).toBe(true);
    const events = await dataSource.manager.find(ItemStatusHistoryEntity, { order: { id: 'ASC' } });
    expect(events.map(({ event, occurredAt, detail }) => ({ event, occurredAt, detail }))).toEqual([
      { event: 'ACCEPTED', occurredAt: ACCEPTED_AT, detail: null },
      { event: 'PUBLISHED', occurredAt: ACCEPTED_AT, detail: 'x' },
    ]);
    expect(events[1].id).toBeGreaterThan(events[0].id);
  });

  it('writes NULL for a nullable value left undefined', async () => {
    const outbox = new RowInserter<Partial<OutboxEntryEntity>>(dataSource, OutboxEntryEntity);
    await dataSource.transaction(async (manager) => {
      await manager.insert(RegisteredMailItemEntity, itemRow(ticketOf(1), null));
      await outbox.insert(manager, {
        ticket: ticketOf(1),
        acceptedAt: ACCEPTED_AT,
        nextAttemptAt: ACCEPTED_AT,
        attempts: 0,
      });
    });
    const entry = await dataSource.manager.findOneByOrFail(OutboxEntryEntity, { ticket: ticketOf(1) });
    expect(entry).toMatchObject({ leaseOwner: null, leaseExpiresAt: null, lastError: null, attempts: 0 });
  });

  it("builds one statement text per row count, with the driver's placeholders and no value inlined", () => {
    const files = new RowInserter(dataSource, ItemFileEntity);
    const sql = files.sqlFor(2);
    expect(files.sqlFor(2)).toBe(sql);
    expect(sql).toMatch(/^INSERT INTO "item_file" \("ticket", "position", .*\) VALUES \(.*\), \(.*\)$/);
    const placeholders = sql.match(onPostgres() ? /\$\d+/g : /\?/g) ?? [];
    expect(placeholders).toHaveLength(2 * 12);
    if (onPostgres()) expect(placeholders[23]).toBe('$24');
    expect(() => files.sqlFor(0)).toThrow(RangeError);
    expect(() => files.sqlFor(files.maxRowsPerStatement + 1)).toThrow(RangeError);

    const statements = files.statementsFor([fileRow(ticketOf(1), 0), fileRow(ticketOf(1), 1)]);
    expect(statements).toHaveLength(1);
    expect(statements[0].sql).toBe(sql);
    expect(statements[0].parameters).toHaveLength(24);
  });

  it('inserts many rows in one statement, and more than one statement holds in several', async () => {
    const files = new RowInserter(dataSource, ItemFileEntity);
    const written = [fileRow(ticketOf(1), 0), fileRow(ticketOf(1), 1), fileRow(ticketOf(1), 2)];
    await dataSource.transaction(async (manager) => {
      await manager.insert(RegisteredMailItemEntity, itemRow(ticketOf(1), null));
      await files.insert(manager, written);
    });
    expect(await dataSource.manager.find(ItemFileEntity, { order: { position: 'ASC' } })).toEqual(written);

    const chunks = new RowInserter(dataSource, ContentChunkEntity);
    const many = Array.from({ length: chunks.maxRowsPerStatement + 1 }, (_, chunkIndex) => ({
      sha256: 'b'.repeat(64),
      chunkIndex,
      bytes: Buffer.from([chunkIndex % 256]),
    }));
    expect(chunks.maxRowsPerStatement).toBe(Math.floor(MAX_PARAMETERS_PER_STATEMENT / 3));
    expect(chunks.statementsFor(many).map((statement) => statement.parameters.length)).toEqual([
      chunks.maxRowsPerStatement * 3,
      3,
    ]);
    await dataSource.transaction((manager) => chunks.insert(manager, many));
    expect(await dataSource.manager.countBy(ContentChunkEntity, { sha256: 'b'.repeat(64) })).toBe(
      many.length,
    );
    const last = await dataSource.manager.findOneByOrFail(ContentChunkEntity, {
      sha256: 'b'.repeat(64),
      chunkIndex: many.length - 1,
    });
    expect(last.bytes).toEqual(many[many.length - 1].bytes);
  });

  it('with ON CONFLICT DO NOTHING keeps the row already there', async () => {
    const chunks = new RowInserter(dataSource, ContentChunkEntity, { onConflict: 'do-nothing' });
    expect(chunks.sqlFor(1)).toMatch(/ ON CONFLICT DO NOTHING$/);
    const first = { sha256: 'c'.repeat(64), chunkIndex: 0, bytes: Buffer.from('first') };
    await dataSource.transaction(async (manager) => {
      await chunks.insert(manager, first);
      await chunks.insert(manager, [
        { ...first, bytes: Buffer.from('second') },
        { ...first, chunkIndex: 1, bytes: Buffer.from('next') },
      ]);
    });
    const rows = await dataSource.manager.find(ContentChunkEntity, { order: { chunkIndex: 'ASC' } });
    expect(rows.map((row) => row.bytes.toString())).toEqual(['first', 'next']);
  });

  it('a taken key fails with the unique violation, as isUniqueViolation recognises it', async () => {
    const items = new RowInserter(dataSource, RegisteredMailItemEntity);
    await dataSource.transaction((manager) => items.insert(manager, itemRow(ticketOf(1), 'token')));

    const failureOf = async (row: RegisteredMailItemEntity) => {
      try {
        await dataSource.transaction((manager) => items.insert(manager, row));
      } catch (error) {
        return error;
      }
      throw new Error('the insert did not fail');
    };
    // The primary key (the ticket), then the unique key (sender and Token).
    for (const row of [itemRow(ticketOf(1), 'other'), itemRow(ticketOf(2), 'token')]) {
      const error = await failureOf(row);
      // TypeORM's QueryFailedError around the driver's error on PostgreSQL, the driver's own on SQLite
      // (from the native module's realm: no instanceof there).
      if (onPostgres()) expect(error).toBeInstanceOf(QueryFailedError);
      else expect(error).toMatchObject({ code: expect.stringMatching(/^SQLITE_CONSTRAINT/) as string });
      expect(isUniqueViolation(error)).toBe(true);
    }
    expect(await dataSource.manager.count(RegisteredMailItemEntity)).toBe(1);
  });

  it("joins the caller's transaction: its rows go when the transaction is rolled back", async () => {
    const items = new RowInserter(dataSource, RegisteredMailItemEntity);
    const files = new RowInserter(dataSource, ItemFileEntity);
    await expect(
      dataSource.transaction(async (manager) => {
        await items.insert(manager, itemRow(ticketOf(1), 'token'));
        await files.insert(manager, fileRow(ticketOf(1), 0));
        // Seen inside the transaction...
        expect(await manager.countBy(ItemFileEntity, { ticket: ticketOf(1) })).toBe(1);
        throw new Error('refused after the inserts');
      }),
    ).rejects.toThrow('refused after the inserts');
    // ...and gone with it.
    expect(await dataSource.manager.count(RegisteredMailItemEntity)).toBe(0);
    expect(await dataSource.manager.count(ItemFileEntity)).toBe(0);
  });

  it('joins a savepoint: rolling back to it undoes its rows only', async () => {
    const items = new RowInserter(dataSource, RegisteredMailItemEntity);
    await dataSource.transaction(async (manager) => {
      await items.insert(manager, itemRow(ticketOf(1), 'kept'));
      await manager.query('SAVEPOINT row_inserter_test');
      await items.insert(manager, itemRow(ticketOf(2), 'undone'));
      await manager.query('ROLLBACK TO row_inserter_test');
      await manager.query('RELEASE row_inserter_test');
    });
    const rows = await dataSource.manager.find(RegisteredMailItemEntity);
    expect(rows.map((row) => row.ticket)).toEqual([ticketOf(1)]);
  });
});
