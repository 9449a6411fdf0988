import fs from 'node:fs/promises';
import path from 'node:path';
import { DataSource } from 'typeorm';
import { binaryColumnTypeOf } from './binary-column-type';
import { STORAGE_ENTITIES } from './entities';
import { contentChunkSchema, type BinaryColumnType } from './entities/content-chunk.schema';
import { STORAGE_MIGRATIONS } from './migrations';
import { CheckpointedSqliteDataSource } from './checkpointed-sqlite-data-source';
import type { WalCheckpointerOptions } from './wal-checkpointer';

/** File name of the SQLite database inside the data directory. */
export const SQLITE_FILE_NAME = 'registered-mail.sqlite';

/** How long a statement waits for another connection's write lock before failing as busy. */
export const DEFAULT_BUSY_TIMEOUT_MS = 5_000;

/** A SQLite database file (better-sqlite3). */
export interface SqliteDatabaseOptions {
  sqlitePath: string;
  /** Busy timeout in milliseconds; {@link DEFAULT_BUSY_TIMEOUT_MS} when omitted. */
  busyTimeoutMs?: number;
  /**
   * Checkpoint the WAL on a thread instead of inside COMMITs (see wal-checkpointer.ts): what a service
   * under load wants. Without it, SQLite's own automatic checkpoints run.
   */
  walCheckpointThread?: WalCheckpointerOptions;
}

/** Connections each DataSource on PostgreSQL keeps at most, unless told otherwise. */
export const DEFAULT_POSTGRES_POOL_SIZE = 10;

/** How long opening a connection to PostgreSQL may take before the access fails as unavailable. */
const POSTGRES_CONNECT_TIMEOUT_MS = 10_000;

/** A PostgreSQL database (the `pg` driver), as `RM_DATABASE_URL` names it. */
export interface PostgresDatabaseOptions {
  /** `postgres://user:password@host:port/database` */
  url: string;
  /** Connections kept at most by this DataSource (2 or more); {@link DEFAULT_POSTGRES_POOL_SIZE} when omitted. */
  poolSize?: number;
}

/**
 * Where the data lives: a SQLite file or a PostgreSQL database. The entities and the migrations are the
 * same on both (portable types, the QueryRunner API; the one type they spell differently, a column of
 * bytes, comes from {@link binaryColumnTypeOf}).
 */
export type DatabaseOptions = SqliteDatabaseOptions | PostgresDatabaseOptions;

/** Whether the options name a PostgreSQL database. */
export function isPostgresOptions(options: DatabaseOptions): options is PostgresDatabaseOptions {
  return 'url' in options;
}

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
 * - with `walCheckpointThread` (the service sets it), `wal_autocheckpoint = 0`: the WAL is checkpointed
 *   on a thread of its own instead of inside a COMMIT on the event loop (see wal-checkpointer.ts);
 * - `temp_store = MEMORY`: the statement journals that statements inside a transaction with savepoints
 *   need (to undo one failed statement) are kept in memory. Otherwise SQLite creates, writes and removes
 *   a temporary file in /var/tmp for nearly every INSERT of an accepted item.
 */
export function createDataSource(options: DatabaseOptions): DataSource {
  return isPostgresOptions(options) ? createPostgresDataSource(options) : createSqliteDataSource(options);
}

/** The parts of the DataSource options that do not depend on the database. */
function schemaOptions(binaryType: BinaryColumnType) {
  return {
    entities: [...STORAGE_ENTITIES, contentChunkSchema(binaryType)],
    migrations: [...STORAGE_MIGRATIONS],
    migrationsRun: true,
    migrationsTableName: 'schema_migrations',
    synchronize: false,
    logging: false,
  };
}

function createSqliteDataSource(options: SqliteDatabaseOptions): DataSource {
  const busyTimeoutMs = options.busyTimeoutMs ?? DEFAULT_BUSY_TIMEOUT_MS;
  if (!Number.isSafeInteger(busyTimeoutMs) || busyTimeoutMs < 0) {
    throw new RangeError('busyTimeoutMs must be a non-negative integer');
  }
  const dataSourceOptions = {
    type: 'better-sqlite3' as const,
    database: options.sqlitePath,
    timeout: busyTimeoutMs,
    prepareDatabase: (database: PragmaTarget) => {
      database.pragma('journal_mode = WAL');
      database.pragma(`busy_timeout = ${busyTimeoutMs}`);
      database.pragma('foreign_keys = ON');
      database.pragma('synchronous = NORMAL');
      database.pragma('temp_store = MEMORY');
    },
    ...schemaOptions(binaryColumnTypeOf('better-sqlite3')),
  };
  return options.walCheckpointThread === undefined
    ? new DataSource(dataSourceOptions)
    : new CheckpointedSqliteDataSource(dataSourceOptions, options.walCheckpointThread);
}

/** The session-level advisory lock that lets one process at a time migrate a PostgreSQL database. */
const MIGRATION_LOCK_SQL = "SELECT pg_advisory_lock(hashtext('registered-mail schema migrations'))";
const MIGRATION_UNLOCK_SQL = "SELECT pg_advisory_unlock(hashtext('registered-mail schema migrations'))";

/**
 * A DataSource on PostgreSQL whose migrations (at `initialize()`, or asked for) run under an advisory
 * lock: processes and nodes started together on a fresh database wait for each other's migration
 * instead of failing on tables created meanwhile, and the later ones find nothing left to do. The lock
 * is held on a connection of its own, so the pool needs at least two.
 */
class MigrationLockingDataSource extends DataSource {
  override async runMigrations(options?: Parameters<DataSource['runMigrations']>[0]) {
    const lock = this.createQueryRunner();
    try {
      await lock.query(MIGRATION_LOCK_SQL);
      try {
        return await super.runMigrations(options);
      } finally {
        await lock.query(MIGRATION_UNLOCK_SQL);
      }
    } finally {
      await lock.release();
    }
  }
}

/**
 * PostgreSQL: a pool of connections (so accesses run side by side: see serial-access.ts), every
 * transaction READ COMMITTED unless it asks for more, every COMMIT durable by the server itself
 * (no group commit of ours: see wal-durability.ts), migrations under an advisory lock.
 */
function createPostgresDataSource(options: PostgresDatabaseOptions): DataSource {
  const poolSize = options.poolSize ?? DEFAULT_POSTGRES_POOL_SIZE;
  if (!Number.isSafeInteger(poolSize) || poolSize < 2) {
    throw new RangeError('poolSize must be an integer of at least 2');
  }
  return new MigrationLockingDataSource({
    type: 'postgres',
    url: options.url,
    applicationName: 'registered-mail',
    connectTimeoutMS: POSTGRES_CONNECT_TIMEOUT_MS,
    poolSize,
    ...schemaOptions(binaryColumnTypeOf('postgres')),
  });
}

/**
 * Where {@link openDatabase} finds the database: the SQLite file in the data directory, unless a
 * PostgreSQL database is named.
 */
export interface OpenDatabaseOptions {
  /** `RM_DATABASE_URL`: the PostgreSQL database to use instead of the SQLite file. */
  databaseUrl?: string;
  /** PostgreSQL only: the pool's size (`RM_DATABASE_POOL_SIZE`; {@link DEFAULT_POSTGRES_POOL_SIZE} when omitted). */
  poolSize?: number;
  /** SQLite only: the busy timeout in milliseconds ({@link DEFAULT_BUSY_TIMEOUT_MS} when omitted). */
  busyTimeoutMs?: number;
  /** SQLite only: checkpoint the WAL on a thread (see {@link SqliteDatabaseOptions.walCheckpointThread}). */
  walCheckpointThread?: WalCheckpointerOptions;
}

/**
 * The database of the service whose data directory is `dataDir`: the PostgreSQL database of
 * `options.databaseUrl` when given, else the SQLite file {@link SQLITE_FILE_NAME} in `dataDir`.
 */
export function databaseOptionsIn(dataDir: string, options: OpenDatabaseOptions = {}): DatabaseOptions {
  if (options.databaseUrl !== undefined) return { url: options.databaseUrl, poolSize: options.poolSize };
  return {
    sqlitePath: path.join(dataDir, SQLITE_FILE_NAME),
    busyTimeoutMs: options.busyTimeoutMs,
    walCheckpointThread: options.walCheckpointThread,
  };
}

/** Where a database is, for messages and logs: the file, or the URL without its password. */
export function describeDatabase(options: DatabaseOptions): string {
  if (!isPostgresOptions(options)) return options.sqlitePath;
  try {
    const url = new URL(options.url);
    if (url.password !== '') url.password = '***';
    return url.toString();
  } catch {
    return 'the PostgreSQL database of RM_DATABASE_URL';
  }
}

/** How often {@link openDatabase} tries to initialise (see there why more than once). */
const OPEN_ATTEMPTS = 3;

/**
 * Opens the service's database (see {@link databaseOptionsIn}), migrated to the current schema, with
 * `dataDir` created when missing (it holds the SQLite file, and in any case the blob directory). Close
 * it with `dataSource.destroy()`.
 *
 * Processes started together on a fresh SQLite file race to migrate it: the loser's migration fails
 * ("table already exists") and TypeORM closes its DataSource. A second attempt then finds the migration
 * recorded and has nothing to do, so initialisation is tried up to {@link OPEN_ATTEMPTS} times. (On
 * PostgreSQL the migrations wait for each other at an advisory lock instead.)
 */
export async function openDatabase(dataDir: string, options: OpenDatabaseOptions = {}): Promise<DataSource> {
  await fs.mkdir(dataDir, { recursive: true });
  const databaseOptions = databaseOptionsIn(dataDir, options);
  for (let attempt = 1; ; attempt += 1) {
    const dataSource = createDataSource(databaseOptions);
    try {
      await dataSource.initialize();
      return dataSource;
    } catch (error) {
      if (attempt >= OPEN_ATTEMPTS) throw error;
    }
  }
}
