import type { DataSource } from 'typeorm';
import { TemporarilyUnavailableError } from '../errors/faults';
import type { BlobStore } from './blob-store';
import { runSerialized } from './serial-access';
import { toStorageFault } from './storage-errors';

/*
 * The probes behind healthCheck's sanity checks. Each resolves when the resource works and rejects
 * (with a service error for the database) when it does not; the caller measures and reports.
 */

/** The database answers a trivial query through TypeORM. */
export async function checkDatabase(dataSource: DataSource): Promise<void> {
  if (!dataSource.isInitialized) {
    throw new TemporarilyUnavailableError({ cause: new Error('The database is not open') });
  }
  try {
    await runSerialized(dataSource, () => dataSource.query('SELECT 1'));
  } catch (error) {
    throw toStorageFault(error);
  }
}

/** The blob store's directory is writable (a probe file is written, synced and removed). */
export async function checkBlobStore(blobStore: BlobStore): Promise<void> {
  await blobStore.check();
}
