import { createHash, randomBytes } from 'node:crypto';
import { readFileSync } from 'node:fs';
import path from 'node:path';
import { DOMParser, type Element } from '@xmldom/xmldom';
import { loadConfig } from '../../src/config/config';
import { CheckpointedSqliteDataSource } from '../../src/storage/checkpointed-sqlite-data-source';
import { ContentChunkEntity } from '../../src/storage/entities';
import { opensslCmsVerify, testWithTool } from '../support/external-tools';
import { defaultContentStore } from '../support/stored-content';
import { parseResponse, readFault } from '../support/soap-client';
import { startTestService, type TestService } from '../support/service-fixture';
import {
  getStatusEnvelope,
  partsOf,
  samplePdf,
  sendDocumentEnvelope,
  type SendDocumentSpec,
} from '../support/v1-requests';
import { scrape, type Scrape } from '../metrics/prometheus-scrape';

const T = 'http://socialsecurity.be/registeredmail/types/v1';

function text(parent: Element, localName: string): string {
  return parent.getElementsByTagNameNS(T, localName)[0]?.textContent ?? '';
}

function citizenSpec(token: string, overrides: Partial<SendDocumentSpec> = {}): SendDocumentSpec {
  return {
    token,
    recipient: { kind: 'citizen', inss: '85073003328' },
    document: { content: samplePdf(token), contentId: 'document@test' },
    annexes: [
      { content: Buffer.from('annex one'), contentId: 'annex-1@test' },
      {
        content: Buffer.from('a;b\n1;2\n'),
        contentId: 'annex-2@test',
        mime: 'text/csv',
        digestMethod: 'SHA-512',
      },
    ],
    ...overrides,
  };
}

describe('sendDocument and getStatus over HTTP', () => {
  let it_: TestService;
  beforeAll(async () => {
    // Delivery is paused here (test/integration/delivery*.test.ts show it): a new item stays PENDING.
    it_ = await startTestService({ RM_DELIVERY_PAUSED: 'true' });
  });
  afterAll(async () => {
    await it_.close();
  });

  async function send(spec: SendDocumentSpec) {
    return it_.postSwa(it_.sign(sendDocumentEnvelope(spec)), partsOf(spec));
  }

  it('accepts a document with two annexes and answers a multipart receipt', async () => {
    const result = await send(citizenSpec('T-accept'));
    expect(result.status).toBe(200);
    expect(result.headers['content-type']).toMatch(/^multipart\/related; type="text\/xml"/);
    const parsed = await parseResponse(result);
    const document = new DOMParser().parseFromString(parsed.envelope, 'text/xml');
    const receipt = document.getElementsByTagNameNS(T, 'Receipt')[0];
    expect(text(receipt, 'Ticket')).toMatch(/^[0-9A-HJ-NP-Z]{13}$/);
    expect(text(receipt, 'Token')).toBe('T-accept');
    const signed = receipt.getElementsByTagNameNS(T, 'Document')[0];
    expect(text(signed, 'Title')).toBe('Receipt');
    expect(text(signed, 'DownloadFileName')).toBe('Receipt.xml');
    expect(text(signed, 'MIME')).toBe('text/xml');
    expect(text(signed, 'Type')).toBe('RECEIPT');
    expect(text(signed, 'Language')).toBe('en');
    expect(text(signed, 'DigestMethod')).toBe('SHA-256');
    const contentId = decodeURIComponent(text(signed, 'Content').replace(/^cid:/, ''));
    const attachment = parsed.attachments.get(contentId);
    expect(attachment?.contentType).toBe('text/xml');
    expect(createHash('sha256').update(attachment!.content).digest('base64')).toBe(
      text(signed, 'DigestValue'),
    );
    expect(text(signed, 'Signature').length).toBeGreaterThan(100);
  });

  testWithTool('openssl', ['version'])(
    'issues a receipt whose CMS signature openssl verifies over its bytes',
    async () => {
      const spec = citizenSpec('T-openssl');
      const parsed = await parseResponse(await send(spec));
      const document = new DOMParser().parseFromString(parsed.envelope, 'text/xml');
      const signed = document.getElementsByTagNameNS(T, 'Document')[0];
      const receiptBytes = parsed.attachments.get(
        decodeURIComponent(text(signed, 'Content').slice(4)),
      )!.content;
      const signature = Buffer.from(text(signed, 'Signature'), 'base64');
      const caFile = it_.service.pki!.ca.certPemPath;
      const verified = opensslCmsVerify(signature, receiptBytes, caFile);
      expect(verified.output).toMatch(/Verification successful/);
      expect(verified.status).toBe(0);
      const tampered = opensslCmsVerify(signature, Buffer.concat([receiptBytes, Buffer.from(' ')]), caFile);
      expect(tampered.status).not.toBe(0);
      // The receipt states what was sent: ticket, token, recipient, sender from the certificate, digests.
      const receipt = new DOMParser().parseFromString(receiptBytes.toString('utf8'), 'text/xml')
        .documentElement as Element;
      expect(receipt.localName).toBe('ReceiptContent');
      expect(text(receipt, 'Token')).toBe('T-openssl');
      expect(text(receipt, 'INSS')).toBe('85073003328');
      expect(text(receipt.getElementsByTagNameNS(T, 'Sender')[0], 'CompanyID')).toBe(it_.senders[0].cbe);
      expect(text(receipt.getElementsByTagNameNS(T, 'Sender')[0], 'ApplicationID')).toBe(
        it_.senders[0].applicationId,
      );
      const digests = Array.from(receipt.getElementsByTagNameNS(T, 'DigestValue')).map(
        (node) => node.textContent,
      );
      expect(digests[0]).toBe(createHash('sha256').update(spec.document.content).digest('base64'));
      expect(digests[2]).toBe(createHash('sha512').update(spec.annexes![1].content).digest('base64'));
    },
  );

  it('keeps the document and annex bytes under their SHA-256: small ones in the database', async () => {
    const spec = citizenSpec('T-blobs');
    expect((await send(spec)).status).toBe(200);
    const contents = defaultContentStore(it_.service.dataSource, it_.dataDir);
    for (const file of [spec.document, ...spec.annexes!]) {
      const hex = createHash('sha256').update(file.content).digest('hex');
      expect(await contents.read(hex)).toEqual(file.content);
      expect(
        await it_.service.dataSource.manager.exists(ContentChunkEntity, { where: { sha256: hex } }),
      ).toBe(true);
    }
  });

  it('checkpoints its SQLite WAL on a thread, never inside the COMMIT of a request (SQLite)', async () => {
    const dataSource = it_.service.dataSource;
    if (dataSource.options.type === 'postgres') {
      // The PostgreSQL server checkpoints by itself: no thread of ours, and no series of one.
      expect(dataSource).not.toBeInstanceOf(CheckpointedSqliteDataSource);
      const metrics = await scrape(it_.baseUrl);
      for (const family of metrics.families) expect(family.name).not.toMatch(/^registered_mail_sqlite_/);
      return;
    }
    expect(dataSource).toBeInstanceOf(CheckpointedSqliteDataSource);
    const [setting] = (await dataSource.query('PRAGMA wal_autocheckpoint')) as {
      wal_autocheckpoint: number;
    }[];
    expect(setting.wal_autocheckpoint).toBe(0);
    expect((await send(citizenSpec('T-checkpoint'))).status).toBe(200);
    const before = await scrape(it_.baseUrl);
    const outcome = await (dataSource as CheckpointedSqliteDataSource).walCheckpointer!.checkpoint();
    expect(outcome.checkpointedFrames).toBe(outcome.walFrames);

    // /metrics counts the thread's checkpoints and the WAL sizes it found; no failure.
    const after = await scrape(it_.baseUrl);
    const checkpoints = (metrics: Scrape) =>
      metrics.value('registered_mail_sqlite_wal_checkpoints_total', { writers_held: 'false' }) +
      metrics.value('registered_mail_sqlite_wal_checkpoints_total', { writers_held: 'true' });
    expect(checkpoints(after)).toBeGreaterThan(checkpoints(before));
    expect(after.histogramCount('registered_mail_sqlite_wal_frames', {})).toBe(checkpoints(after));
    expect(after.histogramSum('registered_mail_sqlite_wal_frames', {})).toBeGreaterThanOrEqual(
      outcome.walFrames,
    );
    expect(after.sample('registered_mail_sqlite_wal_checkpoint_thread_failures_total')).toBeDefined();
    expect(after.value('registered_mail_sqlite_wal_checkpoint_thread_failures_total')).toBe(0);
  });

  it('counts its write path in /metrics: transactions, the writes they held, and (SQLite) WAL fsyncs', async () => {
    const sqlite = it_.service.dataSource.options.type !== 'postgres';
    const before = await scrape(it_.baseUrl);
    // Four sends at once: each writes its replay-cache entry, then its item (a durable write).
    const answers = await Promise.all(
      ['A', 'B', 'C', 'D'].map((name) => send(citizenSpec(`T-writes-${name}`))),
    );
    expect(answers.map((answer) => answer.status)).toEqual([200, 200, 200, 200]);
    const after = await scrape(it_.baseUrl);
    const grown = (name: string) => after.value(name) - before.value(name);
    const transactions = grown('registered_mail_database_write_transactions_total');
    const writes = grown('registered_mail_database_grouped_writes_total');
    expect(writes).toBe(8);
    expect(transactions).toBeGreaterThanOrEqual(1);
    expect(transactions).toBeLessThanOrEqual(writes);
    if (sqlite) {
      // At least one fsync made the items durable; never more than one per transaction.
      const fsyncs = grown('registered_mail_sqlite_wal_fsyncs_total');
      expect(fsyncs).toBeGreaterThanOrEqual(1);
      expect(fsyncs).toBeLessThanOrEqual(transactions);
    } else {
      expect(after.sample('registered_mail_sqlite_wal_fsyncs_total')).toBeUndefined();
    }
  });

  it('keeps a document larger than RM_DATABASE_CONTENT_MAX_BYTES as a blob file', async () => {
    const spec = citizenSpec('T-large-blob');
    spec.document = { ...spec.document, content: randomBytes(loadConfig({}).databaseContentMaxBytes + 1) };
    expect((await send(spec)).status).toBe(200);
    const hex = createHash('sha256').update(spec.document.content).digest('hex');
    const blob = path.join(it_.dataDir, 'blobs', hex.slice(0, 2), hex.slice(2, 4), hex);
    expect(readFileSync(blob).equals(spec.document.content)).toBe(true);
    expect(await it_.service.dataSource.manager.exists(ContentChunkEntity, { where: { sha256: hex } })).toBe(
      false,
    );
  });

  it('accepts an enterprise recipient', async () => {
    const result = await send(
      citizenSpec('T-enterprise', { recipient: { kind: 'enterprise', cbe: '0206731645' } }),
    );
    expect(result.status).toBe(200);
  });

  it('reads the status of its own item as PENDING', async () => {
    const sent = await parseResponse(await send(citizenSpec('T-status')));
    const ticket = /<types:Ticket>([^<]+)</.exec(sent.envelope)![1];
    const result = await it_.postXml(it_.sign(getStatusEnvelope(ticket)));
    expect(result.status).toBe(200);
    const document = new DOMParser().parseFromString(result.body.toString(), 'text/xml');
    expect(text(document.documentElement as Element, 'Ticket')).toBe(ticket);
    expect(text(document.documentElement as Element, 'Token')).toBe('T-status');
    expect(text(document.documentElement as Element, 'Status')).toBe('PENDING');
  });

  it('refuses a digest that does not match its attachment with FILE_B01', async () => {
    const spec = citizenSpec('T-mismatch');
    spec.annexes![0].digestValue = createHash('sha256').update('something else').digest('base64');
    const result = await send(spec);
    expect(result.status).toBe(500);
    const fault = readFault(result.body);
    expect(fault).toMatchObject({
      faultcode: 'soapenv:Client',
      faultstring: 'FILE_B01',
      kind: 'BusinessError',
      code: 'FILE_B01',
    });
    expect(fault.messages[0]).toEqual({ text: "Digest doesn't match document.", lang: 'en' });
  });
});
