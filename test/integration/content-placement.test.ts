import { createHash, randomBytes } from 'node:crypto';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { CONTENT_CHUNK_BYTES, ContentChunkEntity } from '../../src/storage/entities';
import { startTestService, type TestService } from '../support/service-fixture';
import { ticketOfSendAnswer } from '../support/signed-files';
import { partsOf, samplePdf, sendDocumentEnvelope, type SendDocumentSpec } from '../support/v1-requests';

/*
 * Where the service keeps a document's bytes: RM_DATABASE_CONTENT_MAX_BYTES decides between the
 * database and the blob directory, RM_BLOB_DIR names that directory (several nodes may share one).
 * Delivery reads the bytes back from wherever they are: the e-Box receives exactly the bytes sent.
 */

const sha256 = (bytes: Buffer) => createHash('sha256').update(bytes).digest('hex');

function spec(token: string, document: Buffer): SendDocumentSpec {
  return {
    token,
    recipient: { kind: 'citizen', inss: '85073003328' },
    document: { content: document, contentId: 'document@test' },
    annexes: [{ content: Buffer.from(`small annex of ${token}`), contentId: 'annex@test' }],
  };
}

function blobFilesUnder(root: string): string[] {
  if (!fs.existsSync(root)) return [];
  return fs
    .readdirSync(root, { recursive: true, withFileTypes: true })
    .filter((entry) => entry.isFile() && !entry.parentPath.includes('.incoming'))
    .map((entry) => entry.name);
}

async function sendAndDeliver(service: TestService, item: SendDocumentSpec): Promise<string> {
  const answer = await service.postSwa(service.sign(sendDocumentEnvelope(item)), partsOf(item));
  const ticket = await ticketOfSendAnswer(answer);
  await service.service.delivery.worker.drain();
  const [message] = service.service
    .eboxSimulator!.messages()
    .filter((each) => each.idempotencyKey === ticket);
  expect(message.attachments.map((attachment) => attachment.sha256)).toEqual([
    sha256(item.document.content),
    sha256(item.annexes![0].content),
  ]);
  return ticket;
}

async function chunkCount(service: TestService, content: Buffer): Promise<number> {
  return service.service.dataSource.manager.count(ContentChunkEntity, { where: { sha256: sha256(content) } });
}

describe('where content is kept', () => {
  let sharedBlobs: string;
  beforeAll(() => {
    sharedBlobs = fs.mkdtempSync(path.join(os.tmpdir(), 'rm-shared-blobs-'));
  });
  afterAll(() => fs.rmSync(sharedBlobs, { recursive: true, force: true }));

  it('RM_BLOB_DIR: a document above the database limit goes to that directory, small content to the database', async () => {
    const service = await startTestService({ RM_DELIVERY_PAUSED: 'true', RM_BLOB_DIR: sharedBlobs });
    try {
      const large = Buffer.concat([samplePdf('large'), randomBytes(100 * 1024)]);
      const item = spec('T-shared-dir', large);
      await sendAndDeliver(service, item);

      expect(blobFilesUnder(sharedBlobs)).toEqual([sha256(large)]);
      expect(blobFilesUnder(path.join(service.dataDir, 'blobs'))).toEqual([]);
      expect(await chunkCount(service, large)).toBe(0);
      expect(await chunkCount(service, item.annexes![0].content)).toBe(1);
    } finally {
      await service.close();
    }
  });

  it('a database limit above the request size keeps every content in the database, in pieces', async () => {
    const service = await startTestService({
      RM_DELIVERY_PAUSED: 'true',
      RM_DATABASE_CONTENT_MAX_BYTES: String(1024 * 1024 * 1024),
    });
    try {
      // Larger than what a request keeps in memory: staged as a file, then read into the database.
      const large = Buffer.concat([samplePdf('in the database'), randomBytes(CONTENT_CHUNK_BYTES + 1000)]);
      await sendAndDeliver(service, spec('T-all-in-database', large));

      expect(await chunkCount(service, large)).toBe(2);
      expect(blobFilesUnder(path.join(service.dataDir, 'blobs'))).toEqual([]);
      expect(fs.readdirSync(path.join(service.dataDir, 'staging'))).toEqual([]);
    } finally {
      await service.close();
    }
  });
});
