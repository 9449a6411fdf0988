import { createHash } from 'node:crypto';
import { mkdtempSync, rmSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { ManualClock } from '../../src/clock/clock';
import { PemFileSigner, type DocumentSigner } from '../../src/evidence/document-signer';
import { buildReceiptContent } from '../../src/evidence/receipt-content';
import { ReceiptIssuer } from '../../src/evidence/receipt-issuer';
import { SigningUnavailableError } from '../../src/errors/faults';
import { ensureDevPki, type DevPki } from '../../src/pki/dev-pki';
import { opensslCmsVerify, testWithTool } from '../support/external-tools';
import { citizenFacts } from './receipt-facts';

const withOpenssl = testWithTool('openssl', ['version']);

describe('ReceiptIssuer', () => {
  let dir: string;
  let pki: DevPki;
  let signer: DocumentSigner;
  const clock = new ManualClock(Date.now());

  beforeAll(async () => {
    dir = mkdtempSync(path.join(os.tmpdir(), 'rm-receipt-'));
    pki = await ensureDevPki(dir, clock);
    signer = new PemFileSigner(pki.signer.privateKey, pki.signer.certificateDer, [pki.ca.certificateDer]);
  });
  afterAll(() => rmSync(dir, { recursive: true, force: true }));

  test('issues the receipt content, its hash, the signature and the time', async () => {
    const receipt = await new ReceiptIssuer(signer, clock).issue(citizenFacts);
    expect(receipt.ticket).toBe(citizenFacts.ticket);
    expect(receipt.token).toBe(citizenFacts.token);
    expect(receipt.content).toEqual(buildReceiptContent(citizenFacts));
    expect(receipt.contentSha256).toEqual(createHash('sha256').update(receipt.content).digest());
    expect(receipt.issuedAt).toEqual(clock.now());
    expect(receipt.signature[0]).toBe(0x30);
  });

  withOpenssl('the signature verifies over exactly Receipt.xml', async () => {
    const receipt = await new ReceiptIssuer(signer, clock).issue(citizenFacts);
    const result = opensslCmsVerify(receipt.signature, receipt.content, pki.ca.certPemPath);
    expect(result.output).toContain('Verification successful');
    expect(result.status).toBe(0);
  });

  test('a signing failure is SigningUnavailableError (SEPIA_T02, retry)', async () => {
    const broken: DocumentSigner = {
      certificate: signer.certificate,
      chain: signer.chain,
      sign: () => Promise.reject(new Error('token removed')),
    };
    const failure = new ReceiptIssuer(broken, clock).issue(citizenFacts);
    await expect(failure).rejects.toBeInstanceOf(SigningUnavailableError);
    await expect(failure).rejects.toMatchObject({ code: 'SEPIA_T02', retry: true });
  });
});
