import type { DataSource, EntityManager, EntityMetadata, EntityTarget, ObjectLiteral } from 'typeorm';
import { quotedTablePath } from './quoted-table';
import { runStatement } from './run-statement';

/*
 * Why not `manager.insert`: TypeORM's InsertQueryBuilder builds the statement anew for every call (the
 * column list, a parameter per value, then a pass that renames and escapes them all), and inlines some
 * values (numbers) into the text, so no two statements are alike. On the accept path that work cost more
 * CPU than the database did. A RowInserter builds the statement of a table once from the same metadata
 * and sends it through the same EntityManager, with the values converted as TypeORM converts them.
 */

/** A column of an entity, as TypeORM's metadata describes it. */
type Column = EntityMetadata['columns'][number];

/**
 * Bound parameters per statement at most: SQLite's default limit (SQLITE_MAX_VARIABLE_NUMBER, 32 766
 * since 3.32); PostgreSQL allows 65 535. More rows than fit go into several statements.
 */
export const MAX_PARAMETERS_PER_STATEMENT = 32_766;

/** What to do with a row whose key (primary or unique) is taken. */
export type OnConflict = 'fail' | 'do-nothing';

/** Options of a {@link RowInserter}. */
export interface RowInserterOptions {
  /**
   * `fail` (default): the statement fails with the unique violation (the driver's error, or TypeORM's
   * `QueryFailedError` around it on PostgreSQL: `isUniqueViolation` reads both). `do-nothing`:
   * `ON CONFLICT DO NOTHING`, the row already there is kept (SQLite 3.24 and later, PostgreSQL 9.5 and
   * later).
   */
  onConflict?: OnConflict;
}

/** One statement of an insert: its text and its parameters, in placeholder order. */
export interface InsertStatement {
  sql: string;
  parameters: unknown[];
}

/** Why TypeORM would write a column with SQL other than one plain parameter, if it would. */
function unsupportedColumnReason(column: Column, dataSource: DataSource): string | undefined {
  const driver = dataSource.driver;
  if (column.isVersion) return 'a version column';
  if (column.isDiscriminator) return 'a discriminator column';
  if (driver.spatialTypes.includes(column.type)) return 'a spatial column';
  // SQLite wraps jsonb parameters in jsonb(...).
  if (column.type === 'jsonb' && dataSource.options.type !== 'postgres') return 'a jsonb column';
  if (column.isGenerated && column.generationStrategy === 'uuid' && !driver.isUUIDGenerationSupported()) {
    return 'a uuid the database cannot generate';
  }
  return undefined;
}

/**
 * The INSERT statement of one entity's table, built once from the DataSource's metadata, and run in an
 * EntityManager's transaction (and savepoint) by {@link runStatement}: prepared once on SQLite, through
 * the manager's query runner on PostgreSQL; a taken key fails as `isUniqueViolation` recognises.
 *
 * Written: every column TypeORM would insert, except those the database generates (e.g.
 * `item_status_history.id`), each value converted by the driver's `preparePersistentValue` (transformers
 * such as the time columns' ISO text, booleans, byte arrays) and bound as a parameter; the statement text
 * depends on the number of rows only. Names are quoted with the driver's escape and placeholders come from
 * the driver (`?` on SQLite, `$1, $2, ...` on PostgreSQL): the SQL is the same on both databases.
 *
 * A value left `undefined` is written as NULL (what TypeORM writes on SQLite, and what `DEFAULT` is on
 * PostgreSQL for a column without a default); a column with a default must be given a value. Entities
 * whose columns TypeORM writes with other SQL than a parameter (version, discriminator, spatial columns)
 * are refused when the inserter is built.
 *
 * @typeParam Row the rows as the caller writes them (the entity, without its generated columns).
 */
export class RowInserter<Row extends ObjectLiteral> {
  /** The table's name, unquoted. */
  readonly tableName: string;
  /** Rows per statement at most (see {@link MAX_PARAMETERS_PER_STATEMENT}). */
  readonly maxRowsPerStatement: number;
  private readonly columns: readonly Column[];
  private readonly head: string;
  private readonly tail: string;
  private readonly sqlByRowCount = new Map<number, string>();

  /**
   * @param dataSource an initialised DataSource (its metadata describes `target`)
   * @param target the entity whose table gets the rows
   */
  constructor(
    private readonly dataSource: DataSource,
    target: EntityTarget<Row>,
    options: RowInserterOptions = {},
  ) {
    const metadata = dataSource.getMetadata(target);
    const driver = dataSource.driver;
    this.tableName = metadata.tableName;
    this.columns = metadata.columns.filter(
      (column) =>
        column.isInsert &&
        !column.isGenerated &&
        !column.isVirtualProperty &&
        column.generatedType === undefined,
    );
    for (const column of metadata.columns) {
      const reason = unsupportedColumnReason(column, dataSource);
      if (reason !== undefined) {
        throw new TypeError(`RowInserter: ${metadata.tableName}.${column.databaseName} is ${reason}`);
      }
    }
    if (this.columns.length === 0)
      throw new TypeError(`RowInserter: ${metadata.tableName} has no columns to write`);
    const onConflict = options.onConflict ?? 'fail';
    if (onConflict === 'do-nothing' && !driver.supportedUpsertTypes.includes('on-conflict-do-update')) {
      throw new TypeError(`RowInserter: ${dataSource.options.type} has no ON CONFLICT clause`);
    }
    const table = quotedTablePath(dataSource, metadata);
    const names = this.columns.map((column) => driver.escape(column.databaseName)).join(', ');
    this.head = `INSERT INTO ${table} (${names}) VALUES `;
    this.tail = onConflict === 'do-nothing' ? ' ON CONFLICT DO NOTHING' : '';
    this.maxRowsPerStatement = Math.max(1, Math.floor(MAX_PARAMETERS_PER_STATEMENT / this.columns.length));
  }

  /** The text of the INSERT of `rowCount` rows (built once per count). */
  sqlFor(rowCount: number): string {
    if (!Number.isSafeInteger(rowCount) || rowCount < 1 || rowCount > this.maxRowsPerStatement) {
      throw new RangeError(`RowInserter: ${rowCount} rows do not make one INSERT into ${this.tableName}`);
    }
    let sql = this.sqlByRowCount.get(rowCount);
    if (sql === undefined) {
      const driver = this.dataSource.driver;
      const tuples: string[] = [];
      for (let row = 0; row < rowCount; row += 1) {
        const first = row * this.columns.length;
        const placeholders = this.columns.map((column, index) =>
          driver.createParameter(column.databaseName, first + index),
        );
        tuples.push(`(${placeholders.join(', ')})`);
      }
      sql = `${this.head}${tuples.join(', ')}${this.tail}`;
      this.sqlByRowCount.set(rowCount, sql);
    }
    return sql;
  }

  /** The parameters of `rows`, row after row, each value as the driver stores it. */
  parametersOf(rows: readonly Row[]): unknown[] {
    const driver = this.dataSource.driver;
    const parameters: unknown[] = [];
    for (const row of rows) {
      for (const column of this.columns) {
        const value: unknown = driver.preparePersistentValue(column.getEntityValue(row), column);
        if (value === undefined && column.default !== undefined && column.default !== null) {
          throw new TypeError(`RowInserter: no value for ${this.tableName}.${column.databaseName}`);
        }
        parameters.push(value ?? null);
      }
    }
    return parameters;
  }

  /** The statements that insert `rows`: one per {@link maxRowsPerStatement} rows. */
  statementsFor(rows: readonly Row[]): InsertStatement[] {
    const statements: InsertStatement[] = [];
    for (let start = 0; start < rows.length; start += this.maxRowsPerStatement) {
      const slice = rows.slice(start, start + this.maxRowsPerStatement);
      statements.push({ sql: this.sqlFor(slice.length), parameters: this.parametersOf(slice) });
    }
    return statements;
  }

  /**
   * Inserts `rows` in `manager`'s transaction, when it has one. A conflict fails with the unique
   * violation (see {@link RowInserterOptions.onConflict}), unless built with `onConflict: 'do-nothing'`.
   */
  async insert(manager: EntityManager, rows: Row | readonly Row[]): Promise<void> {
    const list: readonly Row[] = isRowList(rows) ? rows : [rows];
    for (const { sql, parameters } of this.statementsFor(list)) await runStatement(manager, sql, parameters);
  }
}

function isRowList<Row extends ObjectLiteral>(rows: Row | readonly Row[]): rows is readonly Row[] {
  return Array.isArray(rows);
}
