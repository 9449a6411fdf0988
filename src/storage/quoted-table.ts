import type { DataSource, EntityMetadata } from 'typeorm';

/**
 * The table of an entity as TypeORM's query builder names it in SQL: each part of `schema.table` quoted
 * on its own with the driver's escape.
 */
export function quotedTablePath(dataSource: DataSource, metadata: EntityMetadata): string {
  return metadata.tablePath
    .split('.')
    .map((part) => (part === '' ? part : dataSource.driver.escape(part)))
    .join('.');
}
