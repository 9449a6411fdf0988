import { QueryFailedError } from 'typeorm';
import { RepositoryError, TemporarilyUnavailableError } from '../errors/faults';
import { ServiceError } from '../errors/service-error';

/*
 * Storage failures as the contract names them: a database that is unreachable or busy beyond the busy
 * timeout is SOA-02002 (the client may retry); anything else the database reports is REPO_T01.
 */

/** SQLite result codes (better-sqlite3 `SqliteError.code`), matched as prefixes of extended codes. */
const SQLITE_UNAVAILABLE_PREFIXES = ['SQLITE_BUSY', 'SQLITE_LOCKED', 'SQLITE_CANTOPEN', 'SQLITE_PROTOCOL'];
const SQLITE_UNIQUE_CODES = new Set(['SQLITE_CONSTRAINT_UNIQUE', 'SQLITE_CONSTRAINT_PRIMARYKEY']);

/**
 * PostgreSQL SQLSTATEs that mean "not now, try again": the server shutting down or starting (57P01-03),
 * too many connections (53300), a serialization failure or a deadlock (40001, 40P01: the transaction
 * was rolled back and may simply run again), a lock or statement timeout set by the operator (55P03,
 * 57014: PostgreSQL's counterpart of SQLite's busy timeout). Class 08 (connection exceptions) too.
 */
const POSTGRES_UNAVAILABLE_CODES = new Set([
  '57P01',
  '57P02',
  '57P03',
  '53300',
  '40001',
  '40P01',
  '55P03',
  '57014',
]);
const NETWORK_UNAVAILABLE_CODES = new Set([
  'ECONNREFUSED',
  'ECONNRESET',
  'ETIMEDOUT',
  'EHOSTUNREACH',
  'EPIPE',
  'EAI_AGAIN',
]);
const POSTGRES_UNIQUE_VIOLATION = '23505';

/**
 * Messages of errors without a code that mean the connection is gone: better-sqlite3 once closed; `pg`
 * when the server went away, the pool was ended, or no connection came within the connect timeout;
 * TypeORM's PostgreSQL driver once the DataSource is destroyed.
 */
const UNAVAILABLE_MESSAGES =
  /database connection is not open|Connection terminated|Cannot use a pool after calling end|timeout exceeded when trying to connect|Client has encountered a connection error|Driver not Connected/i;

/** TypeORM errors raised when the DataSource is not (or no longer) connected. */
const TYPEORM_NOT_CONNECTED = new Set([
  'CannotExecuteNotConnectedError',
  'CannotGetEntityManagerNotConnectedError',
  'ConnectionIsNotSetError',
  'QueryRunnerAlreadyReleasedError',
]);

function driverCode(error: unknown): string | undefined {
  const driverError = error instanceof QueryFailedError ? (error.driverError as unknown) : error;
  if (typeof driverError !== 'object' || driverError === null) return undefined;
  const code = (driverError as { code?: unknown }).code;
  return typeof code === 'string' ? code : undefined;
}

function driverMessage(error: unknown): string {
  const driverError = error instanceof QueryFailedError ? (error.driverError as unknown) : error;
  // Duck-typed: errors of the native driver may come from another realm (e.g. under jest).
  if (typeof driverError !== 'object' || driverError === null) return '';
  const message = (driverError as { message?: unknown }).message;
  return typeof message === 'string' ? message : '';
}

/** Whether the database refused a write because of a primary key or unique constraint. */
export function isUniqueViolation(error: unknown): boolean {
  const code = driverCode(error);
  return code !== undefined && (SQLITE_UNIQUE_CODES.has(code) || code === POSTGRES_UNIQUE_VIOLATION);
}

/** Whether the error means the database cannot be used right now (retrying later should work). */
export function isDatabaseUnavailable(error: unknown): boolean {
  const name = typeof error === 'object' && error !== null ? (error as { name?: unknown }).name : undefined;
  if (typeof name === 'string' && TYPEORM_NOT_CONNECTED.has(name)) return true;
  const code = driverCode(error);
  if (code !== undefined) {
    if (SQLITE_UNAVAILABLE_PREFIXES.some((prefix) => code.startsWith(prefix))) return true;
    if (POSTGRES_UNAVAILABLE_CODES.has(code) || code.startsWith('08')) return true;
    if (NETWORK_UNAVAILABLE_CODES.has(code)) return true;
  }
  return UNAVAILABLE_MESSAGES.test(driverMessage(error));
}

/**
 * The fault for a storage failure: service errors pass through, an unavailable database becomes
 * {@link TemporarilyUnavailableError}, anything else {@link RepositoryError}. The original error is
 * kept as the cause (for the log, never for the client).
 */
export function toStorageFault(error: unknown): ServiceError {
  if (error instanceof ServiceError) return error;
  if (isDatabaseUnavailable(error)) return new TemporarilyUnavailableError({ cause: error });
  return new RepositoryError({ cause: error });
}
