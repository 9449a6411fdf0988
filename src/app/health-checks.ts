import type { DataSource } from 'typeorm';
import type { Clock } from '../clock/clock';
import type { SanityCheck } from '../domain/health-check-service';
import type { DocumentSigner } from '../evidence/document-signer';
import type { BlobStore } from '../storage/blob-store';
import { checkBlobStore, checkDatabase } from '../storage/health';
import { daysLeft } from './key-material';

/** Days of validity under which the signing certificate's check says WARNING. */
const CERTIFICATE_WARNING_DAYS = 30;

/** The sanity checks of healthCheck DEFAULT and DEEP. */
export function createSanityChecks(deps: {
  dataSource: DataSource;
  blobs: BlobStore;
  signer: DocumentSigner;
  clock: Clock;
}): SanityCheck[] {
  return [
    {
      id: 'EPOST-001',
      description: 'Check RegisteredMail database',
      resource: { name: 'database', type: 'DB' },
      scope: 'DEFAULT',
      async run() {
        await checkDatabase(deps.dataSource);
        return { level: 'OK' };
      },
    },
    {
      id: 'EPOST-002',
      description: 'Check the document blob store',
      resource: { name: 'blob-store', type: 'FILESYSTEM' },
      scope: 'DEFAULT',
      async run() {
        await checkBlobStore(deps.blobs);
        return { level: 'OK' };
      },
    },
    {
      id: 'EPOST-003',
      description: 'Check the receipt signing key and certificate',
      resource: { name: 'signer', type: 'CERTIFICATE' },
      scope: 'DEFAULT',
      async run() {
        await deps.signer.sign(Buffer.from('health check'));
        const days = daysLeft(deps.signer.certificate, deps.clock.now());
        if (days < 0) return { level: 'CRITICAL', message: 'the signing certificate has expired' };
        const message = `the signing certificate expires in ${days} days`;
        return { level: days < CERTIFICATE_WARNING_DAYS ? 'WARNING' : 'OK', message };
      },
    },
  ];
}
