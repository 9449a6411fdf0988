import { createHash } from 'node:crypto';
import { ProofSigner } from '../../src/evidence/proof-signer';
import type { DocumentSigner } from '../../src/evidence/document-signer';
import { buildReceiptContent } from '../../src/evidence/receipt-content';
import { ReceiptIssuer } from '../../src/evidence/receipt-issuer';
import { SigningUnavailableError } from '../../src/errors/faults';
import { TimeStampUnavailableError } from '../../src/timestamping/time-stamp-authority';
import { opensslCmsVerify, testWithTool } from '../support/external-tools';
import { signatureParts, verifyReceipts } from '../support/receipt-verification';
import { createCadesFixture, type CadesFixture } from './cades-fixture';
import { citizenFacts } from './receipt-facts';

const withOpenssl = testWithTool('openssl', ['version']);

describe('ReceiptIssuer', () => {
  let fixture: CadesFixture;
  let issuer: ReceiptIssuer;

  beforeAll(async () => {
    fixture = await createCadesFixture();
    issuer = new ReceiptIssuer(
      new ProofSigner(fixture.signer, { tsa: fixture.tsa, level: 'B-T' }),
      fixture.clock,
    );
  });
  afterAll(() => fixture.dispose());

  test('issues the receipt content, its hash, the signature and the time', async () => {
    const receipt = await issuer.issue(citizenFacts);
    expect(receipt.ticket).toBe(citizenFacts.ticket);
    expect(receipt.token).toBe(citizenFacts.token);
    expect(receipt.content).toEqual(buildReceiptContent(citizenFacts));
    expect(receipt.contentSha256).toEqual(createHash('sha256').update(receipt.content).digest());
    expect(receipt.issuedAt).toEqual(fixture.clock.now());
    expect(receipt.signature[0]).toBe(0x30);
  });

  withOpenssl(
    'the CAdES-T signature verifies over exactly Receipt.xml (openssl cms and ts, Bouncy Castle)',
    async () => {
      const receipt = await issuer.issue(citizenFacts);
      const result = opensslCmsVerify(receipt.signature, receipt.content, fixture.pki.ca.certPemPath);
      expect(result.output).toContain('Verification successful');
      expect(result.status).toBe(0);
      expect((await signatureParts(receipt.signature)).timeStampToken).toBeDefined();
      await verifyReceipts([{ label: 'receipt', content: receipt.content, signature: receipt.signature }], {
        caFiles: [fixture.pki.ca.certPemPath],
      });
    },
  );

  test('a signing failure is SigningUnavailableError (SEPIA_T02, retry)', async () => {
    const broken: DocumentSigner = {
      certificate: fixture.signer.certificate,
      chain: fixture.signer.chain,
      sign: () => Promise.reject(new Error('token removed')),
    };
    const failing = new ReceiptIssuer(
      new ProofSigner(broken, { tsa: fixture.tsa, level: 'B-T' }),
      fixture.clock,
    );
    const failure = failing.issue(citizenFacts);
    await expect(failure).rejects.toBeInstanceOf(SigningUnavailableError);
    await expect(failure).rejects.toMatchObject({ code: 'SEPIA_T02', retry: true });
  });

  test('a TSA that gives no token is SigningUnavailableError (SEPIA_T02, retry), its error the cause', async () => {
    const unavailable = new TimeStampUnavailableError('the TSA did not answer within 10 s');
    const proofSigner = new ProofSigner(fixture.signer, {
      tsa: { timestamp: () => Promise.reject(unavailable) },
      level: 'B-T',
    });
    const failure = new ReceiptIssuer(proofSigner, fixture.clock).issue(citizenFacts);
    await expect(failure).rejects.toBeInstanceOf(SigningUnavailableError);
    await expect(failure).rejects.toMatchObject({ code: 'SEPIA_T02', retry: true, cause: unavailable });
  });

  test('B-LT: an incomplete chain is SigningUnavailableError too, never a receipt without it', async () => {
    const chainless: DocumentSigner = {
      certificate: fixture.signer.certificate,
      chain: [],
      sign: (data) => fixture.signer.sign(data),
    };
    const proofSigner = new ProofSigner(chainless, { tsa: fixture.tsa, level: 'B-LT' });
    const failure = new ReceiptIssuer(proofSigner, fixture.clock).issue(citizenFacts);
    await expect(failure).rejects.toMatchObject({
      code: 'SEPIA_T02',
      cause: expect.objectContaining({ message: expect.stringContaining('B-LT: the signer chain stops') }),
    });
  });
});
