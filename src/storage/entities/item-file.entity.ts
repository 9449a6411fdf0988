import { Column, Entity, ForeignKey, PrimaryColumn } from 'typeorm';
import type { DigestMethod, Language } from '../../domain/model';
import { RegisteredMailItemEntity } from './registered-mail-item.entity';

/** Whether a file is the item's main document or one of its annexes. */
export type ItemFileRole = 'DOCUMENT' | 'ANNEX';

/**
 * A file of an item (the document at position 0, annexes from 1 in request order): the sender's
 * description and the address of its bytes in the blob store. The bytes never enter the database.
 */
@Entity({ name: 'item_file' })
export class ItemFileEntity {
  @PrimaryColumn({ name: 'ticket', type: 'varchar', length: 13, primaryKeyConstraintName: 'PK_item_file' })
  @ForeignKey(() => RegisteredMailItemEntity, 'ticket', { name: 'FK_item_file_item' })
  ticket!: string;

  /** 0 for the document, 1..n for the annexes in the order of the request. */
  @PrimaryColumn({ name: 'position', type: 'integer', primaryKeyConstraintName: 'PK_item_file' })
  position!: number;

  @Column({ name: 'role', type: 'varchar', length: 8 })
  role!: ItemFileRole;

  @Column({ name: 'title', type: 'varchar', length: 400 })
  title!: string;

  /** The declared digest method (never SHA-1: refused before anything is stored). */
  @Column({ name: 'digest_method', type: 'varchar', length: 7 })
  digestMethod!: DigestMethod;

  /** The declared digest value, base64 (it matched the content when the item was accepted). */
  @Column({ name: 'digest_value', type: 'varchar', length: 200 })
  digestValue!: string;

  @Column({ name: 'download_file_name', type: 'varchar', length: 80 })
  downloadFileName!: string;

  @Column({ name: 'mime', type: 'varchar', length: 127, nullable: true })
  mime!: string | null;

  /** The document type (e.g. `EDER501`); annexes have none. */
  @Column({ name: 'document_type', type: 'varchar', length: 80, nullable: true })
  documentType!: string | null;

  @Column({ name: 'language', type: 'varchar', length: 2, nullable: true })
  language!: Language | null;

  /** Size in bytes (bounded by the request size limit, far below the 2 GiB of `integer`). */
  @Column({ name: 'size', type: 'integer' })
  size!: number;

  /** Hex SHA-256 of the content: its address in the blob store. */
  @Column({ name: 'blob_sha256', type: 'varchar', length: 64 })
  blobSha256!: string;
}
