import fs from 'node:fs/promises';
import path from 'node:path';
import { DataSource } from 'typeorm';
import { binaryColumnTypeOf } from './binary-column-type';
import { STORAGE_ENTITIES } from './entities';
import { contentChunkSchema } from './entities/content-chunk.schema';
import { STORAGE_MIGRATIONS } from './migrations';

/** File name of the SQLite database inside the data directory. */
export const SQLITE_FILE_NAME = 'registered-mail.sqlite';

/** How long a statement waits for another connection's write lock before failing as busy. */
export const DEFAULT_BUSY_TIMEOUT_MS = 5_000;

/** A SQLite database file (better-sqlite3). */
export interface SqliteDatabaseOptions {
  sqlitePath: string;
  /** Busy timeout in milliseconds; {@link DEFAULT_BUSY_TIMEOUT_MS} when omitted. */
  busyTimeoutMs?: number;
}

/**
 * Where the data lives. Only SQLite today; a PostgreSQL variant (`{ url: string }` from
 * `RM_DATABASE_URL`) will join this union without changing the entities or the migrations, which use
 * portable types and the QueryRunner API only.
 */
export type DatabaseOptions = SqliteDatabaseOptions;

/** The part of a better-sqlite3 `Database` that {@link createDataSource} uses before TypeORM does. */
interface PragmaTarget {
  pragma(source: string): unknown;
}

/**
 * Creates (without initialising) the DataSource. Migrations run on `initialize()`; the schema is never
 * synchronised from the entities outside tests.
 *
 * SQLite settings, applied to the connection before TypeORM uses it:
 * - `journal_mode = WAL`: readers do not block the writer, so several processes can share the file;
 * - `busy_timeout`: a writer waits that long for another process's write lock instead of failing;
 * - `foreign_keys = ON`: files, history and receipts always belong to an existing item;
 * - `synchronous = NORMAL`: COMMIT writes the WAL without fsync, so it never stalls the event loop on the
 *   disk (better-sqlite3 is synchronous). A committed transaction survives a crash of the process as
 *   it is; it survives a power loss once the WAL is fsynced, which every write that is promised to a
 *   client (an accepted item, a delivery record) awaits through `makeCommitsDurable()` (group commit,
 *   off the event loop: see wal-durability.ts). WAL with NORMAL never corrupts the database.
 * - `temp_store = MEMORY`: the statement journals that statements inside a transaction with savepoints
 *   need (to undo one failed statement) are kept in memory. Otherwise SQLite creates, writes and removes
 *   a temporary file in /var/tmp for nearly every INSERT of an accepted item.
 */
export function createDataSource(options: DatabaseOptions): DataSource {
  const busyTimeoutMs = options.busyTimeoutMs ?? DEFAULT_BUSY_TIMEOUT_MS;
  if (!Number.isSafeInteger(busyTimeoutMs) || busyTimeoutMs < 0) {
    throw new RangeError('busyTimeoutMs must be a non-negative integer');
  }
  return new DataSource({
    type: 'better-sqlite3',
    database: options.sqlitePath,
    timeout: busyTimeoutMs,
    prepareDatabase: (database: PragmaTarget) => {
      database.pragma('journal_mode = WAL');
      database.pragma(`busy_timeout = ${busyTimeoutMs}`);
      database.pragma('foreign_keys = ON');
      database.pragma('synchronous = NORMAL');
      database.pragma('temp_store = MEMORY');
    },
    entities: [...STORAGE_ENTITIES, contentChunkSchema(binaryColumnTypeOf('better-sqlite3'))],
    migrations: [...STORAGE_MIGRATIONS],
    migrationsRun: true,
    migrationsTableName: 'schema_migrations',
    synchronize: false,
    logging: false,
  });
}

/** How often {@link openDatabase} tries to initialise (see there why more than once). */
const OPEN_ATTEMPTS = 3;

/**
 * Opens the service's database under `dataDir` (created when missing): the SQLite file
 * {@link SQLITE_FILE_NAME}, migrated to the current schema. Close it with `dataSource.destroy()`.
 *
 * Processes started together on a fresh file race to migrate it: the loser's migration fails ("table
 * already exists") and TypeORM closes its DataSource. A second attempt then finds the migration
 * recorded and has nothing to do, so initialisation is tried up to {@link OPEN_ATTEMPTS} times.
 */
export async function openDatabase(
  dataDir: string,
  options: { busyTimeoutMs?: number } = {},
): Promise<DataSource> {
  await fs.mkdir(dataDir, { recursive: true });
  const sqlitePath = path.join(dataDir, SQLITE_FILE_NAME);
  for (let attempt = 1; ; attempt += 1) {
    const dataSource = createDataSource({ sqlitePath, ...options });
    try {
      await dataSource.initialize();
      return dataSource;
    } catch (error) {
      if (attempt >= OPEN_ATTEMPTS) throw error;
    }
  }
}
