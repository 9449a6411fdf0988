import { Column, Entity, ForeignKey, Index, PrimaryColumn } from 'typeorm';
import { isoTimeTransformer, TIME_COLUMN_LENGTH } from '../time-column';
import { RegisteredMailItemEntity } from './registered-mail-item.entity';

/**
 * An accepted item still to be published into the e-Box (see `src/domain/outbox.ts`). Inserted with the
 * item, deleted in the transaction that records its final state. A worker holds an entry while
 * `leaseOwner` is set and `leaseExpiresAt` has not passed; claims and every later write compare the
 * owner in their WHERE clause, so of several workers exactly one gets its writes through.
 */
@Entity({ name: 'outbox_entry' })
@Index('IDX_outbox_entry_next_attempt_at', ['nextAttemptAt'])
@Index('IDX_outbox_entry_accepted_at', ['acceptedAt', 'ticket'])
export class OutboxEntryEntity {
  @PrimaryColumn({ name: 'ticket', type: 'varchar', length: 13, primaryKeyConstraintName: 'PK_outbox_entry' })
  @ForeignKey(() => RegisteredMailItemEntity, 'ticket', { name: 'FK_outbox_entry_item' })
  ticket!: string;

  /** The item's acceptance time: entries are claimed in this order. */
  @Column({
    name: 'accepted_at',
    type: 'varchar',
    length: TIME_COLUMN_LENGTH,
    transformer: isoTimeTransformer,
  })
  acceptedAt!: Date;

  /** Not claimable before this time (the acceptance time, then the backoff after a failed attempt). */
  @Column({
    name: 'next_attempt_at',
    type: 'varchar',
    length: TIME_COLUMN_LENGTH,
    transformer: isoTimeTransformer,
  })
  nextAttemptAt!: Date;

  /** Failed attempts so far. */
  @Column({ name: 'attempts', type: 'integer' })
  attempts!: number;

  /** The worker holding the entry, or NULL. */
  @Column({ name: 'lease_owner', type: 'varchar', length: 200, nullable: true })
  leaseOwner!: string | null;

  /** Until when {@link leaseOwner} holds the entry; afterwards another worker may take it over. */
  @Column({
    name: 'lease_expires_at',
    type: 'varchar',
    length: TIME_COLUMN_LENGTH,
    transformer: isoTimeTransformer,
    nullable: true,
  })
  leaseExpiresAt!: Date | null;

  /** Why the last attempt failed (for operators; never document content). */
  @Column({ name: 'last_error', type: 'text', nullable: true })
  lastError!: string | null;
}
