import {
  findPostgresBinDir,
  POSTGRES_MISSING_MESSAGE,
  startPostgresServer,
  type PostgresServer,
} from './postgres-server';
import { POSTGRES_ADMIN_URL_VARIABLE, POSTGRES_UNAVAILABLE_VARIABLE } from './test-database';

/*
 * jest globalSetup of the "postgres" project (see jest.config.ts): starts the run's one PostgreSQL
 * server before any of its tests, and hands its admin URL to the test workers through the environment
 * (workers start after this and inherit it). Each test then creates its own database on it (see
 * test-database.ts). postgres-global-teardown.ts stops it.
 */

/** Where the teardown finds the server (globalSetup and globalTeardown share the main process). */
export const SERVER_GLOBAL = '__registeredMailPostgresServer';

export default async function startRunPostgres(): Promise<void> {
  const binDir = findPostgresBinDir();
  if (binDir === undefined) {
    // Only reached with CI=true (jest.config.ts leaves the project out locally): every test of the
    // project then fails with this message (see postgres-project-setup.ts).
    process.env[POSTGRES_UNAVAILABLE_VARIABLE] = POSTGRES_MISSING_MESSAGE;
    return;
  }
  let server: PostgresServer;
  try {
    server = await startPostgresServer(binDir);
  } catch (error) {
    // The SQLite project still runs; every test of this one fails with what went wrong.
    process.env[POSTGRES_UNAVAILABLE_VARIABLE] =
      `the PostgreSQL server of the test run did not start (binaries in ${binDir}): ${(error as Error).message}`;
    return;
  }
  (globalThis as Record<string, unknown>)[SERVER_GLOBAL] = server;
  process.env[POSTGRES_ADMIN_URL_VARIABLE] = server.adminUrl;
}
