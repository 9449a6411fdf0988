import { Table, type MigrationInterface, type QueryRunner } from 'typeorm';

/*
 * Delivery into the e-Box: the outbox, the publications and the proofs issued after the receipt (see
 * the entities of the same names). Same conventions as the initial schema: portable types, literal
 * names; the one SQL statement is plain INSERT ... SELECT, the same on SQLite and PostgreSQL.
 */

const TICKET = { name: 'ticket', type: 'varchar', length: '13' } as const;
const TIME = { type: 'varchar', length: '24' } as const;

function itemForeignKey(table: string) {
  return {
    name: `FK_${table}_item`,
    columnNames: ['ticket'],
    referencedTableName: 'registered_mail_item',
    referencedColumnNames: ['ticket'],
  };
}

/**
 * Creates `outbox_entry`, `item_publication` and `item_proof`, and puts every item still PENDING into
 * the outbox, so that items accepted before the upgrade get delivered too.
 */
export class Delivery1796000000000 implements MigrationInterface {
  /** Explicit, so that the recorded name survives minification. */
  readonly name = 'Delivery1796000000000';

  async up(queryRunner: QueryRunner): Promise<void> {
    await queryRunner.createTable(
      new Table({
        name: 'outbox_entry',
        columns: [
          { ...TICKET, isPrimary: true, primaryKeyConstraintName: 'PK_outbox_entry' },
          { name: 'accepted_at', ...TIME },
          { name: 'next_attempt_at', ...TIME },
          { name: 'attempts', type: 'integer' },
          { name: 'lease_owner', type: 'varchar', length: '200', isNullable: true },
          { name: 'lease_expires_at', ...TIME, isNullable: true },
          { name: 'last_error', type: 'text', isNullable: true },
        ],
        indices: [
          { name: 'IDX_outbox_entry_next_attempt_at', columnNames: ['next_attempt_at'] },
          { name: 'IDX_outbox_entry_accepted_at', columnNames: ['accepted_at', 'ticket'] },
        ],
        foreignKeys: [itemForeignKey('outbox_entry')],
      }),
    );

    await queryRunner.createTable(
      new Table({
        name: 'item_publication',
        columns: [
          { ...TICKET, isPrimary: true, primaryKeyConstraintName: 'PK_item_publication' },
          { name: 'ebox_message_id', type: 'varchar', length: '150' },
          { name: 'published_at', ...TIME },
          { name: 'no_digital_user', type: 'boolean' },
          { name: 'consulted_at', ...TIME, isNullable: true },
          { name: 'consultation_checked_at', ...TIME, isNullable: true },
        ],
        indices: [
          { name: 'IDX_item_publication_awaiting', columnNames: ['consulted_at', 'consultation_checked_at'] },
        ],
        foreignKeys: [itemForeignKey('item_publication')],
      }),
    );

    await queryRunner.createTable(
      new Table({
        name: 'item_proof',
        columns: [
          { ...TICKET, isPrimary: true, primaryKeyConstraintName: 'PK_item_proof' },
          {
            name: 'kind',
            type: 'varchar',
            length: '12',
            isPrimary: true,
            primaryKeyConstraintName: 'PK_item_proof',
          },
          { name: 'evidence_id', type: 'varchar', length: '64' },
          { name: 'content_sha256', type: 'varchar', length: '64' },
          { name: 'content_size', type: 'integer' },
          { name: 'signature', type: 'text' },
          { name: 'issued_at', ...TIME },
        ],
        foreignKeys: [itemForeignKey('item_proof')],
      }),
    );

    // Items accepted before this migration: due at once, in acceptance order like every other entry.
    await queryRunner.query(
      'INSERT INTO outbox_entry (ticket, accepted_at, next_attempt_at, attempts) ' +
        "SELECT ticket, accepted_at, accepted_at, 0 FROM registered_mail_item WHERE status = 'PENDING'",
    );
  }

  async down(queryRunner: QueryRunner): Promise<void> {
    await queryRunner.dropTable('item_proof');
    await queryRunner.dropTable('item_publication');
    await queryRunner.dropTable('outbox_entry');
  }
}
