import { createHash, randomBytes } from 'node:crypto';
import type { DataSource } from 'typeorm';
import type { Clock } from '../clock/clock';
import { EboxTokenClient } from '../delivery/ebox-token-client';
import type { EboxClientSettings } from '../delivery/ebox-client-settings';
import type { SanityCheck } from '../domain/health-check-service';
import type { DocumentSigner } from '../evidence/document-signer';
import type { BlobStore } from '../storage/blob-store';
import { checkBlobStore, checkDatabase } from '../storage/health';
import type { TimeStampAuthority } from '../timestamping/time-stamp-authority';
import { daysLeft } from './key-material';

/** Days of validity under which the signing certificate's check says WARNING. */
const CERTIFICATE_WARNING_DAYS = 30;

/** The longest the e-Box check waits (RM_EBOX_TIMEOUT_MS when shorter): a probe must not hang. */
const EBOX_CHECK_TIMEOUT_MS = 10_000;

/**
 * The sanity checks of healthCheck DEFAULT and DEEP (and of `GET /health`, which runs DEEP's): the
 * database, the blob store and the signer by default; DEEP adds the TSA (a real token for a random
 * imprint: an external TSA is asked for one at every DEEP check) and the e-Box (a fresh OAuth2 token: it
 * answers and accepts our credentials).
 */
export function createSanityChecks(deps: {
  dataSource: DataSource;
  blobs: BlobStore;
  signer: DocumentSigner;
  clock: Clock;
  /** The TSA of the proofs, and whether it is the embedded one or RM_TSA_URL's. */
  timeStamping: { authority: TimeStampAuthority; external: boolean };
  /** How the e-Box is reached (RM_EBOX_*). */
  ebox: EboxClientSettings;
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
    {
      id: 'EPOST-004',
      description: 'Check the time-stamp authority',
      resource: { name: 'tsa', type: deps.timeStamping.external ? 'WS' : 'OTHER' },
      scope: 'DEEP',
      async run() {
        const digest = createHash('sha256').update(randomBytes(32)).digest();
        await deps.timeStamping.authority.timestamp({ hashAlgorithm: 'SHA-256', digest });
        return { level: 'OK' };
      },
    },
    {
      id: 'EPOST-005',
      description: 'Check the e-Box',
      resource: { name: 'ebox', type: 'WS' },
      scope: 'DEEP',
      async run() {
        // A client of its own: the delivery's cached token would answer without asking the e-Box.
        const settings = { ...deps.ebox, timeoutMs: Math.min(deps.ebox.timeoutMs, EBOX_CHECK_TIMEOUT_MS) };
        await new EboxTokenClient(settings, deps.clock).token();
        return { level: 'OK' };
      },
    },
  ];
}
