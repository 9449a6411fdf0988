import { ItemFileEntity } from './item-file.entity';
import { ItemProofEntity } from './item-proof.entity';
import { ItemPublicationEntity } from './item-publication.entity';
import { ItemReceiptEntity } from './item-receipt.entity';
import { ItemStatusHistoryEntity } from './item-status-history.entity';
import { OutboxEntryEntity } from './outbox-entry.entity';
import { RegisteredMailItemEntity } from './registered-mail-item.entity';
import { ReplayCacheEntryEntity } from './replay-cache-entry.entity';

export {
  ItemFileEntity,
  ItemProofEntity,
  ItemPublicationEntity,
  ItemReceiptEntity,
  ItemStatusHistoryEntity,
  OutboxEntryEntity,
  RegisteredMailItemEntity,
  ReplayCacheEntryEntity,
};
export { CONTENT_CHUNK_BYTES, ContentChunkEntity, contentChunkSchema } from './content-chunk.schema';
export type { ItemFileRole } from './item-file.entity';
export type { NewItemStatusHistoryRow } from './item-status-history.entity';
export type { RecipientKind } from './registered-mail-item.entity';

/** Every entity class, passed to the DataSource as classes (no globs: bundling and ts-jest stay simple). */
export const STORAGE_ENTITIES = [
  RegisteredMailItemEntity,
  ItemFileEntity,
  ItemStatusHistoryEntity,
  ItemReceiptEntity,
  ReplayCacheEntryEntity,
  OutboxEntryEntity,
  ItemPublicationEntity,
  ItemProofEntity,
] as const;
