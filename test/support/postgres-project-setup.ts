import {
  POSTGRES_ADMIN_URL_VARIABLE,
  POSTGRES_UNAVAILABLE_VARIABLE,
  TEST_DATABASE_VARIABLE,
} from './test-database';

/*
 * setupFilesAfterEnv of the "postgres" project (jest.config.ts): the fixtures of every test file of
 * the project use PostgreSQL (test-database.ts). Without the run's server (no PostgreSQL binaries, and
 * CI=true: locally the project is left out instead), every test of the file fails with the reason.
 */

process.env[TEST_DATABASE_VARIABLE] = 'postgres';

if (!process.env[POSTGRES_ADMIN_URL_VARIABLE]) {
  const reason =
    process.env[POSTGRES_UNAVAILABLE_VARIABLE] ?? 'the PostgreSQL server of the run did not start';
  beforeAll(() => {
    throw new Error(reason);
  });
}
