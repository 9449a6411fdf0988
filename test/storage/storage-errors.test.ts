import { QueryFailedError } from 'typeorm';
import { RepositoryError, TemporarilyUnavailableError, TokenConflictError } from '../../src/errors/faults';
import { isDatabaseUnavailable, isUniqueViolation, toStorageFault } from '../../src/storage/storage-errors';

function failed(code: string, message = 'driver says no'): QueryFailedError {
  return new QueryFailedError('INSERT ...', [], Object.assign(new Error(message), { code }));
}

describe('storage errors', () => {
  it.each(['SQLITE_CONSTRAINT_UNIQUE', 'SQLITE_CONSTRAINT_PRIMARYKEY', '23505'])(
    '%s is a unique violation',
    (code) => {
      expect(isUniqueViolation(failed(code))).toBe(true);
    },
  );

  it.each(['SQLITE_CONSTRAINT_FOREIGNKEY', 'SQLITE_CONSTRAINT_NOTNULL', 'SQLITE_BUSY'])(
    '%s is not a unique violation',
    (code) => {
      expect(isUniqueViolation(failed(code))).toBe(false);
    },
  );

  it.each([
    'SQLITE_BUSY',
    'SQLITE_BUSY_SNAPSHOT',
    'SQLITE_LOCKED',
    'SQLITE_CANTOPEN',
    '57P01',
    '57P03',
    '08006',
    '53300',
    '40P01',
    '55P03',
    'ECONNREFUSED',
  ])('%s means unavailable -> SOA-02002 with retry', (code) => {
    expect(isDatabaseUnavailable(failed(code))).toBe(true);
    const fault = toStorageFault(failed(code));
    expect(fault).toBeInstanceOf(TemporarilyUnavailableError);
    expect(fault.retry).toBe(true);
  });

  it('a closed better-sqlite3 connection means unavailable', () => {
    const closed = new QueryFailedError('SELECT 1', [], new TypeError('The database connection is not open'));
    expect(toStorageFault(closed)).toBeInstanceOf(TemporarilyUnavailableError);
    // As the statements of the request path raise it on SQLite: the driver's error, not wrapped.
    expect(toStorageFault(new TypeError('The database connection is not open'))).toBeInstanceOf(
      TemporarilyUnavailableError,
    );
  });

  it("reads the driver's own errors as it reads them wrapped", () => {
    const driverError = (code: string) => Object.assign(new Error('driver says no'), { code });
    expect(isDatabaseUnavailable(driverError('SQLITE_BUSY'))).toBe(true);
    expect(isUniqueViolation(driverError('SQLITE_CONSTRAINT_PRIMARYKEY'))).toBe(true);
    expect(isUniqueViolation(driverError('SQLITE_CONSTRAINT_UNIQUE'))).toBe(true);
    expect(toStorageFault(driverError('SQLITE_CORRUPT'))).toBeInstanceOf(RepositoryError);
  });

  it.each([
    'Connection terminated unexpectedly',
    'Cannot use a pool after calling end on the pool',
    'timeout exceeded when trying to connect',
    'Driver not Connected',
  ])('PostgreSQL out of reach (%s) means unavailable', (message) => {
    expect(toStorageFault(new Error(message))).toBeInstanceOf(TemporarilyUnavailableError);
  });

  it('anything else is REPO_T01, and service errors pass through', () => {
    expect(toStorageFault(failed('SQLITE_CORRUPT'))).toBeInstanceOf(RepositoryError);
    expect(toStorageFault(failed('23503', 'violates foreign key constraint'))).toBeInstanceOf(
      RepositoryError,
    );
    expect(toStorageFault(failed('25P02', 'current transaction is aborted'))).toBeInstanceOf(RepositoryError);
    expect(toStorageFault(new Error('disk on fire'))).toBeInstanceOf(RepositoryError);
    const conflict = new TokenConflictError();
    expect(toStorageFault(conflict)).toBe(conflict);
  });
});
