import { Column, Entity, ForeignKey, PrimaryColumn } from 'typeorm';
import type { ProofKind } from '../../domain/model';
import { isoTimeTransformer, TIME_COLUMN_LENGTH } from '../time-column';
import { RegisteredMailItemEntity } from './registered-mail-item.entity';

/**
 * A proof issued after the receipt (`DISPATCH`, `CONSULTATION`). The key (ticket, kind) makes a second
 * proof of the same kind for an item impossible. The evidence bytes live in the blob store.
 */
@Entity({ name: 'item_proof' })
export class ItemProofEntity {
  @PrimaryColumn({ name: 'ticket', type: 'varchar', length: 13, primaryKeyConstraintName: 'PK_item_proof' })
  @ForeignKey(() => RegisteredMailItemEntity, 'ticket', { name: 'FK_item_proof_item' })
  ticket!: string;

  @PrimaryColumn({ name: 'kind', type: 'varchar', length: 12, primaryKeyConstraintName: 'PK_item_proof' })
  kind!: ProofKind;

  /** The evidence's `EvidenceIdentifier`. */
  @Column({ name: 'evidence_id', type: 'varchar', length: 64 })
  evidenceId!: string;

  /** Hex SHA-256 of the evidence content: its address in the blob store. */
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
