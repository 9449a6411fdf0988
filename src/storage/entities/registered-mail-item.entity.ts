import { Column, Entity, PrimaryColumn, Unique } from 'typeorm';
import type { CheckEboxStatus, ItemStatus } from '../../domain/model';
import { isoTimeTransformer, TIME_COLUMN_LENGTH } from '../time-column';

/** How the recipient is identified: a citizen by INSS, an enterprise by CBE. */
export type RecipientKind = 'citizen' | 'enterprise';

/**
 * One registered mail item as accepted from a sender. The row is written once, in the same transaction
 * as its files, its first status and its receipt; later only `status` and `updatedAt` change.
 *
 * The unique key `(senderCbe, senderApplicationId, idempotencyToken)` is what makes retries safe under
 * concurrency: of two simultaneous requests with the same Token only one insert can win. An empty Token
 * is stored as NULL there, and NULLs are distinct in SQLite and PostgreSQL, so empty Tokens never collide.
 */
@Entity({ name: 'registered_mail_item' })
@Unique('UQ_registered_mail_item_idempotency', ['senderCbe', 'senderApplicationId', 'idempotencyToken'])
export class RegisteredMailItemEntity {
  /** 13 characters of `[0-9A-HJ-NP-Z]`; unique across processes and nodes because it is the key. */
  @PrimaryColumn({
    name: 'ticket',
    type: 'varchar',
    length: 13,
    primaryKeyConstraintName: 'PK_registered_mail_item',
  })
  ticket!: string;

  /** The sender's Token as sent (may be empty). */
  @Column({ name: 'token', type: 'varchar', length: 50 })
  token!: string;

  /** The Token when non-empty, else NULL: the retry key together with the sender. */
  @Column({ name: 'idempotency_token', type: 'varchar', length: 50, nullable: true })
  idempotencyToken!: string | null;

  /** The sender's CBE (10 digits) from its certificate. */
  @Column({ name: 'sender_cbe', type: 'varchar', length: 10 })
  senderCbe!: string;

  /** The sender's application id (the CN of its certificate). */
  @Column({ name: 'sender_application_id', type: 'varchar', length: 150 })
  senderApplicationId!: string;

  @Column({ name: 'recipient_kind', type: 'varchar', length: 10 })
  recipientKind!: RecipientKind;

  /** INSS (11 digits) for a citizen, CBE (10 digits) for an enterprise. */
  @Column({ name: 'recipient_id', type: 'varchar', length: 11 })
  recipientId!: string;

  @Column({ name: 'recipient_quality_code', type: 'varchar', length: 125 })
  recipientQualityCode!: string;

  @Column({ name: 'check_ebox_status', type: 'varchar', length: 9 })
  checkEboxStatus!: CheckEboxStatus;

  /** The Meta elements as JSON: `[{ "type": ..., "values": [...] }]`. */
  @Column({ name: 'meta', type: 'text' })
  meta!: string;

  @Column({ name: 'status', type: 'varchar', length: 7 })
  status!: ItemStatus;

  /**
   * Hex SHA-256 over the recipient and the SHA-256 of every attachment, in order: a retry with the same
   * Token must carry the same fingerprint (see `src/domain/request-fingerprint.ts`).
   */
  @Column({ name: 'request_fingerprint', type: 'varchar', length: 64 })
  requestFingerprint!: string;

  @Column({
    name: 'accepted_at',
    type: 'varchar',
    length: TIME_COLUMN_LENGTH,
    transformer: isoTimeTransformer,
  })
  acceptedAt!: Date;

  @Column({
    name: 'updated_at',
    type: 'varchar',
    length: TIME_COLUMN_LENGTH,
    transformer: isoTimeTransformer,
  })
  updatedAt!: Date;
}
