import { existsSync } from 'node:fs';
import { mkdir } from 'node:fs/promises';
import path from 'node:path';
import { DataSource, MigrationExecutor, type DataSourceOptions } from 'typeorm';
import type { Config } from '../config/config';
import { createDataSource, SQLITE_FILE_NAME, type DatabaseOptions } from '../storage/data-source';

/**
 * The service's database as `serve` opens it: today the SQLite file in the data directory. (When the
 * configuration gains another database, this is where its options are chosen.)
 */
export function databaseOptionsOf(config: Config): DatabaseOptions {
  return { sqlitePath: path.join(config.dataDir, SQLITE_FILE_NAME) };
}

/** Where the database is, for messages. */
export function describeDatabase(options: DatabaseOptions): string {
  return options.sqlitePath;
}

/**
 * Runs `use` on the service's DataSource (same settings, entities and migrations as the service's), opened
 * without running the migrations, and closes it.
 */
async function withDatabase<T>(
  options: DatabaseOptions,
  use: (dataSource: DataSource) => Promise<T>,
): Promise<T> {
  const configured = createDataSource(options);
  const dataSource = new DataSource({ ...configured.options, migrationsRun: false } as DataSourceOptions);
  await dataSource.initialize();
  try {
    return await use(dataSource);
  } finally {
    await dataSource.destroy();
  }
}

/**
 * The names of the migrations not yet applied to the database, in the order they would apply. Nothing is
 * created: an absent database file has every migration pending (asked of an empty in-memory database).
 */
export function pendingMigrations(options: DatabaseOptions): Promise<string[]> {
  const asked = existsSync(options.sqlitePath) ? options : { ...options, sqlitePath: ':memory:' };
  return withDatabase(asked, async (dataSource) =>
    (await new MigrationExecutor(dataSource).getPendingMigrations()).map((migration) => migration.name),
  );
}

/**
 * Applies the pending migrations (in one transaction, as the service does at start-up), creating the
 * database when it does not exist.
 * @returns the names of the migrations applied, in order (empty when the database was up to date)
 */
export async function applyPendingMigrations(options: DatabaseOptions): Promise<string[]> {
  await mkdir(path.dirname(options.sqlitePath), { recursive: true });
  return withDatabase(options, async (dataSource) =>
    (await dataSource.runMigrations()).map((migration) => migration.name),
  );
}
