import { Table, type MigrationInterface, type QueryRunner } from 'typeorm';
import { binaryColumnTypeOf } from '../binary-column-type';

/*
 * Content kept in the database (see `src/storage/entities/content-chunk.schema.ts`). Same conventions as
 * the initial schema, except the column of bytes, whose type the database names (`blob`, `bytea`).
 */

/** Creates the `content_chunk` table. Content stored before it stays in the blob directory. */
export class ContentChunks1796100000000 implements MigrationInterface {
  /** Explicit, so that the recorded name survives minification. */
  readonly name = 'ContentChunks1796100000000';

  async up(queryRunner: QueryRunner): Promise<void> {
    await queryRunner.createTable(
      new Table({
        name: 'content_chunk',
        columns: [
          {
            name: 'sha256',
            type: 'varchar',
            length: '64',
            isPrimary: true,
            primaryKeyConstraintName: 'PK_content_chunk',
          },
          {
            name: 'chunk_index',
            type: 'integer',
            isPrimary: true,
            primaryKeyConstraintName: 'PK_content_chunk',
          },
          { name: 'bytes', type: binaryColumnTypeOf(queryRunner.connection.options.type) },
        ],
      }),
    );
  }

  async down(queryRunner: QueryRunner): Promise<void> {
    await queryRunner.dropTable('content_chunk');
  }
}
