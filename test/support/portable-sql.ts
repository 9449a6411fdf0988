import type { DataSource, EntityManager } from 'typeorm';

/**
 * Runs raw SQL with named parameters (`:name`, `:...names` for a list) on any database: the driver
 * writes the placeholders its database understands (`?` on SQLite, `$1` on PostgreSQL). For the tests'
 * own reads; the service's SQL is TypeORM's (query builder, or RowInserter's statements from its metadata).
 * @returns the rows
 */
export async function queryRows<Row>(
  target: DataSource | EntityManager,
  sql: string,
  parameters: Record<string, unknown> = {},
): Promise<Row[]> {
  const dataSource = 'manager' in target ? target : target.connection;
  const [query, values] = dataSource.driver.escapeQueryWithParameters(sql, parameters);
  return (await target.query(query, values)) as Row[];
}
