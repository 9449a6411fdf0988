import type { DataSource, EntityManager, EntityMetadata, EntityTarget, ObjectLiteral } from 'typeorm';
import { quotedTablePath } from './quoted-table';
import { runStatement } from './run-statement';

/*
 * Why not `manager.findOne`: TypeORM's SelectQueryBuilder builds the statement anew for every call (the
 * select list, the WHERE from the find options, the parameter names, then a pass that renames and escapes
 * them), which cost several times what SQLite took to answer on the request path (sendDocument's retry
 * look-up, getStatus). A RowFinder builds its statement once from the same metadata, as RowInserter does
 * for inserts, and converts the values both ways as TypeORM does.
 */

/** A column of an entity, as TypeORM's metadata describes it. */
type Column = EntityMetadata['columns'][number];

/** Options of a {@link RowFinder}: the properties read, and those matched for equality. */
export interface RowFinderOptions<Entity, Selected extends keyof Entity, Key extends keyof Entity> {
  select: readonly Selected[];
  where: readonly Key[];
}

function columnOf(metadata: EntityMetadata, propertyName: string): Column {
  const column = metadata.findColumnWithPropertyName(propertyName);
  if (
    column === undefined ||
    column.embeddedMetadata !== undefined ||
    column.relationMetadata !== undefined
  ) {
    throw new TypeError(`RowFinder: ${metadata.tableName} has no plain column for ${propertyName}`);
  }
  return column;
}

/**
 * `SELECT <select> FROM <table> WHERE <key> = ? AND ... LIMIT 1` on one entity's table, built once from
 * the DataSource's metadata and run through an EntityManager (inside its transaction, when it has one;
 * through TypeORM's query runner, its prepared-statement cache and its error wrapping). The key's values
 * are converted as the driver stores them (`preparePersistentValue`, so a key matches what was written),
 * the row's as TypeORM reads them (`prepareHydratedValue`: transformers such as the time columns').
 * Names are quoted with the driver's escape and placeholders come from the driver: the SQL is the same on
 * SQLite and PostgreSQL. Every key needs a value: `null` is refused (SQL's `= NULL` would match nothing).
 */
export class RowFinder<
  Entity extends ObjectLiteral,
  Selected extends keyof Entity,
  Key extends keyof Entity,
> {
  private readonly selected: readonly { column: Column; alias: string }[];
  private readonly keys: readonly Column[];
  /** The statement's text (built once). */
  readonly statement: string;

  /**
   * @param dataSource an initialised DataSource (its metadata describes `target`)
   * @param target the entity whose table is read
   */
  constructor(
    private readonly dataSource: DataSource,
    target: EntityTarget<Entity>,
    options: RowFinderOptions<Entity, Selected, Key>,
  ) {
    const metadata = dataSource.getMetadata(target);
    const driver = dataSource.driver;
    if (options.select.length === 0 || options.where.length === 0) {
      throw new TypeError(`RowFinder: ${metadata.tableName} needs columns to select and to match`);
    }
    this.selected = options.select.map((property, index) => ({
      column: columnOf(metadata, String(property)),
      alias: `c${index}`,
    }));
    this.keys = options.where.map((property) => columnOf(metadata, String(property)));
    const list = this.selected
      .map(({ column, alias }) => `${driver.escape(column.databaseName)} AS ${driver.escape(alias)}`)
      .join(', ');
    const conditions = this.keys
      .map(
        (column, index) =>
          `${driver.escape(column.databaseName)} = ${driver.createParameter(column.databaseName, index)}`,
      )
      .join(' AND ');
    this.statement = `SELECT ${list} FROM ${quotedTablePath(dataSource, metadata)} WHERE ${conditions} LIMIT 1`;
  }

  /** The row whose key columns equal `key`'s values, with the selected properties only; else undefined. */
  async findOne(manager: EntityManager, key: Pick<Entity, Key>): Promise<Pick<Entity, Selected> | undefined> {
    const driver = this.dataSource.driver;
    const parameters = this.keys.map((column): unknown => {
      const value: unknown = column.getEntityValue(key);
      if (value === null || value === undefined) {
        throw new TypeError(`RowFinder: no value for ${column.databaseName} (SQL's = NULL matches nothing)`);
      }
      return driver.preparePersistentValue(value, column);
    });
    const rows = (await runStatement(manager, this.statement, parameters)) as Record<string, unknown>[];
    const [row] = rows;
    if (row === undefined) return undefined;
    const found: Record<string, unknown> = {};
    for (const { column, alias } of this.selected) {
      found[column.propertyName] = driver.prepareHydratedValue(row[alias], column);
    }
    return found as Pick<Entity, Selected>;
  }
}
