import type { EntityManager, QueryResult } from 'typeorm';

/** The part of a better-sqlite3 statement used here (the package ships no types). */
interface SqliteStatement {
  readonly reader: boolean;
  all(...parameters: unknown[]): unknown[];
  run(...parameters: unknown[]): unknown;
}

interface SqliteConnection {
  prepare(sql: string): SqliteStatement;
}

/** Prepared statements per better-sqlite3 connection, by SQL text (the write path has a dozen texts). */
const statementsByConnection = new WeakMap<SqliteConnection, Map<string, SqliteStatement>>();

/** At most this many statements are kept prepared per connection (texts are few; this only bounds). */
const MAX_PREPARED_STATEMENTS = 256;

/**
 * A TypeORM subscriber that listens for commits only (a transaction's commit, and a write outside a
 * transaction, which commits by itself): statements that commit nothing by themselves (inside a
 * transaction, or reads) may be run without it seeing them.
 */
export interface CommitListener {
  readonly listensForCommitsOnly: true;
}

function isCommitListener(subscriber: unknown): boolean {
  return (subscriber as Partial<CommitListener>).listensForCommitsOnly === true;
}

/**
 * The better-sqlite3 connection to run on directly; undefined on another driver, or when something
 * listens to TypeORM's queries (a subscriber other than a {@link CommitListener}, query logging), which
 * then must see every statement.
 */
function directSqliteConnectionOf(manager: EntityManager): SqliteConnection | undefined {
  const dataSource = manager.connection;
  const driver = dataSource.driver;
  if (driver.options.type !== 'better-sqlite3') return undefined;
  if (!dataSource.subscribers.every(isCommitListener) || Boolean(dataSource.options.logging))
    return undefined;
  return (driver as unknown as { databaseConnection: SqliteConnection }).databaseConnection;
}

function preparedOn(connection: SqliteConnection, sql: string): SqliteStatement {
  let statements = statementsByConnection.get(connection);
  if (statements === undefined) {
    statements = new Map();
    statementsByConnection.set(connection, statements);
  }
  let statement = statements.get(sql);
  if (statement === undefined) {
    statement = connection.prepare(sql);
    if (statements.size >= MAX_PREPARED_STATEMENTS) statements.clear();
    statements.set(sql, statement);
  }
  return statement;
}

/**
 * The statement through TypeORM's query runner: the manager's own (its transaction), or a new one for
 * this statement, as `manager.query` does; the rows from the structured result (for an UPDATE or a
 * DELETE, `manager.query` answers rows and count together on PostgreSQL).
 */
async function throughQueryRunner(
  manager: EntityManager,
  sql: string,
  parameters: readonly unknown[],
): Promise<unknown[]> {
  const runner = manager.queryRunner ?? manager.connection.createQueryRunner();
  try {
    const result = (await runner.query(sql, [...parameters], true)) as QueryResult;
    return result.records ?? [];
  } finally {
    if (manager.queryRunner === undefined) await runner.release();
  }
}

/**
 * Runs one statement of the request path inside `manager`'s transaction (or on its own outside one) and
 * returns the rows it answers (`SELECT`, `RETURNING`; an empty array for the others).
 *
 * On SQLite (better-sqlite3: one synchronous connection per DataSource, on which TypeORM runs its
 * transactions too) the statement is run on the driver's connection, prepared once per SQL text: what
 * TypeORM's query runner runs, without the dozen promises, the logging and the subscriber broadcast it
 * wraps around every statement: an accepted item is about ten statements. When something else listens
 * to TypeORM's queries (a subscriber that is not a {@link CommitListener}, query logging: the service
 * has neither), the statement goes through the runner after all, so that it sees every one. The WAL
 * checkpointer's commit counter, a CommitListener, still sees every commit: a transaction's through
 * TypeORM, and a write outside a transaction, which goes through the runner while it listens. A failure
 * on the direct path is the driver's own error (`SqliteError` with its `code`), which
 * `storage-errors.ts` reads as it reads TypeORM's `QueryFailedError`. Elsewhere
 * (PostgreSQL) through `manager.query`. The SQL is the same for both: portable, built from the entities'
 * metadata.
 */
export async function runStatement(
  manager: EntityManager,
  sql: string,
  parameters: readonly unknown[] = [],
): Promise<unknown[]> {
  const connection = directSqliteConnectionOf(manager);
  if (connection === undefined) return throughQueryRunner(manager, sql, parameters);
  const statement = preparedOn(connection, sql);
  // A write outside a transaction commits by itself: the commit listeners must see it.
  const inTransaction = manager.queryRunner?.isTransactionActive === true;
  if (!statement.reader && !inTransaction && manager.connection.subscribers.length > 0) {
    return throughQueryRunner(manager, sql, parameters);
  }
  // better-sqlite3 binds no booleans (TypeORM's runner converts them the same way).
  const bound = parameters.map((value) => (typeof value === 'boolean' ? (value ? 1 : 0) : value));
  if (statement.reader) return statement.all(...bound);
  statement.run(...bound);
  return [];
}
