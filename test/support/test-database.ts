import { createHash } from 'node:crypto';
import { existsSync } from 'node:fs';
import fs from 'node:fs/promises';
import path from 'node:path';
import { Client } from 'pg';
import type { DataSource } from 'typeorm';
import { openDatabase, SQLITE_FILE_NAME, type OpenDatabaseOptions } from '../../src/storage/data-source';

/*
 * Which database the tests run on: the jest project decides (jest.config.ts). The "sqlite" project
 * runs every test on SQLite files, as the service does by default; the "postgres" project runs the
 * database-bound tests again on the run's PostgreSQL server (postgres-global-setup.ts), through the
 * same fixtures:
 * - a test's database belongs to its data directory, as the SQLite file does: on PostgreSQL it is a
 *   database named after the directory's path, created on first use (empty: the service's own
 *   migrations create the schema, as they would in production), so two DataSources (two "nodes") or a
 *   child process on one data directory share it, and tests in parallel workers never meet;
 * - the fixture that removes a data directory drops its database too ({@link removeTestDataDir}).
 */

/** The environment variable naming the database of the tests (`sqlite` unless `postgres`). */
export const TEST_DATABASE_VARIABLE = 'RM_TEST_DATABASE';
/** The environment variable holding the superuser URL of the run's PostgreSQL server. */
export const POSTGRES_ADMIN_URL_VARIABLE = 'RM_TEST_POSTGRES_URL';
/** Set instead of the URL when the server could not be provided, with the reason. */
export const POSTGRES_UNAVAILABLE_VARIABLE = 'RM_TEST_POSTGRES_UNAVAILABLE';

/** The databases the service supports. */
export type TestDatabaseKind = 'sqlite' | 'postgres';

/** The database of this test run's project. */
export function testDatabaseKind(): TestDatabaseKind {
  return process.env[TEST_DATABASE_VARIABLE] === 'postgres' ? 'postgres' : 'sqlite';
}

/** Whether the tests run on PostgreSQL. */
export function onPostgres(): boolean {
  return testDatabaseKind() === 'postgres';
}

/** Registers nothing (a test or a block not run on this database). */
const notOnThisDatabase = (() => undefined) as unknown as jest.It & jest.Describe;

/**
 * `test` on SQLite; on PostgreSQL the test is not registered at all. For tests of what only SQLite has
 * (its WAL, its busy timeout, its file locks, single-connection queueing): `reason` says which, where
 * the test is declared.
 */
export function testOnSqlite(reason: string): jest.It {
  void reason;
  return onPostgres() ? notOnThisDatabase : test;
}

/** `describe` on SQLite; nothing on PostgreSQL (see {@link testOnSqlite}). */
export function describeOnSqlite(reason: string): jest.Describe {
  void reason;
  return onPostgres() ? notOnThisDatabase : describe;
}

/**
 * `describe` on PostgreSQL; on SQLite the block is registered skipped. For tests of what only a database
 * server shows (several nodes on one database, row locks): `reason` says which, where the block is
 * declared. Skipped rather than left out as in {@link describeOnSqlite}: such a block is usually a whole
 * file, and jest fails a file that registers no test at all.
 */
export function describeOnPostgres(reason: string): jest.Describe {
  void reason;
  return onPostgres() ? describe : describe.skip;
}

function adminUrl(): string {
  const url = process.env[POSTGRES_ADMIN_URL_VARIABLE];
  if (url === undefined || url === '') {
    throw new Error(
      process.env[POSTGRES_UNAVAILABLE_VARIABLE] ??
        `no PostgreSQL server for this run (${POSTGRES_ADMIN_URL_VARIABLE} is not set): ` +
          'run the tests through jest.config.ts, whose "postgres" project starts one',
    );
  }
  return url;
}

/** The PostgreSQL database of a data directory: a name derived from its absolute path. */
export function postgresDatabaseNameOf(dataDir: string): string {
  const digest = createHash('sha256').update(path.resolve(dataDir)).digest('hex');
  return `rm_test_${digest.slice(0, 24)}`;
}

function urlOfDatabase(name: string): string {
  const url = new URL(adminUrl());
  url.pathname = `/${name}`;
  return url.toString();
}

async function asAdmin<T>(work: (client: Client) => Promise<T>): Promise<T> {
  const client = new Client({ connectionString: adminUrl() });
  await client.connect();
  try {
    return await work(client);
  } finally {
    await client.end();
  }
}

/** duplicate_database, or the catalog's unique index when two processes create one name at once. */
function isDuplicateDatabase(error: unknown): boolean {
  const code = (error as { code?: unknown }).code;
  return code === '42P04' || code === '23505';
}

/** Databases this process created (or found), by name: each is created once. */
const ensured = new Map<string, Promise<void>>();

async function ensurePostgresDatabase(dataDir: string): Promise<string> {
  const name = postgresDatabaseNameOf(dataDir);
  let creation = ensured.get(name);
  if (creation === undefined) {
    creation = asAdmin(async (client) => {
      try {
        await client.query(`CREATE DATABASE ${name}`);
      } catch (error) {
        if (!isDuplicateDatabase(error)) throw error;
      }
    });
    ensured.set(name, creation);
    creation.catch(() => ensured.delete(name));
  }
  await creation;
  return urlOfDatabase(name);
}

/**
 * What `openDatabase(dataDir, ...)` needs to find this run's database of `dataDir`: nothing on SQLite
 * (the file in the directory), the URL of its database on PostgreSQL (created when missing).
 */
export async function testDatabaseOptions(dataDir: string): Promise<OpenDatabaseOptions> {
  return onPostgres() ? { databaseUrl: await ensurePostgresDatabase(dataDir) } : {};
}

/**
 * The environment a service started on `dataDir` needs for this run's database: nothing on SQLite,
 * RM_DATABASE_URL on PostgreSQL.
 */
export async function testServiceEnvironment(dataDir: string): Promise<Record<string, string>> {
  const { databaseUrl } = await testDatabaseOptions(dataDir);
  return databaseUrl === undefined ? {} : { RM_DATABASE_URL: databaseUrl };
}

/** Opens (and migrates) the database of `dataDir` on this run's database, as the service would. */
export async function openTestDatabase(
  dataDir: string,
  options: { busyTimeoutMs?: number } = {},
): Promise<DataSource> {
  return openDatabase(dataDir, { ...options, ...(await testDatabaseOptions(dataDir)) });
}

/** Whether `dataDir` has a database yet (a SQLite file, or its PostgreSQL database); creates nothing. */
export async function hasTestDatabase(dataDir: string): Promise<boolean> {
  if (!onPostgres()) return existsSync(path.join(dataDir, SQLITE_FILE_NAME));
  const name = postgresDatabaseNameOf(dataDir);
  const { rowCount } = await asAdmin((client) =>
    client.query('SELECT 1 FROM pg_database WHERE datname = $1', [name]),
  );
  return rowCount === 1;
}

/**
 * Drops the PostgreSQL database of `dataDir` (closing whatever connections are left on it); nothing to
 * do on SQLite, whose file goes with the directory.
 */
export async function dropTestDatabase(dataDir: string): Promise<void> {
  if (!onPostgres()) return;
  const name = postgresDatabaseNameOf(dataDir);
  ensured.delete(name);
  await asAdmin((client) => client.query(`DROP DATABASE IF EXISTS ${name} WITH (FORCE)`));
}

/** Removes a test's data directory and its database. */
export async function removeTestDataDir(dataDir: string): Promise<void> {
  try {
    await dropTestDatabase(dataDir);
  } finally {
    await fs.rm(dataDir, { recursive: true, force: true });
  }
}
