import { EntitySchema } from 'typeorm';

/**
 * A piece of stored content (a document, an annex, a receipt, a proof) kept in the database rather than
 * in the blob directory: content-addressed like a blob (the hex SHA-256 of the whole content), in
 * pieces of at most {@link CONTENT_CHUNK_BYTES} numbered from 0. A content's pieces are written in one
 * transaction and never changed, so a content is either wholly present or absent.
 */
export class ContentChunkEntity {
  /** Hex SHA-256 of the whole content: the same address as in the blob store. */
  sha256!: string;
  /** 0, 1, 2, … in the content's order. */
  chunkIndex!: number;
  bytes!: Buffer;
}

/** The largest piece of one row. */
export const CONTENT_CHUNK_BYTES = 256 * 1024;

/** How a database spells a column of bytes: the one type SQLite and PostgreSQL name differently. */
export type BinaryColumnType = 'blob' | 'bytea';

/**
 * The `content_chunk` table's mapping for a database whose byte columns are `binaryType`. Declared as
 * a schema, not with decorators, because a decorator's column type is fixed when the class loads, before
 * anyone knows which database it will meet.
 */
export function contentChunkSchema(binaryType: BinaryColumnType): EntitySchema<ContentChunkEntity> {
  return new EntitySchema<ContentChunkEntity>({
    name: 'ContentChunkEntity',
    target: ContentChunkEntity,
    tableName: 'content_chunk',
    columns: {
      sha256: {
        name: 'sha256',
        type: 'varchar',
        length: 64,
        primary: true,
        primaryKeyConstraintName: 'PK_content_chunk',
      },
      chunkIndex: {
        name: 'chunk_index',
        type: 'integer',
        primary: true,
        primaryKeyConstraintName: 'PK_content_chunk',
      },
      bytes: { name: 'bytes', type: binaryType },
    },
  });
}
