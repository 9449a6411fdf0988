import fs from 'node:fs';
import path from 'node:path';
import type { DataSource } from 'typeorm';
import { systemClock, type Clock } from '../../src/clock/clock';
import { loadConfig } from '../../src/config/config';
import { BlobStore } from '../../src/storage/blob-store';
import { ContentStore } from '../../src/storage/content-store';
import { ContentChunkEntity } from '../../src/storage/entities';
import { inMemoryStagingLimits, StagingArea } from '../../src/storage/staging-area';

/** RM_DATABASE_CONTENT_MAX_BYTES as the service has it by default. */
const DATABASE_CONTENT_MAX_BYTES = loadConfig({}).databaseContentMaxBytes;

/**
 * The service's default content store over `dataSource` and `<dataDir>/blobs`: small content in the
 * database, the rest in files. Also what tests read stored content (receipts, proofs, documents) with.
 */
export function defaultContentStore(dataSource: DataSource, dataDir: string): ContentStore {
  return new ContentStore(dataSource, new BlobStore(dataDir), DATABASE_CONTENT_MAX_BYTES);
}

/** The service's default staging area: small content in memory, the rest in files. */
export function defaultStaging(dataDir: string, clock: Clock = systemClock): StagingArea {
  return new StagingArea(dataDir, clock, inMemoryStagingLimits(DATABASE_CONTENT_MAX_BYTES));
}

/**
 * The address (hex SHA-256) of every stored content, wherever it is: rows of `content_chunk` and files
 * under `<dataDir>/blobs` (temporary files excluded). Sorted.
 */
export async function listStoredContents(dataSource: DataSource, dataDir: string): Promise<string[]> {
  const rows = await dataSource.getRepository(ContentChunkEntity).find({ select: { sha256: true } });
  const root = path.join(dataDir, 'blobs');
  const files = fs.existsSync(root)
    ? fs
        .readdirSync(root, { recursive: true, withFileTypes: true })
        .filter((entry) => entry.isFile() && !entry.parentPath.includes('.incoming'))
        .map((entry) => entry.name)
    : [];
  return [...new Set([...rows.map((row) => row.sha256), ...files])].sort();
}
