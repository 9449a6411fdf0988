import { createPrivateKey } from 'node:crypto';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { ManualClock } from '../../src/clock/clock';
import {
  CMS_OIDS,
  createDetachedCmsSignature,
  type CmsAttribute,
  type DetachedSignatureOptions,
} from '../../src/evidence/cms-detached-signature';
import { PemFileSigner, type DocumentSigner } from '../../src/evidence/document-signer';
import { signatureTimeStampImprint } from '../../src/evidence/signature-time-stamp';
import { issueCrl } from '../../src/pki/dev-crl';
import { ensureDevPki, type DevPki } from '../../src/pki/dev-pki';
import { signTimeStampToken } from '../../src/timestamping/sign-time-stamp-token';
import { encodeMessageImprint, encodeTstInfo } from '../../src/timestamping/time-stamp-codec';
import { legacyCreateDetachedCmsSignature, legacySignTimeStampToken } from './legacy-cms-encoder';

/*
 * The direct DER encoders must write exactly what the pkijs/asn1js encoders they replaced wrote (kept in
 * legacy-cms-encoder.ts): RSA PKCS#1 v1.5 is deterministic, so for the same signer, content, time and
 * attributes, whole signatures and tokens compare byte for byte.
 */

describe('the direct DER encoders write what the pkijs/asn1js encoders wrote', () => {
  let dir: string;
  let pki: DevPki;
  let clock: ManualClock;
  /** The receipt signer with its chain, the TSA with its chain, the CA alone, a sender without chain. */
  let signers: DocumentSigner[];
  let tsaSigner: DocumentSigner;

  const contents = [
    Buffer.alloc(0),
    Buffer.from('<?xml version="1.0" encoding="UTF-8"?>\n<ReceiptContent>é</ReceiptContent>', 'utf8'),
    Buffer.alloc(70_000, 0x5a), // long-form lengths nowhere but the digest input
  ];
  const signingTimes = [
    new Date('2026-04-02T08:15:30.789Z'),
    new Date('2049-12-31T23:59:59.999Z'), // last UTCTime second
    new Date('2050-01-01T00:00:00.000Z'), // first GeneralizedTime second
    new Date('1999-01-01T00:00:00.000Z'),
    new Date('1949-12-31T23:59:59.500Z'), // before UTCTime's range
  ];

  beforeAll(async () => {
    dir = mkdtempSync(path.join(os.tmpdir(), 'rm-cms-identity-'));
    clock = new ManualClock(Date.now());
    pki = await ensureDevPki(dir, clock);
    const sender = pki.senders[0];
    tsaSigner = new PemFileSigner(pki.tsa.privateKey, pki.tsa.certificateDer, [pki.ca.certificateDer]);
    signers = [
      new PemFileSigner(pki.signer.privateKey, pki.signer.certificateDer, [pki.ca.certificateDer]),
      tsaSigner,
      new PemFileSigner(pki.ca.privateKey, pki.ca.certificateDer),
      new PemFileSigner(createPrivateKey(readFileSync(sender.keyPemPath)), sender.certificateDer, []),
    ];
  });
  afterAll(() => rmSync(dir, { recursive: true, force: true }));

  async function expectSameSignature(
    content: Buffer,
    signer: DocumentSigner,
    signingTime: Date,
    options?: DetachedSignatureOptions,
  ): Promise<void> {
    const written = await createDetachedCmsSignature(content, signer, signingTime, options);
    const legacy = await legacyCreateDetachedCmsSignature(content, signer, signingTime, options);
    expect(written.toString('hex')).toBe(legacy.toString('hex'));
  }

  function tstInfo(imprintOf: Buffer, certReq: boolean): Buffer {
    return encodeTstInfo({
      policy: '1.3.6.1.4.1.32473.3161.1',
      imprintDer: encodeMessageImprint(signatureTimeStampImprint(imprintOf)),
      serialNumber: Buffer.from(certReq ? 'ff00112233445566778899aabbccddee' : '01', 'hex'),
      genTime: new Date('2026-04-02T08:15:31.5Z'),
      accuracyMs: 1000,
      nonceDer: undefined,
      tsaName: undefined,
    });
  }

  test('CAdES-BES: every signer, content and signing time', async () => {
    for (const signer of signers)
      for (const content of contents)
        for (const signingTime of signingTimes) await expectSameSignature(content, signer, signingTime);
  });

  test('time-stamp tokens, with and without certificates', async () => {
    for (const signer of signers)
      for (const certReq of [true, false]) {
        const info = tstInfo(signer.certificate, certReq);
        const written = await signTimeStampToken(info, signer, certReq);
        const legacy = await legacySignTimeStampToken(info, signer, certReq);
        expect(written.toString('hex')).toBe(legacy.toString('hex'));
      }
  });

  test('CAdES-T: a signature-time-stamp and other unsigned attributes, several values each', async () => {
    const unsignedAttributes = async (signatureValue: Buffer): Promise<CmsAttribute[]> => [
      {
        type: CMS_OIDS.signatureTimeStampToken,
        values: [await signTimeStampToken(tstInfo(signatureValue, true), tsaSigner, true)],
      },
      // Values out of DER order, and an attribute type sorting before the time-stamp's.
      { type: '1.2.3.4', values: [Buffer.from([0x04, 0x02, 0xff, 0x00]), Buffer.from([0x04, 0x01, 0x01])] },
      { type: '2.5.4.3', values: [Buffer.from([0x05, 0x00])] },
    ];
    for (const signer of signers)
      await expectSameSignature(contents[1], signer, signingTimes[0], { unsignedAttributes });
  });

  test('CAdES-B-LT: certificates and CRLs as given, in order', async () => {
    const crl = await issueCrl(pki.ca, { revoked: [{ serialNumber: '0a1b2c', reason: 1 }] }, clock);
    const laterCrl = await issueCrl(pki.ca, { revoked: [] }, clock);
    const certificates = [pki.signer.certificateDer, pki.ca.certificateDer, pki.tsa.certificateDer];
    for (const crls of [[], [crl], [laterCrl, crl]]) {
      await expectSameSignature(contents[1], signers[0], signingTimes[0], {
        unsignedAttributes: async (signatureValue) => [
          {
            type: CMS_OIDS.signatureTimeStampToken,
            values: [await signTimeStampToken(tstInfo(signatureValue, true), tsaSigner, true)],
          },
        ],
        validationData: async () => ({ certificates: [...certificates].reverse(), crls }),
      });
    }
  });

  test('a signer met again gives the same bytes (its encodings are cached, not stale)', async () => {
    const [signer] = signers;
    const first = await createDetachedCmsSignature(contents[1], signer, signingTimes[0]);
    const again = await createDetachedCmsSignature(contents[1], signer, signingTimes[0]);
    const twin = new PemFileSigner(pki.signer.privateKey, pki.signer.certificateDer, [pki.ca.certificateDer]);
    expect(again).toEqual(first);
    expect(await createDetachedCmsSignature(contents[1], twin, signingTimes[0])).toEqual(first);
  });
});
