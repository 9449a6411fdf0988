import { createHash, X509Certificate } from 'node:crypto';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { DOMParser } from '@xmldom/xmldom';
import { readTimeStampToken } from '../../src/evidence/signature-time-stamp';
import { issueCrl } from '../../src/pki/dev-crl';
import { DEV_PKI_MARKER_OU, DEV_PKI_ORGANISATION } from '../../src/pki/dev-pki';
import { encodePkcs12 } from '../../src/pki/pkcs12';
import { x509 } from '../../src/pki/crypto-engines';
import { issuerFrom, issueTestCertificate } from '../pki/certificate-fixtures';
import { storedState } from '../support/data-dir-state';
import { expectFault } from '../support/fault-assertions';
import { startOpensslTsaServer, TEST_TSA_POLICY, type OpensslTsaServer } from '../support/openssl-tsa';
import { signatureParts, verifyAllReceipts, verifyReceipts } from '../support/receipt-verification';
import { parseResponse, type HttpResult } from '../support/soap-client';
import { startTestService, type TestService } from '../support/service-fixture';
import {
  getStatusEnvelope,
  partsOf,
  samplePdf,
  sendDocumentEnvelope,
  type SendDocumentSpec,
} from '../support/v1-requests';

/*
 * CAdES through the running service: every receipt is CAdES-T (the embedded TSA by default, RM_TSA_URL's
 * otherwise), B-LT on demand; a TSA that fails is SEPIA_T02 with nothing stored and a retry that
 * succeeds; the signer can come from PKCS#12, and a new signer never invalidates an old receipt.
 * The fixture's close() checks every stored receipt with openssl and Bouncy Castle besides.
 */

const T = 'http://socialsecurity.be/registeredmail/types/v1';

function citizenSpec(token: string): SendDocumentSpec {
  return {
    token,
    recipient: { kind: 'citizen', inss: '85073003328' },
    document: { content: samplePdf(token), contentId: 'document@test' },
  };
}

/** The receipt of a sendDocument answer: ticket, Receipt.xml bytes and the detached signature. */
interface AnsweredReceipt {
  ticket: string;
  content: Buffer;
  signature: Buffer;
}

async function receiptOf(result: HttpResult): Promise<AnsweredReceipt> {
  expect(result.status).toBe(200);
  const parsed = await parseResponse(result);
  const document = new DOMParser().parseFromString(parsed.envelope, 'text/xml');
  const text = (localName: string) => document.getElementsByTagNameNS(T, localName)[0]?.textContent ?? '';
  const contentId = decodeURIComponent(text('Content').replace(/^cid:/, ''));
  const content = parsed.attachments.get(contentId)?.content;
  if (content === undefined) throw new Error(`no attachment ${contentId}`);
  return { ticket: text('Ticket'), content, signature: Buffer.from(text('Signature'), 'base64') };
}

function send(rm: TestService, spec: SendDocumentSpec): Promise<HttpResult> {
  rm.clock.advance(1000);
  return rm.postSwa(rm.sign(sendDocumentEnvelope(spec)), partsOf(spec));
}

function caFiles(rm: TestService): { caFiles: string[] } {
  return { caFiles: [rm.service.pki!.ca.certPemPath] };
}

function commonName(der: Buffer): string {
  return /CN=([^\n]*)/.exec(new X509Certificate(der).subject)?.[1] ?? '?';
}

describe('receipts are CAdES-B-T by default (embedded TSA)', () => {
  let rm: TestService;
  beforeAll(async () => {
    rm = await startTestService();
  });
  afterAll(async () => {
    await rm.close();
  });

  it('carries a signature-time-stamp over its signature value, from the embedded TSA at the service time', async () => {
    const receipt = await receiptOf(await send(rm, citizenSpec('T-cades-t')));
    const parts = await signatureParts(receipt.signature);
    const token = await readTimeStampToken(parts.timeStampToken!);
    expect(token.digest).toEqual(createHash('sha256').update(parts.signatureValue).digest());
    expect(token.identifiesSigner(rm.service.pki!.tsa.certificateDer)).toBe(true);
    expect(Math.abs(token.genTime.getTime() - rm.clock.now().getTime())).toBeLessThanOrEqual(1000);
    expect(parts.certificates.map(commonName)).toEqual([
      'RegisteredMail Development Receipt Signer',
      'RegisteredMail Development Root CA',
    ]);
    expect(parts.crls).toEqual([]);
    await verifyReceipts([{ label: 'T-cades-t', ...receipt }], caFiles(rm));
  });

  it('every stored receipt verifies (what close() checks for every test service)', async () => {
    await send(rm, citizenSpec('T-cades-t-2'));
    expect(await verifyAllReceipts(rm.dataDir, caFiles(rm))).toBeGreaterThanOrEqual(2);
  });
});

describe('RM_CADES_LEVEL=B-LT with RM_CRL', () => {
  let rm: TestService;
  let dataDir: string;

  beforeAll(async () => {
    // A first start installs the dev PKI, whose CA then issues the CRL the second start loads.
    dataDir = mkdtempSync(path.join(os.tmpdir(), 'rm-it-blt-'));
    const installer = await startTestService({}, { dataDir });
    const pki = installer.service.pki!;
    await installer.close();
    const crlFile = path.join(dataDir, 'dev-ca.crl');
    writeFileSync(
      crlFile,
      await issueCrl(pki.ca, { revoked: [], thisUpdate: new Date(Date.now() - 60_000) }, installer.clock),
    );
    rm = await startTestService({ RM_CADES_LEVEL: 'B-LT', RM_CRL: crlFile }, { dataDir });
  });
  afterAll(async () => {
    await rm?.close();
    rmSync(dataDir, { recursive: true, force: true });
  });

  it('puts the signer and TSA chains up to the root in certificates and the CA CRL in crls', async () => {
    const receipt = await receiptOf(await send(rm, citizenSpec('T-cades-lt')));
    const parts = await signatureParts(receipt.signature);
    expect(parts.certificates.map(commonName)).toEqual([
      'RegisteredMail Development Receipt Signer',
      'RegisteredMail Development Root CA',
      'RegisteredMail Development Time-Stamping Authority',
    ]);
    expect(parts.crls).toHaveLength(1);
    const crl = new x509.X509Crl(new Uint8Array(parts.crls[0]));
    expect(crl.issuer).toContain('RegisteredMail Development Root CA');
    await verifyReceipts([{ label: 'T-cades-lt', ...receipt }], caFiles(rm));
  });
});

describe('an external TSA (RM_TSA_URL) that fails, then answers', () => {
  let rm: TestService;
  let tsa: OpensslTsaServer;

  beforeAll(async () => {
    tsa = await startOpensslTsaServer();
    rm = await startTestService({
      RM_TSA_URL: tsa.url,
      RM_TSA_TIMEOUT_MS: '5000',
      RM_DELIVERY_PAUSED: 'true',
    });
    tsa.use(rm.service.pki!.tsa);
  });
  afterAll(async () => {
    await rm?.close();
    await tsa?.close();
  });

  const signingUnavailable = {
    code: 'SEPIA_T02',
    kind: 'SystemError',
    origin: 'Provider',
    retry: 'true',
  } as const;

  it.each([
    ['HTTP 500', 'http-500'],
    ['an answer that is not a TimeStampResp', 'garbage'],
    ['a token over other bytes', 'wrong-imprint'],
  ] as const)(
    '%s: SEPIA_T02 with Retry true, nothing stored; the retry with the same Token succeeds',
    async (_name, failure) => {
      const spec = citizenSpec(`T-tsa-${failure}`);
      const before = await storedState(rm);
      const requestsBefore = tsa.requests;
      tsa.failNext(failure);

      expectFault(await send(rm, spec), signingUnavailable);
      expect(tsa.requests).toBe(requestsBefore + 1);
      expect(await storedState(rm)).toEqual(before);

      const receipt = await receiptOf(await send(rm, spec));
      const token = await readTimeStampToken((await signatureParts(receipt.signature)).timeStampToken!);
      expect(token.identifiesSigner(rm.service.pki!.tsa.certificateDer)).toBe(true);
      expect(tsa.requests).toBe(requestsBefore + 2);
      expect((await storedState(rm)).items).toBe(before.items + 1);
      await verifyReceipts([{ label: spec.token, ...receipt }], caFiles(rm));
    },
  );

  it('the tokens are the external TSA’s (its policy), not the embedded one’s', async () => {
    const receipt = await receiptOf(await send(rm, citizenSpec('T-tsa-policy')));
    const token = await readTimeStampToken((await signatureParts(receipt.signature)).timeStampToken!);
    expect(token.policy).toBe(TEST_TSA_POLICY);
  });
});

describe('key rotation, and the signer from PKCS#12 (RM_SIGNER_P12)', () => {
  let dataDir: string;

  beforeAll(() => {
    dataDir = mkdtempSync(path.join(os.tmpdir(), 'rm-it-rotation-'));
  });
  afterAll(() => rmSync(dataDir, { recursive: true, force: true }));

  it('a receipt of signer A still verifies, and is still answered, after a restart with signer B', async () => {
    const first = await startTestService({}, { dataDir });
    const spec = citizenSpec('T-rotation');
    let old: AnsweredReceipt;
    try {
      old = await receiptOf(await send(first, spec));
    } finally {
      await first.close();
    }

    // Signer B: a new key and certificate from the same dev CA, in a PKCS#12 key store.
    const pki = first.service.pki!;
    const now = Date.now();
    const signerB = await issueTestCertificate(await issuerFrom(pki.ca.certificateDer, pki.ca.privateKey), {
      subject: [
        { C: ['BE'] },
        { O: [DEV_PKI_ORGANISATION] },
        { OU: [DEV_PKI_MARKER_OU] },
        { CN: ['RegisteredMail Development Receipt Signer B'] },
      ],
      notBefore: new Date(now - 3_600_000),
      notAfter: new Date(now + 30 * 86_400_000),
      keyUsage: x509.KeyUsageFlags.digitalSignature | x509.KeyUsageFlags.nonRepudiation,
    });
    const p12 = path.join(dataDir, 'signer-b.p12');
    writeFileSync(
      p12,
      encodePkcs12({
        alias: 'signer-b',
        privateKey: signerB.privateKey,
        chain: [signerB.certificateDer, pki.ca.certificateDer],
        password: 'rotation',
      }),
    );

    const second = await startTestService(
      { RM_SIGNER_P12: p12, RM_SIGNER_P12_PASSWORD: 'rotation' },
      { dataDir },
    );
    try {
      const fresh = await receiptOf(await send(second, citizenSpec('T-rotation-new')));
      expect(commonName((await signatureParts(fresh.signature)).certificates[0])).toBe(
        'RegisteredMail Development Receipt Signer B',
      );

      // The old receipt: verifiable on its own, answered unchanged to a retry, its item still known.
      expect(commonName((await signatureParts(old.signature)).certificates[0])).toBe(
        'RegisteredMail Development Receipt Signer',
      );
      await verifyReceipts(
        [
          { label: 'receipt of signer A', ...old },
          { label: 'receipt of signer B', ...fresh },
        ],
        caFiles(second),
      );
      const retried = await receiptOf(await send(second, spec));
      expect(retried).toEqual(old);
      second.clock.advance(1000);
      const status = await second.postXml(second.sign(getStatusEnvelope(old.ticket)));
      expect(status.status).toBe(200);
      // Still answered after the rotation (delivery may have published it meanwhile).
      expect(status.body.toString()).toMatch(/<types:Status(?: [^>]*)?>(PENDING|SENT)<\/types:Status>/);
    } finally {
      // Verifies every stored receipt, of both signers, once more.
      await second.close();
    }
  });
});
