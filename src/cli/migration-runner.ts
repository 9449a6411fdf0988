import { existsSync } from 'node:fs';
import { mkdir } from 'node:fs/promises';
import path from 'node:path';
import { MigrationExecutor, type DataSource } from 'typeorm';
import { databaseSettingsOf, type Config } from '../config/config';
import {
  createDataSource,
  databaseOptionsIn,
  describeDatabase,
  isPostgresOptions,
  type DatabaseOptions,
} from '../storage/data-source';

export { describeDatabase };

/**
 * The service's database as `serve` opens it: the PostgreSQL database of RM_DATABASE_URL when set, else
 * the SQLite file in the data directory.
 */
export function databaseOptionsOf(
  config: Pick<Config, 'dataDir' | 'databaseUrl' | 'databasePoolSize'>,
): DatabaseOptions {
  return databaseOptionsIn(config.dataDir, databaseSettingsOf(config));
}

/**
 * Runs `use` on the service's DataSource (same settings, entities and migrations as the service's), opened
 * without running the migrations, and closes it.
 */
async function withDatabase<T>(
  options: DatabaseOptions,
  use: (dataSource: DataSource) => Promise<T>,
): Promise<T> {
  // The service's own DataSource (on PostgreSQL its migrations take the advisory lock the service's do).
  const dataSource = createDataSource(options).setOptions({ migrationsRun: false });
  await dataSource.initialize();
  try {
    return await use(dataSource);
  } finally {
    await dataSource.destroy();
  }
}

/**
 * The names of the migrations not yet applied to the database, in the order they would apply. Nothing is
 * created: an absent database file has every migration pending (asked of an empty in-memory database);
 * a PostgreSQL database must exist (the server answers for it).
 */
export function pendingMigrations(options: DatabaseOptions): Promise<string[]> {
  const asked =
    isPostgresOptions(options) || existsSync(options.sqlitePath)
      ? options
      : { ...options, sqlitePath: ':memory:' };
  return withDatabase(asked, async (dataSource) =>
    (await new MigrationExecutor(dataSource).getPendingMigrations()).map((migration) => migration.name),
  );
}

/**
 * Applies the pending migrations (in one transaction, as the service does at start-up), creating the
 * SQLite file when it does not exist (a PostgreSQL database must exist: its tables are created).
 * @returns the names of the migrations applied, in order (empty when the database was up to date)
 */
export async function applyPendingMigrations(options: DatabaseOptions): Promise<string[]> {
  if (!isPostgresOptions(options)) await mkdir(path.dirname(options.sqlitePath), { recursive: true });
  return withDatabase(options, async (dataSource) =>
    (await dataSource.runMigrations()).map((migration) => migration.name),
  );
}
