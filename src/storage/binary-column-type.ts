import type { DataSourceOptions } from 'typeorm';
import type { BinaryColumnType } from './entities/content-chunk.schema';

/** The type of a column of bytes on this kind of database (`bytea` on PostgreSQL, `blob` elsewhere). */
export function binaryColumnTypeOf(databaseType: DataSourceOptions['type']): BinaryColumnType {
  return databaseType === 'postgres' ? 'bytea' : 'blob';
}
