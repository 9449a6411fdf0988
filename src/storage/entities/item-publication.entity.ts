import { Column, Entity, ForeignKey, Index, PrimaryColumn } from 'typeorm';
import { isoTimeTransformer, TIME_COLUMN_LENGTH } from '../time-column';
import { RegisteredMailItemEntity } from './registered-mail-item.entity';

/**
 * Where and when an item was published into the e-Box (written when it becomes SENT), and what is known
 * of its consultation by the recipient.
 */
@Entity({ name: 'item_publication' })
@Index('IDX_item_publication_awaiting', ['consultedAt', 'consultationCheckedAt'])
export class ItemPublicationEntity {
  @PrimaryColumn({
    name: 'ticket',
    type: 'varchar',
    length: 13,
    primaryKeyConstraintName: 'PK_item_publication',
  })
  @ForeignKey(() => RegisteredMailItemEntity, 'ticket', { name: 'FK_item_publication_item' })
  ticket!: string;

  /** The e-Box's id of the message. */
  @Column({ name: 'ebox_message_id', type: 'varchar', length: 150 })
  eboxMessageId!: string;

  /** When the e-Box accepted the message. */
  @Column({
    name: 'published_at',
    type: 'varchar',
    length: TIME_COLUMN_LENGTH,
    transformer: isoTimeTransformer,
  })
  publishedAt!: Date;

  /** The e-Box answered `NO_DIGITAL_USER`: the recipient never opened an e-Box. */
  @Column({ name: 'no_digital_user', type: 'boolean' })
  noDigitalUser!: boolean;

  /** When the recipient opened the message (the e-Box's time); NULL until seen. */
  @Column({
    name: 'consulted_at',
    type: 'varchar',
    length: TIME_COLUMN_LENGTH,
    transformer: isoTimeTransformer,
    nullable: true,
  })
  consultedAt!: Date | null;

  /** When a poller last asked the e-Box about the consultation; NULL when never. */
  @Column({
    name: 'consultation_checked_at',
    type: 'varchar',
    length: TIME_COLUMN_LENGTH,
    transformer: isoTimeTransformer,
    nullable: true,
  })
  consultationCheckedAt!: Date | null;
}
