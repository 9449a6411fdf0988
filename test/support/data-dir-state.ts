import fs from 'node:fs/promises';
import path from 'node:path';
import type { TestService } from './service-fixture';
import { listStoredContents } from './stored-content';

/** What a running service has stored: its contents, the files of its staging area, and its items. */
export interface StoredState {
  /** The address of every stored content (database rows and files under `<dataDir>/blobs`), sorted. */
  contents: string[];
  /** Paths of every entry (file or directory) under `<dataDir>/staging`, relative to it, sorted. */
  staging: string[];
  /** Rows of the item table (one per ticket issued). */
  items: number;
}

async function listTree(root: string, filesOnly: boolean): Promise<string[]> {
  const entries = await fs.readdir(root, { recursive: true, withFileTypes: true }).catch((error: unknown) => {
    if ((error as NodeJS.ErrnoException).code === 'ENOENT') return [];
    throw error;
  });
  return entries
    .filter((entry) => !filesOnly || entry.isFile())
    .map((entry) => path.relative(root, path.join(entry.parentPath, entry.name)))
    .sort();
}

/**
 * Reads the stored contents, the staging area and the item count of a test service, once delivery has
 * published every due item (its proofs are contents too), so that two readings differ only by requests.
 */
export async function storedState(fixture: TestService): Promise<StoredState> {
  await fixture.service.delivery.worker.drain();
  const rows = (await fixture.service.dataSource.query('SELECT COUNT(*) AS n FROM registered_mail_item')) as {
    n: number;
  }[];
  return {
    contents: await listStoredContents(fixture.service.dataSource, fixture.dataDir),
    staging: await listTree(path.join(fixture.dataDir, 'staging'), false),
    items: Number(rows[0].n),
  };
}
