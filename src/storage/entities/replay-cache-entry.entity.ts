import { Column, Entity, Index, PrimaryColumn } from 'typeorm';
import { isoTimeTransformer, TIME_COLUMN_LENGTH } from '../time-column';

/**
 * A message the WS-Security policy accepted, remembered until its Timestamp makes it unacceptable anyway
 * (see `src/policy/replay-guard.ts`). The key is the primary key, so of two processes inserting the same
 * message only one insert succeeds: the other sees a unique violation, i.e. a replay.
 */
@Entity({ name: 'replay_cache' })
@Index('IDX_replay_cache_expires_at', ['expiresAt'])
export class ReplayCacheEntryEntity {
  /** Hex SHA-256 of the message's Timestamp Created and SignatureValue (`replayKey`). */
  @PrimaryColumn({
    name: 'message_key',
    type: 'varchar',
    length: 64,
    primaryKeyConstraintName: 'PK_replay_cache',
  })
  messageKey!: string;

  /** When the entry stops counting; purged some time after. */
  @Column({
    name: 'expires_at',
    type: 'varchar',
    length: TIME_COLUMN_LENGTH,
    transformer: isoTimeTransformer,
  })
  expiresAt!: Date;

  /** When the message was accepted (for operators). */
  @Column({ name: 'seen_at', type: 'varchar', length: TIME_COLUMN_LENGTH, transformer: isoTimeTransformer })
  seenAt!: Date;
}
