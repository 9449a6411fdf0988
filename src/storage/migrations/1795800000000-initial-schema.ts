import { Table, type MigrationInterface, type QueryRunner } from 'typeorm';

/*
 * The first schema. Written with the QueryRunner API only (no SQL strings) and with column types that
 * exist on SQLite and PostgreSQL alike: varchar with a length, integer, text. Times are varchar(24)
 * ISO-8601 UTC texts (see `src/storage/time-column.ts`). Names are literals on purpose: a migration
 * describes the schema as it was when written and must not follow later renames in the code.
 */

/** Creates the item, file, status history and receipt tables. */
export class InitialSchema1795800000000 implements MigrationInterface {
  /** Explicit, so that the recorded name survives minification. */
  readonly name = 'InitialSchema1795800000000';

  async up(queryRunner: QueryRunner): Promise<void> {
    await queryRunner.createTable(
      new Table({
        name: 'registered_mail_item',
        columns: [
          {
            name: 'ticket',
            type: 'varchar',
            length: '13',
            isPrimary: true,
            primaryKeyConstraintName: 'PK_registered_mail_item',
          },
          { name: 'token', type: 'varchar', length: '50' },
          { name: 'idempotency_token', type: 'varchar', length: '50', isNullable: true },
          { name: 'sender_cbe', type: 'varchar', length: '10' },
          { name: 'sender_application_id', type: 'varchar', length: '150' },
          { name: 'recipient_kind', type: 'varchar', length: '10' },
          { name: 'recipient_id', type: 'varchar', length: '11' },
          { name: 'recipient_quality_code', type: 'varchar', length: '125' },
          { name: 'check_ebox_status', type: 'varchar', length: '9' },
          { name: 'meta', type: 'text' },
          { name: 'status', type: 'varchar', length: '7' },
          { name: 'request_fingerprint', type: 'varchar', length: '64' },
          { name: 'accepted_at', type: 'varchar', length: '24' },
          { name: 'updated_at', type: 'varchar', length: '24' },
        ],
        uniques: [
          {
            name: 'UQ_registered_mail_item_idempotency',
            columnNames: ['sender_cbe', 'sender_application_id', 'idempotency_token'],
          },
        ],
      }),
    );

    await queryRunner.createTable(
      new Table({
        name: 'item_file',
        columns: [
          {
            name: 'ticket',
            type: 'varchar',
            length: '13',
            isPrimary: true,
            primaryKeyConstraintName: 'PK_item_file',
          },
          { name: 'position', type: 'integer', isPrimary: true, primaryKeyConstraintName: 'PK_item_file' },
          { name: 'role', type: 'varchar', length: '8' },
          { name: 'title', type: 'varchar', length: '400' },
          { name: 'digest_method', type: 'varchar', length: '7' },
          { name: 'digest_value', type: 'varchar', length: '200' },
          { name: 'download_file_name', type: 'varchar', length: '80' },
          { name: 'mime', type: 'varchar', length: '127', isNullable: true },
          { name: 'document_type', type: 'varchar', length: '80', isNullable: true },
          { name: 'language', type: 'varchar', length: '2', isNullable: true },
          { name: 'size', type: 'integer' },
          { name: 'blob_sha256', type: 'varchar', length: '64' },
        ],
        foreignKeys: [
          {
            name: 'FK_item_file_item',
            columnNames: ['ticket'],
            referencedTableName: 'registered_mail_item',
            referencedColumnNames: ['ticket'],
          },
        ],
      }),
    );

    await queryRunner.createTable(
      new Table({
        name: 'item_status_history',
        columns: [
          {
            name: 'id',
            type: 'integer',
            isPrimary: true,
            isGenerated: true,
            generationStrategy: 'increment',
            primaryKeyConstraintName: 'PK_item_status_history',
          },
          { name: 'ticket', type: 'varchar', length: '13' },
          { name: 'status', type: 'varchar', length: '7' },
          { name: 'event', type: 'varchar', length: '32' },
          { name: 'occurred_at', type: 'varchar', length: '24' },
          { name: 'detail', type: 'text', isNullable: true },
        ],
        indices: [{ name: 'IDX_item_status_history_ticket', columnNames: ['ticket'] }],
        foreignKeys: [
          {
            name: 'FK_item_status_history_item',
            columnNames: ['ticket'],
            referencedTableName: 'registered_mail_item',
            referencedColumnNames: ['ticket'],
          },
        ],
      }),
    );

    await queryRunner.createTable(
      new Table({
        name: 'item_receipt',
        columns: [
          {
            name: 'ticket',
            type: 'varchar',
            length: '13',
            isPrimary: true,
            primaryKeyConstraintName: 'PK_item_receipt',
          },
          { name: 'content_sha256', type: 'varchar', length: '64' },
          { name: 'content_size', type: 'integer' },
          { name: 'signature', type: 'text' },
          { name: 'issued_at', type: 'varchar', length: '24' },
        ],
        foreignKeys: [
          {
            name: 'FK_item_receipt_item',
            columnNames: ['ticket'],
            referencedTableName: 'registered_mail_item',
            referencedColumnNames: ['ticket'],
          },
        ],
      }),
    );
  }

  async down(queryRunner: QueryRunner): Promise<void> {
    await queryRunner.dropTable('item_receipt');
    await queryRunner.dropTable('item_status_history');
    await queryRunner.dropTable('item_file');
    await queryRunner.dropTable('registered_mail_item');
  }
}
