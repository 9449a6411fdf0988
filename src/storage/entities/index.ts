import { ItemFileEntity } from './item-file.entity';
import { ItemReceiptEntity } from './item-receipt.entity';
import { ItemStatusHistoryEntity } from './item-status-history.entity';
import { RegisteredMailItemEntity } from './registered-mail-item.entity';
import { ReplayCacheEntryEntity } from './replay-cache-entry.entity';

export {
  ItemFileEntity,
  ItemReceiptEntity,
  ItemStatusHistoryEntity,
  RegisteredMailItemEntity,
  ReplayCacheEntryEntity,
};
export type { ItemFileRole } from './item-file.entity';
export type { RecipientKind } from './registered-mail-item.entity';

/** Every entity class, passed to the DataSource as classes (no globs: bundling and ts-jest stay simple). */
export const STORAGE_ENTITIES = [
  RegisteredMailItemEntity,
  ItemFileEntity,
  ItemStatusHistoryEntity,
  ItemReceiptEntity,
  ReplayCacheEntryEntity,
] as const;
