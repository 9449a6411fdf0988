import { Table, type MigrationInterface, type QueryRunner } from 'typeorm';

/*
 * The replay cache of the WS-Security policy (see `src/storage/entities/replay-cache-entry.entity.ts`).
 * Same conventions as the initial schema: QueryRunner API only, portable types, literal names.
 */

/** Creates the `replay_cache` table and the index the purge uses. */
export class ReplayCache1795900000000 implements MigrationInterface {
  /** Explicit, so that the recorded name survives minification. */
  readonly name = 'ReplayCache1795900000000';

  async up(queryRunner: QueryRunner): Promise<void> {
    await queryRunner.createTable(
      new Table({
        name: 'replay_cache',
        columns: [
          {
            name: 'message_key',
            type: 'varchar',
            length: '64',
            isPrimary: true,
            primaryKeyConstraintName: 'PK_replay_cache',
          },
          { name: 'expires_at', type: 'varchar', length: '24' },
          { name: 'seen_at', type: 'varchar', length: '24' },
        ],
        indices: [{ name: 'IDX_replay_cache_expires_at', columnNames: ['expires_at'] }],
      }),
    );
  }

  async down(queryRunner: QueryRunner): Promise<void> {
    await queryRunner.dropTable('replay_cache');
  }
}
