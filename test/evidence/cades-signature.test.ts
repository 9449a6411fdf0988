import { createHash, X509Certificate } from 'node:crypto';
import { createCadesSignature } from '../../src/evidence/cades-signature';
import { CMS_OIDS, createDetachedCmsSignature } from '../../src/evidence/cms-detached-signature';
import { PemFileSigner } from '../../src/evidence/document-signer';
import { readTimeStampToken } from '../../src/evidence/signature-time-stamp';
import { loadPkiLibraries } from '../../src/pki/crypto-engines';
import { issueCrl } from '../../src/pki/dev-crl';
import {
  TimeStampUnavailableError,
  type MessageImprint,
  type TimeStampAuthority,
} from '../../src/timestamping/time-stamp-authority';
import { createTestCa } from '../pki/certificate-fixtures';
import { testWithTool } from '../support/external-tools';
import { bouncyCastleVerdicts, signatureParts, verifyReceipts } from '../support/receipt-verification';
import { createCadesFixture, type CadesFixture } from './cades-fixture';

const withOpenssl = testWithTool('openssl', ['version']);

/** The signed attribute types and the unsigned ones, as written. */
async function attributeTypes(signature: Buffer): Promise<{ signed: string[]; unsigned: string[] }> {
  const { pkijs } = await loadPkiLibraries();
  const contentInfo = pkijs.ContentInfo.fromBER(new Uint8Array(signature));
  const signerInfo = new pkijs.SignedData({ schema: contentInfo.content }).signerInfos[0];
  return {
    signed: (signerInfo.signedAttrs?.attributes ?? []).map((attribute) => attribute.type),
    unsigned: (signerInfo.unsignedAttrs?.attributes ?? []).map((attribute) => attribute.type),
  };
}

function subjectOf(der: Buffer): string {
  return new X509Certificate(der).subject.split('\n').find((rdn) => rdn.startsWith('CN=')) ?? '?';
}

describe('createCadesSignature', () => {
  let fixture: CadesFixture;
  const content = Buffer.from('<?xml version="1.0" encoding="UTF-8"?>\n<ReceiptContent/>', 'utf8');

  beforeAll(async () => {
    fixture = await createCadesFixture();
  });
  afterAll(() => fixture.dispose());

  describe('B-T (the default)', () => {
    let signature: Buffer;

    beforeAll(async () => {
      signature = await createCadesSignature(content, fixture.signer, fixture.clock.now(), {
        tsa: fixture.tsa,
      });
    });

    test('keeps the four signed attributes and adds exactly one unsigned: the signature-time-stamp', async () => {
      const types = await attributeTypes(signature);
      expect([...types.signed].sort()).toEqual(
        [
          CMS_OIDS.contentType,
          CMS_OIDS.messageDigest,
          CMS_OIDS.signingTime,
          CMS_OIDS.signingCertificateV2,
        ].sort(),
      );
      expect(types.unsigned).toEqual([CMS_OIDS.signatureTimeStampToken]);
    });

    test('the token imprint is the SHA-256 of the signature value, and names the TSA certificate', async () => {
      const parts = await signatureParts(signature);
      const token = await readTimeStampToken(parts.timeStampToken as Buffer);
      expect(token.digest).toEqual(createHash('sha256').update(parts.signatureValue).digest());
      expect(token.certificates).toContainEqual(fixture.pki.tsa.certificateDer);
      expect(token.identifiesSigner(fixture.pki.tsa.certificateDer)).toBe(true);
      expect(token.identifiesSigner(fixture.pki.signer.certificateDer)).toBe(false);
      expect(Math.abs(token.genTime.getTime() - Date.now())).toBeLessThan(10 * 60_000);
    });

    test('SignedData carries the signer certificate and its chain, and no CRLs', async () => {
      const parts = await signatureParts(signature);
      expect(parts.certificates).toEqual([fixture.pki.signer.certificateDer, fixture.pki.ca.certificateDer]);
      expect(parts.crls).toEqual([]);
    });

    withOpenssl(
      'verifies with openssl cms, openssl ts (imprint over the signature value) and Bouncy Castle',
      async () => {
        await verifyReceipts([{ label: 'B-T', content, signature }], {
          caFiles: [fixture.pki.ca.certPemPath],
        });
      },
    );
  });

  describe('B-LT', () => {
    test('SignedData holds both chains up to the root and the CRLs of their CAs, no revocation-values', async () => {
      const crl = await issueCrl(fixture.pki.ca, { revoked: [] }, fixture.clock);
      const now = fixture.clock.now();
      const otherCa = await createTestCa('Unrelated CA', now, new Date(now.getTime() + 86_400_000));
      const otherCrl = await issueCrl(otherCa, { revoked: [] }, fixture.clock);
      const signature = await createCadesSignature(content, fixture.signer, now, {
        tsa: fixture.tsa,
        level: 'B-LT',
        crls: [crl, otherCrl],
      });
      const parts = await signatureParts(signature);
      expect(parts.certificates.map(subjectOf)).toEqual([
        'CN=RegisteredMail Development Receipt Signer',
        'CN=RegisteredMail Development Root CA',
        'CN=RegisteredMail Development Time-Stamping Authority',
      ]);
      expect(parts.crls).toEqual([crl]);
      expect((await attributeTypes(signature)).unsigned).toEqual([CMS_OIDS.signatureTimeStampToken]);
      await verifyReceipts([{ label: 'B-LT', content, signature }], {
        caFiles: [fixture.pki.ca.certPemPath],
      });
    });

    test('completes a chain from the extra certificates; without them it names the missing issuer', async () => {
      const chainless = new PemFileSigner(fixture.pki.signer.privateKey, fixture.pki.signer.certificateDer);
      const incomplete = createCadesSignature(content, chainless, fixture.clock.now(), {
        tsa: fixture.tsa,
        level: 'B-LT',
      });
      await expect(incomplete).rejects.toThrow(
        /B-LT: the signer chain stops at ".*Receipt Signer.*": its issuer ".*Development Root CA.*" is not known/,
      );
      const completed = await createCadesSignature(content, chainless, fixture.clock.now(), {
        tsa: fixture.tsa,
        level: 'B-LT',
        extraCertificates: [fixture.pki.ca.certificateDer],
      });
      expect((await signatureParts(completed)).certificates).toContainEqual(fixture.pki.ca.certificateDer);
    });
  });

  describe('when the TSA fails', () => {
    const imprintSeen: MessageImprint[] = [];
    const answering = (answer: (imprint: MessageImprint) => Promise<Buffer>): TimeStampAuthority => ({
      timestamp(imprint) {
        imprintSeen.push(imprint);
        return answer(imprint);
      },
    });

    test('its TimeStampUnavailableError passes through', async () => {
      const down = answering(() => Promise.reject(new TimeStampUnavailableError('connection refused')));
      await expect(
        createCadesSignature(content, fixture.signer, fixture.clock.now(), { tsa: down }),
      ).rejects.toThrow(new TimeStampUnavailableError('connection refused'));
    });

    test('a token over other bytes is refused', async () => {
      const wrong = answering((imprint) =>
        fixture.tsa.timestamp({ ...imprint, digest: createHash('sha256').update('other').digest() }),
      );
      const attempt = createCadesSignature(content, fixture.signer, fixture.clock.now(), { tsa: wrong });
      await expect(attempt).rejects.toBeInstanceOf(TimeStampUnavailableError);
      await expect(attempt).rejects.toThrow(
        'the time-stamp token covers other bytes than the signature value',
      );
    });

    test('an answer that is not a token is refused', async () => {
      const garbage = answering(() => Promise.resolve(fixture.pki.ca.certificateDer));
      const attempt = createCadesSignature(content, fixture.signer, fixture.clock.now(), { tsa: garbage });
      await expect(attempt).rejects.toBeInstanceOf(TimeStampUnavailableError);
      await expect(attempt).rejects.toThrow('the TSA answered something that is not a time-stamp token');
    });

    test('asks for SHA-256 of the signature value', () => {
      expect(imprintSeen.length).toBeGreaterThan(0);
      for (const imprint of imprintSeen) {
        expect(imprint.hashAlgorithm).toBe('SHA-256');
        expect(imprint.digest).toHaveLength(32);
      }
    });
  });

  describe('the Bouncy Castle check catches', () => {
    withOpenssl('a changed receipt, a token of another signature, and a missing time-stamp', async () => {
      const signature = await createCadesSignature(content, fixture.signer, fixture.clock.now(), {
        tsa: fixture.tsa,
      });
      const other = await createCadesSignature(Buffer.from('other'), fixture.signer, fixture.clock.now(), {
        tsa: fixture.tsa,
      });
      const tampered = Buffer.from(content);
      tampered[tampered.length - 3] ^= 0x01;
      const withForeignToken = await withTokenOf(fixture, content, other);
      const verdicts = await bouncyCastleVerdicts([
        { label: 'good', content, signature },
        { label: 'tampered', content: tampered, signature },
        { label: 'foreign token', content, signature: withForeignToken },
        {
          label: 'CAdES-BES',
          content,
          signature: await createDetachedCmsSignature(content, fixture.signer, fixture.clock.now()),
        },
      ]);
      if (verdicts === undefined) return; // no Java here (CI=true fails instead)
      expect(verdicts[0]).toMatchObject({
        ok: true,
        passed: [
          'cms-signature',
          'content-type-and-signing-time',
          'signing-certificate-v2',
          'time-stamp-imprint',
          'time-stamp-signature',
        ],
      });
      expect(verdicts[1]).toMatchObject({ ok: false, passed: [] });
      expect(verdicts[2]).toMatchObject({
        ok: false,
        error: expect.stringContaining('the time-stamp imprint is not the SHA-256 of the signature value'),
      });
      expect(verdicts[3]).toMatchObject({
        ok: false,
        error: expect.stringContaining('no unsigned attributes: no signature-time-stamp'),
      });
      await expect(
        verifyReceipts([{ label: 'foreign token', content, signature: withForeignToken }], {
          caFiles: [fixture.pki.ca.certPemPath],
        }),
      ).rejects.toThrow(/foreign token: openssl ts -verify/);
    });
  });
});

/** A signature over `content` whose signature-time-stamp is the token of `donor` (another signature). */
async function withTokenOf(fixture: CadesFixture, content: Buffer, donor: Buffer): Promise<Buffer> {
  const donorToken = (await signatureParts(donor)).timeStampToken as Buffer;
  return createDetachedCmsSignature(content, fixture.signer, fixture.clock.now(), {
    unsignedAttributes: async () => [{ type: CMS_OIDS.signatureTimeStampToken, values: [donorToken] }],
  });
}
