import { createHash, verify, X509Certificate, constants } from 'node:crypto';
import { mkdtempSync, rmSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { ManualClock } from '../../src/clock/clock';
import { CMS_OIDS, createDetachedCmsSignature } from '../../src/evidence/cms-detached-signature';
import { PemFileSigner } from '../../src/evidence/document-signer';
import { loadPkiLibraries, type PkiLibraries } from '../../src/pki/crypto-engines';
import { ensureDevPki, type DevPki } from '../../src/pki/dev-pki';
import { opensslCmsVerify, testWithTool } from '../support/external-tools';

const withOpenssl = testWithTool('openssl', ['version']);

/** What the tests read back from a signature. */
interface Decoded {
  eContentPresent: boolean;
  eContentType: string;
  certificates: Buffer[];
  /** Each signed attribute's DER, in the order written. */
  signedAttributeEncodings: Buffer[];
  /** The signed attributes as a DER SET (the bytes the signature covers). */
  signedAttributesSet: Buffer;
  attributes: Map<string, InstanceType<PkiLibraries['asn1js']['BaseBlock']>[]>;
  unsignedAttributes: Map<string, Buffer[]>;
  signatureValue: Buffer;
  digestAlgorithm: string;
  signatureAlgorithm: string;
  version: number;
}

async function decode(der: Buffer): Promise<Decoded> {
  const { pkijs, asn1js } = await loadPkiLibraries();
  const contentInfo = pkijs.ContentInfo.fromBER(new Uint8Array(der));
  expect(contentInfo.contentType).toBe(CMS_OIDS.signedData);
  const signedData = new pkijs.SignedData({ schema: contentInfo.content });
  expect(signedData.signerInfos).toHaveLength(1);
  const signerInfo = signedData.signerInfos[0];
  const raw = Buffer.from(signerInfo.signedAttrs?.encodedValue ?? new ArrayBuffer(0));
  raw[0] = 0x31;
  const set = asn1js.fromBER(new Uint8Array(raw)).result as InstanceType<typeof asn1js.Set>;
  const encodings = set.valueBlock.value.map((child) => Buffer.from(child.valueBeforeDecodeView));
  const attributes = new Map(
    (signerInfo.signedAttrs?.attributes ?? []).map((attribute) => [attribute.type, attribute.values]),
  );
  const unsignedAttributes = new Map(
    (signerInfo.unsignedAttrs?.attributes ?? []).map((attribute) => [
      attribute.type,
      attribute.values.map((value) => Buffer.from(value.toBER(false))),
    ]),
  );
  return {
    version: signedData.version,
    eContentPresent: signedData.encapContentInfo.eContent !== undefined,
    eContentType: signedData.encapContentInfo.eContentType,
    certificates: (signedData.certificates ?? []).map((certificate) =>
      Buffer.from((certificate as InstanceType<typeof pkijs.Certificate>).toSchema().toBER(false)),
    ),
    signedAttributeEncodings: encodings,
    signedAttributesSet: raw,
    attributes,
    unsignedAttributes,
    signatureValue: Buffer.from(signerInfo.signature.valueBlock.valueHexView),
    digestAlgorithm: signerInfo.digestAlgorithm.algorithmId,
    signatureAlgorithm: signerInfo.signatureAlgorithm.algorithmId,
  };
}

describe('createDetachedCmsSignature', () => {
  let dir: string;
  let pki: DevPki;
  let signer: PemFileSigner;
  const content = Buffer.from(
    '<?xml version="1.0" encoding="UTF-8"?>\n<ReceiptContent>é</ReceiptContent>',
    'utf8',
  );
  const signingTime = new Date('2026-04-02T08:15:30.789Z');

  beforeAll(async () => {
    dir = mkdtempSync(path.join(os.tmpdir(), 'rm-cms-'));
    // openssl checks certificate validity against the real time.
    pki = await ensureDevPki(dir, new ManualClock(Date.now()));
    signer = new PemFileSigner(pki.signer.privateKey, pki.signer.certificateDer, [pki.ca.certificateDer]);
  });
  afterAll(() => rmSync(dir, { recursive: true, force: true }));

  test('is detached SignedData over id-data with the signer certificate and chain', async () => {
    const decoded = await decode(await createDetachedCmsSignature(content, signer, signingTime));
    expect(decoded.version).toBe(1);
    expect(decoded.eContentPresent).toBe(false);
    expect(decoded.eContentType).toBe(CMS_OIDS.data);
    expect(decoded.certificates).toEqual([pki.signer.certificateDer, pki.ca.certificateDer]);
    expect(decoded.digestAlgorithm).toBe(CMS_OIDS.sha256);
    expect(decoded.signatureAlgorithm).toBe(CMS_OIDS.rsaEncryption);
  });

  test('signs exactly four signed attributes, in DER order, and exactly their SET encoding', async () => {
    const decoded = await decode(await createDetachedCmsSignature(content, signer, signingTime));
    expect([...decoded.attributes.keys()].sort()).toEqual(
      [
        CMS_OIDS.contentType,
        CMS_OIDS.messageDigest,
        CMS_OIDS.signingTime,
        CMS_OIDS.signingCertificateV2,
      ].sort(),
    );
    const encodings = decoded.signedAttributeEncodings;
    expect(encodings).toHaveLength(4);
    expect([...encodings].sort(Buffer.compare)).toEqual(encodings);
    const publicKey = new X509Certificate(pki.signer.certificateDer).publicKey;
    const valid = verify(
      'sha256',
      decoded.signedAttributesSet,
      { key: publicKey, padding: constants.RSA_PKCS1_PADDING },
      decoded.signatureValue,
    );
    expect(valid).toBe(true);
  });

  test('the attributes state id-data, the content digest and the signing time', async () => {
    const { asn1js } = await loadPkiLibraries();
    const decoded = await decode(await createDetachedCmsSignature(content, signer, signingTime));
    const [contentType] = decoded.attributes.get(CMS_OIDS.contentType) ?? [];
    expect((contentType as InstanceType<typeof asn1js.ObjectIdentifier>).valueBlock.toString()).toBe(
      CMS_OIDS.data,
    );
    const [digest] = decoded.attributes.get(CMS_OIDS.messageDigest) ?? [];
    expect(Buffer.from((digest as InstanceType<typeof asn1js.OctetString>).valueBlock.valueHexView)).toEqual(
      createHash('sha256').update(content).digest(),
    );
    const [time] = decoded.attributes.get(CMS_OIDS.signingTime) ?? [];
    expect(time).toBeInstanceOf(asn1js.UTCTime);
    expect((time as InstanceType<typeof asn1js.UTCTime>).toDate()).toEqual(new Date('2026-04-02T08:15:30Z'));
  });

  test('signing-certificate-v2 holds the SHA-256 of the signer certificate and its IssuerSerial', async () => {
    const { pkijs, asn1js } = await loadPkiLibraries();
    const decoded = await decode(await createDetachedCmsSignature(content, signer, signingTime));
    const [value] = decoded.attributes.get(CMS_OIDS.signingCertificateV2) ?? [];
    const signingCertificate = value as InstanceType<typeof asn1js.Sequence>;
    const certs = signingCertificate.valueBlock.value[0] as InstanceType<typeof asn1js.Sequence>;
    expect(signingCertificate.valueBlock.value).toHaveLength(1); // no policies
    expect(certs.valueBlock.value).toHaveLength(1);
    const essCertIdV2 = certs.valueBlock.value[0] as InstanceType<typeof asn1js.Sequence>;
    const [hash, issuerSerial] = essCertIdV2.valueBlock.value;
    // hashAlgorithm omitted: the first component is the hash itself (RFC 5035 default SHA-256).
    expect(hash).toBeInstanceOf(asn1js.OctetString);
    expect(Buffer.from((hash as InstanceType<typeof asn1js.OctetString>).valueBlock.valueHexView)).toEqual(
      createHash('sha256').update(pki.signer.certificateDer).digest(),
    );
    const [generalNames, serial] = (issuerSerial as InstanceType<typeof asn1js.Sequence>).valueBlock.value;
    const certificate = pkijs.Certificate.fromBER(new Uint8Array(pki.signer.certificateDer));
    expect(Buffer.from(serial.toBER(false))).toEqual(Buffer.from(certificate.serialNumber.toBER(false)));
    const names = new pkijs.GeneralNames({ schema: generalNames });
    expect(names.names).toHaveLength(1);
    expect(names.names[0].type).toBe(4);
    expect(
      (names.names[0].value as InstanceType<typeof pkijs.RelativeDistinguishedNames>).isEqual(
        certificate.issuer,
      ),
    ).toBe(true);
  });

  test('writes GeneralizedTime from 2050 on', async () => {
    const { asn1js } = await loadPkiLibraries();
    const decoded = await decode(
      await createDetachedCmsSignature(content, signer, new Date('2050-01-01T00:00:00Z')),
    );
    const [time] = decoded.attributes.get(CMS_OIDS.signingTime) ?? [];
    expect(time).toBeInstanceOf(asn1js.GeneralizedTime);
  });

  test('adds unsigned attributes computed from the signature value', async () => {
    let seen: Buffer | undefined;
    const marker = Buffer.from([0x04, 0x03, 0x01, 0x02, 0x03]); // OCTET STRING 010203
    const der = await createDetachedCmsSignature(content, signer, signingTime, {
      unsignedAttributes: async (signatureValue) => {
        seen = signatureValue;
        return [{ type: CMS_OIDS.signatureTimeStampToken, values: [marker] }];
      },
    });
    const decoded = await decode(der);
    expect(seen).toEqual(decoded.signatureValue);
    expect(decoded.unsignedAttributes.get(CMS_OIDS.signatureTimeStampToken)).toEqual([marker]);
    expect(decoded.attributes.size).toBe(4);
  });

  test('keeps unsigned attribute values byte for byte (a time-stamp token is itself signed)', async () => {
    const token = pki.ca.certificateDer; // stands for a token: a large signed DER structure
    const longFormLength = Buffer.from([0x04, 0x81, 0x01, 0xaa]); // BER, not DER: kept as given too
    const der = await createDetachedCmsSignature(content, signer, signingTime, {
      unsignedAttributes: async () => [
        { type: CMS_OIDS.signatureTimeStampToken, values: [token] },
        { type: '1.2.3.4', values: [longFormLength] },
      ],
    });
    const decoded = await decode(der);
    expect(decoded.unsignedAttributes.get(CMS_OIDS.signatureTimeStampToken)).toEqual([token]);
    expect(der.indexOf(longFormLength)).toBeGreaterThan(0);
  });

  test('reports a signer failure', async () => {
    const failing = {
      certificate: signer.certificate,
      chain: signer.chain,
      sign: () => Promise.reject(new Error('HSM down')),
    };
    await expect(createDetachedCmsSignature(content, failing, signingTime)).rejects.toThrow('HSM down');
  });

  describe('with openssl cms -verify', () => {
    const opensslVerify = (signature: Buffer, signedContent: Buffer) =>
      opensslCmsVerify(signature, signedContent, pki.ca.certPemPath);

    withOpenssl('accepts the signature over the content', async () => {
      const result = opensslVerify(await createDetachedCmsSignature(content, signer, new Date()), content);
      expect(result.output).toContain('Verification successful');
      expect(result.status).toBe(0);
    });

    withOpenssl('refuses it when one byte of the content changes', async () => {
      const signature = await createDetachedCmsSignature(content, signer, new Date());
      const changed = Buffer.from(content);
      changed[changed.length - 3] ^= 0x01;
      const result = opensslVerify(signature, changed);
      expect(result.status).not.toBe(0);
      expect(result.output).toContain('Verification failure');
    });

    withOpenssl('accepts a signature carrying an unsigned attribute', async () => {
      const signature = await createDetachedCmsSignature(content, signer, new Date(), {
        unsignedAttributes: async () => [
          { type: CMS_OIDS.signatureTimeStampToken, values: [Buffer.from([0x05, 0x00])] },
        ],
      });
      expect(opensslVerify(signature, content).status).toBe(0);
    });
  });
});
