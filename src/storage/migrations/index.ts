import { InitialSchema1795800000000 } from './1795800000000-initial-schema';
import { ReplayCache1795900000000 } from './1795900000000-replay-cache';
import { Delivery1796000000000 } from './1796000000000-delivery';
import { ContentChunks1796100000000 } from './1796100000000-content-chunks';

/** Every migration class in the order they apply; passed as classes, never as a glob. */
export const STORAGE_MIGRATIONS = [
  InitialSchema1795800000000,
  ReplayCache1795900000000,
  Delivery1796000000000,
  ContentChunks1796100000000,
] as const;
