import type { Config } from 'jest';
import { findPostgresBinDir, POSTGRES_MISSING_MESSAGE } from './test/support/postgres-server';

/*
 * Two projects, one `npm test`:
 * - "sqlite": every test, on SQLite files (the service's default database);
 * - "postgres": the tests whose outcome depends on the database run a second time on a PostgreSQL
 *   server that the run starts itself (test/support/postgres-global-setup.ts) and stops afterwards;
 *   each test gets its own database there (test/support/test-database.ts).
 * Run one of them with `npm test -- --selectProjects sqlite` (or postgres).
 */

type ProjectConfig = Exclude<NonNullable<Config['projects']>[number], string>;

const common: ProjectConfig = {
  preset: 'ts-jest',
  testEnvironment: 'node',
  roots: ['<rootDir>/test'],
};

/** What runs on PostgreSQL too: the domain and storage tests on a database, the protocol through HTTP. */
const POSTGRES_TESTS = [
  // Domain services over the real stores (the others are pure functions: once is enough).
  '<rootDir>/test/domain/get-history.test.ts',
  '<rootDir>/test/domain/get-proof.test.ts',
  '<rootDir>/test/domain/get-status.test.ts',
  '<rootDir>/test/domain/send-document.test.ts',
  // Storage on a database. Not here, SQLite only: wal-durability (the WAL group commit), serial-access,
  // serial-access-write-lock and lock-file-write-lock (queueing for a single-connection driver, the
  // cross-process write lock on a SQLite file); and, database-free, run once: blob-store, staging-area,
  // storage-errors. Single
  // tests inside the files below that concern SQLite alone are declared with testOnSqlite(reason).
  '<rootDir>/test/storage/accept-durability.test.ts',
  '<rootDir>/test/storage/commit-group.test.ts',
  '<rootDir>/test/storage/content-store.test.ts',
  '<rootDir>/test/storage/data-source.test.ts',
  '<rootDir>/test/storage/multi-process.test.ts',
  '<rootDir>/test/storage/outbox-store.test.ts',
  '<rootDir>/test/storage/replay-store.test.ts',
  '<rootDir>/test/storage/row-inserter.test.ts',
  '<rootDir>/test/storage/run-statement.test.ts',
  // The SOAP protocol through real HTTP against a service on the database...
  '<rootDir>/test/integration/*.test.ts',
  '<rootDir>/test/security/attack-suite.test.ts',
  // Operations: the outbox gauges and the health checks read the database.
  '<rootDir>/test/metrics/metrics-endpoint.test.ts',
  '<rootDir>/test/metrics/health-endpoint.test.ts',
];

/**
 * ...except the delivery crash test (200 items, repeated SIGKILLs of the service: a minute on its own),
 * which stays SQLite only: what it proves (no publication lost or made twice across crashes) rests on
 * the outbox's leases, which the outbox-store tests check on PostgreSQL too.
 */
const SQLITE_ONLY_INTEGRATION = ['<rootDir>/test/integration/delivery-crash.test.ts'];

function postgresProject(): ProjectConfig | undefined {
  // Locally, a machine without PostgreSQL runs the SQLite project alone and says so; with CI=true the
  // project runs and every test in it fails with the reason (test/support/postgres-project-setup.ts).
  if (findPostgresBinDir() === undefined && process.env.CI !== 'true') {
    console.warn(`${POSTGRES_MISSING_MESSAGE} (skipped; they fail when CI=true)`);
    return undefined;
  }
  return {
    ...common,
    displayName: 'postgres',
    testMatch: POSTGRES_TESTS,
    testPathIgnorePatterns: ['/node_modules/', ...SQLITE_ONLY_INTEGRATION],
    globalSetup: '<rootDir>/test/support/postgres-global-setup.ts',
    globalTeardown: '<rootDir>/test/support/postgres-global-teardown.ts',
    setupFilesAfterEnv: ['<rootDir>/test/support/postgres-project-setup.ts'],
  };
}

// The database of a test is its project's choice, never the shell's (see test/support/test-database.ts).
delete process.env.RM_TEST_DATABASE;

const postgres = postgresProject();

const config: Config = {
  projects: [
    {
      ...common,
      displayName: 'sqlite',
      testMatch: ['**/*.test.ts'],
      // Several nodes on one PostgreSQL database: a test of the postgres project only.
      testPathIgnorePatterns: ['/node_modules/', '<rootDir>/test/integration/several-nodes.test.ts'],
    },
    ...(postgres ? [postgres] : []),
  ],
  // Interop tests start JVMs and servers; give them room without slowing the fast ones.
  testTimeout: 60_000,
  maxWorkers: 2,
};

export default config;
