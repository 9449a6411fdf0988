import { Column, Entity, ForeignKey, PrimaryColumn } from 'typeorm';
import { isoTimeTransformer, TIME_COLUMN_LENGTH } from '../time-column';
import { RegisteredMailItemEntity } from './registered-mail-item.entity';

/**
 * The receipt issued when the item was accepted. Its bytes (`Receipt.xml`) live in the blob store; a
 * retry answers exactly those bytes with exactly this signature.
 */
@Entity({ name: 'item_receipt' })
export class ItemReceiptEntity {
  @PrimaryColumn({ name: 'ticket', type: 'varchar', length: 13, primaryKeyConstraintName: 'PK_item_receipt' })
  @ForeignKey(() => RegisteredMailItemEntity, 'ticket', { name: 'FK_item_receipt_item' })
  ticket!: string;

  /** Hex SHA-256 of the receipt content: its address in the blob store. */
  @Column({ name: 'content_sha256', type: 'varchar', length: 64 })
  contentSha256!: string;

  @Column({ name: 'content_size', type: 'integer' })
  contentSize!: number;

  /** Base64 DER of the detached CMS SignedData over the content. */
  @Column({ name: 'signature', type: 'text' })
  signature!: string;

  @Column({ name: 'issued_at', type: 'varchar', length: TIME_COLUMN_LENGTH, transformer: isoTimeTransformer })
  issuedAt!: Date;
}
