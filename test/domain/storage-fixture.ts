/*
 * Real storage for domain tests: a temp data directory, a migrated database (the SQLite file in it, or
 * its own PostgreSQL database in the "postgres" jest project: see test/support/test-database.ts), the
 * blob store, the staging area, and a deterministic in-test receipt issuer (the real one lives in
 * src/evidence).
 */
import { createHash } from 'node:crypto';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { Readable } from 'node:stream';
import type { DataSource } from 'typeorm';
import { ManualClock, type Clock } from '../../src/clock/clock';
import type { ReceiptFacts, ReceiptIssuer } from '../../src/domain/receipt-issuer';
import type {
  DigestMethod,
  IssuedReceipt,
  Recipient,
  Sender,
  SendDocumentCommand,
  StagedContent,
} from '../../src/domain/model';
import { SendDocumentService, type SendDocumentDependencies } from '../../src/domain/send-document';
import { BlobStore } from '../../src/storage/blob-store';
import {
  ItemFileEntity,
  ItemReceiptEntity,
  ItemStatusHistoryEntity,
  RegisteredMailItemEntity,
} from '../../src/storage/entities';
import type { StagingArea, StagingSession } from '../../src/storage/staging-area';
import type { ContentStore } from '../../src/storage/content-store';
import { TypeormItemStore } from '../../src/storage/typeorm-item-store';
import { defaultContentStore, defaultStaging, listStoredContents } from '../support/stored-content';
import { openTestDatabase, removeTestDataDir } from '../support/test-database';

export { defaultContentStore, defaultStaging, listStoredContents };

export const SENDER: Sender = { cbe: '0861023666', applicationId: 'eBox-sender-app' };
export const OTHER_SENDER: Sender = { cbe: '0206731645', applicationId: 'eBox-sender-app' };
export const CITIZEN: Recipient = { kind: 'citizen', inss: '85073003328', qualityCode: 'CITIZEN' };
export const ENTERPRISE: Recipient = { kind: 'enterprise', cbe: '0406798006', qualityCode: 'QUAL_EMP_NOSS' };

/** Deterministic receipts: the bytes name the ticket, the token and the call number. */
export class FakeReceiptIssuer implements ReceiptIssuer {
  calls = 0;

  constructor(private readonly clock: Clock) {}

  async issue(facts: ReceiptFacts): Promise<IssuedReceipt> {
    this.calls += 1;
    const content = Buffer.from(
      `<ReceiptContent><Ticket>${facts.ticket}</Ticket><Token>${facts.token}</Token>` +
        `<Call>${this.calls}</Call></ReceiptContent>`,
    );
    return {
      ticket: facts.ticket,
      token: facts.token,
      content,
      contentSha256: createHash('sha256').update(content).digest(),
      signature: Buffer.from(`signature-${this.calls}-${facts.ticket}`),
      issuedAt: this.clock.now(),
    };
  }
}

export function digestOf(method: DigestMethod, bytes: Buffer): { method: DigestMethod; value: Buffer } {
  const algorithm = method === 'SHA-1' ? 'sha1' : method === 'SHA-256' ? 'sha256' : 'sha512';
  return { method, value: createHash(algorithm).update(bytes).digest() };
}

/** A command whose digests describe `documentBytes` and `annexBytes` with the given methods. */
export function commandFor(options: {
  token: string;
  recipient?: Recipient;
  documentBytes: Buffer;
  annexBytes?: Buffer[];
  documentMethod?: DigestMethod;
  annexMethod?: DigestMethod;
}): SendDocumentCommand {
  return {
    token: options.token,
    recipient: options.recipient ?? CITIZEN,
    checkEboxStatus: 'ACTIVATED',
    document: {
      title: 'Attestation',
      digest: digestOf(options.documentMethod ?? 'SHA-256', options.documentBytes),
      downloadFileName: 'attestation.pdf',
      mime: 'application/pdf',
      type: 'EDER501',
      language: 'fr',
    },
    annexes: (options.annexBytes ?? []).map((bytes, index) => ({
      title: `Annex ${index + 1}`,
      digest: digestOf(options.annexMethod ?? 'SHA-256', bytes),
      downloadFileName: `annex-${index + 1}.txt`,
      mime: 'text/plain',
    })),
    meta: [{ type: 'dossier', values: ['2025-001'] }],
  };
}

/** Stages `bytes` in several chunks, as a request body would arrive. */
export function stageBytes(session: StagingSession, bytes: Buffer, sha512 = false): Promise<StagedContent> {
  const chunks: Buffer[] = [];
  for (let offset = 0; offset < bytes.length; offset += 7) chunks.push(bytes.subarray(offset, offset + 7));
  return session.stage(Readable.from(chunks), { sha512 });
}

export function makeTempDir(prefix: string): string {
  return fs.mkdtempSync(path.join(os.tmpdir(), prefix));
}

export interface RowCounts {
  items: number;
  files: number;
  history: number;
  receipts: number;
}

export async function countRows(dataSource: DataSource): Promise<RowCounts> {
  return {
    items: await dataSource.getRepository(RegisteredMailItemEntity).count(),
    files: await dataSource.getRepository(ItemFileEntity).count(),
    history: await dataSource.getRepository(ItemStatusHistoryEntity).count(),
    receipts: await dataSource.getRepository(ItemReceiptEntity).count(),
  };
}

/** One "process": a DataSource, a store and a service over a shared data directory. */
export interface Node {
  dataSource: DataSource;
  /** This node's content store: small content in its database, the rest in the shared blob directory. */
  contents: ContentStore;
  store: TypeormItemStore;
  service: SendDocumentService;
  issuer: FakeReceiptIssuer;
}

export interface Environment {
  dataDir: string;
  clock: ManualClock;
  blobs: BlobStore;
  /** The first node's content store (every node reads the same database and blob directory). */
  contents: ContentStore;
  staging: StagingArea;
  nodes: Node[];
  node: Node;
  /** Opens another DataSource (another "process") on the same data directory (the same database). */
  addNode(overrides?: Partial<SendDocumentDependencies>): Promise<Node>;
  close(): Promise<void>;
}

export async function makeEnvironment(
  overrides: Partial<SendDocumentDependencies> = {},
  /** SQLite only: the busy timeout of every node's DataSource. */
  databaseOptions: { busyTimeoutMs?: number } = {},
): Promise<Environment> {
  const dataDir = makeTempDir('rm-domain-');
  const clock = new ManualClock('2025-03-01T10:00:00.000Z');
  const blobs = new BlobStore(dataDir);
  const staging = defaultStaging(dataDir, clock);
  const nodes: Node[] = [];
  const addNode = async (nodeOverrides: Partial<SendDocumentDependencies> = {}): Promise<Node> => {
    const dataSource = await openTestDatabase(dataDir, databaseOptions);
    const contents = defaultContentStore(dataSource, dataDir);
    const store = new TypeormItemStore(dataSource, contents);
    const issuer = new FakeReceiptIssuer(clock);
    const service = new SendDocumentService({
      store,
      receiptIssuer: issuer,
      clock,
      ...overrides,
      ...nodeOverrides,
    });
    const node = { dataSource, contents, store, service, issuer };
    nodes.push(node);
    return node;
  };
  const node = await addNode();
  return {
    dataDir,
    clock,
    blobs,
    contents: node.contents,
    staging,
    nodes,
    node,
    addNode,
    close: async () => {
      for (const each of nodes) if (each.dataSource.isInitialized) await each.dataSource.destroy();
      await removeTestDataDir(dataDir);
    },
  };
}
