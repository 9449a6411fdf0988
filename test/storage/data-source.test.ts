import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import type { DataSource } from 'typeorm';
import {
  createDataSource,
  databaseOptionsIn,
  openDatabase,
  SQLITE_FILE_NAME,
} from '../../src/storage/data-source';
import { checkBlobStore, checkDatabase } from '../../src/storage/health';
import { BlobStore } from '../../src/storage/blob-store';
import { RegisteredMailItemEntity } from '../../src/storage/entities';
import { isUniqueViolation } from '../../src/storage/storage-errors';
import {
  onPostgres,
  openTestDatabase,
  removeTestDataDir,
  testDatabaseOptions,
  testOnSqlite,
} from '../support/test-database';

function tempDir(): string {
  return fs.mkdtempSync(path.join(os.tmpdir(), 'rm-storage-'));
}

describe('database', () => {
  let dataDir: string;

  beforeEach(() => {
    dataDir = tempDir();
  });

  afterEach(async () => {
    await removeTestDataDir(dataDir);
  });

  /** The tables of the database, by name. */
  async function tableNames(dataSource: DataSource): Promise<string[]> {
    const rows = (await dataSource.query(
      onPostgres()
        ? "SELECT table_name AS name FROM information_schema.tables WHERE table_schema = 'public' ORDER BY 1"
        : "SELECT name FROM sqlite_master WHERE type = 'table' ORDER BY name",
    )) as { name: string }[];
    return rows.map((row) => row.name);
  }

  const SCHEMA_TABLES = [
    'content_chunk',
    'item_file',
    'item_proof',
    'item_publication',
    'item_receipt',
    'item_status_history',
    'outbox_entry',
    'registered_mail_item',
    'replay_cache',
    'schema_migrations',
  ];

  it('creates the schema on a fresh database with the migrations', async () => {
    const dataSource = await openTestDatabase(dataDir);
    try {
      expect(await tableNames(dataSource)).toEqual(expect.arrayContaining(SCHEMA_TABLES));
    } finally {
      await dataSource.destroy();
    }
  });

  testOnSqlite('the SQLite file and its pragmas')(
    'creates the SQLite file and its directories, in WAL mode with foreign keys on',
    async () => {
      const nested = path.join(dataDir, 'not', 'yet', 'there');
      const dataSource = await openDatabase(nested);
      try {
        expect(fs.existsSync(path.join(nested, SQLITE_FILE_NAME))).toBe(true);
        expect(await tableNames(dataSource)).toEqual(expect.arrayContaining(SCHEMA_TABLES));
        expect(await dataSource.query('PRAGMA journal_mode')).toEqual([{ journal_mode: 'wal' }]);
        expect(await dataSource.query('PRAGMA foreign_keys')).toEqual([{ foreign_keys: 1 }]);
        expect(await dataSource.query('PRAGMA busy_timeout')).toEqual([{ timeout: 5000 }]);
        // NORMAL (1): commits promised to a client are fsynced by the WAL group commit (wal-durability.ts).
        expect(await dataSource.query('PRAGMA synchronous')).toEqual([{ synchronous: 1 }]);
      } finally {
        await dataSource.destroy();
      }
    },
  );

  it('the migrated schema is exactly what the entities describe (nothing left to synchronise)', async () => {
    const dataSource = await openTestDatabase(dataDir);
    try {
      const pending = await dataSource.driver.createSchemaBuilder().log();
      expect(pending.upQueries.map((query) => query.query)).toEqual([]);
    } finally {
      await dataSource.destroy();
    }
  });

  it('a second start does not run the migrations again and keeps the data', async () => {
    const first = await openTestDatabase(dataDir);
    await first.getRepository(RegisteredMailItemEntity).insert({
      ticket: 'ABCDEFGH23456',
      token: 't',
      idempotencyToken: 't',
      senderCbe: '0861023666',
      senderApplicationId: 'app',
      recipientKind: 'citizen',
      recipientId: '85073003328',
      recipientQualityCode: 'CITIZEN',
      checkEboxStatus: 'ACTIVATED',
      meta: '[]',
      status: 'PENDING',
      requestFingerprint: '0'.repeat(64),
      acceptedAt: new Date('2025-01-01T00:00:00.000Z'),
      updatedAt: new Date('2025-01-01T00:00:00.000Z'),
    });
    await first.destroy();

    const second = createDataSource(databaseOptionsIn(dataDir, await testDatabaseOptions(dataDir)));
    await second.initialize();
    try {
      expect(await second.showMigrations()).toBe(false);
      expect(await second.query('SELECT name FROM schema_migrations ORDER BY id')).toEqual([
        { name: 'InitialSchema1795800000000' },
        { name: 'ReplayCache1795900000000' },
        { name: 'Delivery1796000000000' },
        { name: 'ContentChunks1796100000000' },
      ]);
      const item = await second
        .getRepository(RegisteredMailItemEntity)
        .findOneByOrFail({ ticket: 'ABCDEFGH23456' });
      expect(item.acceptedAt).toEqual(new Date('2025-01-01T00:00:00.000Z'));
    } finally {
      await second.destroy();
    }
  });

  it('stores times as 24-character ISO-8601 UTC texts', async () => {
    const dataSource = await openTestDatabase(dataDir);
    try {
      await dataSource.getRepository(RegisteredMailItemEntity).insert({
        ticket: 'ABCDEFGH23456',
        token: '',
        idempotencyToken: null,
        senderCbe: '0861023666',
        senderApplicationId: 'app',
        recipientKind: 'citizen',
        recipientId: '85073003328',
        recipientQualityCode: 'CITIZEN',
        checkEboxStatus: 'BYPASS',
        meta: '[]',
        status: 'PENDING',
        requestFingerprint: '0'.repeat(64),
        acceptedAt: new Date('2025-06-30T22:15:01.007Z'),
        updatedAt: new Date('2025-06-30T22:15:01.007Z'),
      });
    } finally {
      await dataSource.destroy();
    }
    // Read back without the entity's transformer: the text as stored.
    const raw = await openTestDatabase(dataDir);
    try {
      expect(await raw.query('SELECT accepted_at FROM registered_mail_item')).toEqual([
        { accepted_at: '2025-06-30T22:15:01.007Z' },
      ]);
    } finally {
      await raw.destroy();
    }
  });

  it('the unique key refuses a second item with the same sender and Token, but not two empty Tokens', async () => {
    const dataSource = await openTestDatabase(dataDir);
    const row = (ticket: string, token: string) => ({
      ticket,
      token,
      idempotencyToken: token === '' ? null : token,
      senderCbe: '0861023666',
      senderApplicationId: 'app',
      recipientKind: 'citizen' as const,
      recipientId: '85073003328',
      recipientQualityCode: 'CITIZEN',
      checkEboxStatus: 'ACTIVATED' as const,
      meta: '[]',
      status: 'PENDING' as const,
      requestFingerprint: '0'.repeat(64),
      acceptedAt: new Date(0),
      updatedAt: new Date(0),
    });
    try {
      const items = dataSource.getRepository(RegisteredMailItemEntity);
      await items.insert(row('AAAAAAAAAAAA1', 'same'));
      const refusal: unknown = await items.insert(row('AAAAAAAAAAAA2', 'same')).then(
        () => undefined,
        (error: unknown) => error,
      );
      expect(isUniqueViolation(refusal)).toBe(true);
      await items.insert(row('AAAAAAAAAAAA3', ''));
      await items.insert(row('AAAAAAAAAAAA4', ''));
      expect(await items.count()).toBe(3);
    } finally {
      await dataSource.destroy();
    }
  });

  it('health: the database answers, and a closed one fails with SOA-02002', async () => {
    const dataSource = await openTestDatabase(dataDir);
    await expect(checkDatabase(dataSource)).resolves.toBeUndefined();
    await dataSource.destroy();
    await expect(checkDatabase(dataSource)).rejects.toMatchObject({ code: 'SOA-02002' });
  });

  it('health: the blob store is writable, and a file where its directory should be fails', async () => {
    await expect(checkBlobStore(new BlobStore(dataDir))).resolves.toBeUndefined();
    const blocked = tempDir();
    fs.writeFileSync(path.join(blocked, 'blobs'), 'not a directory');
    await expect(checkBlobStore(new BlobStore(blocked))).rejects.toThrow();
    fs.rmSync(blocked, { recursive: true, force: true });
  });
});
