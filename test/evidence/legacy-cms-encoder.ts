import { createHash } from 'node:crypto';
import type { DocumentSigner } from '../../src/evidence/document-signer';
import { loadPkiLibraries, type PkiLibraries } from '../../src/pki/crypto-engines';
import { readCertificateFields } from '../../src/timestamping/certificate-fields';

/*
 * The CMS encoders as they were before they wrote DER directly: createDetachedCmsSignature built with
 * pkijs/asn1js, and signTimeStampToken encoding its signed attributes with asn1js. Kept here only so
 * that a test can check, byte for byte, that the direct encoders write exactly what these wrote (RSA
 * PKCS#1 v1.5 is deterministic: same signer, same inputs, same bytes). Their own small DER helpers are
 * copied too, so that a change to the service's DER writer cannot change both sides at once.
 */

const OIDS = {
  data: '1.2.840.113549.1.7.1',
  signedData: '1.2.840.113549.1.7.2',
  contentType: '1.2.840.113549.1.9.3',
  messageDigest: '1.2.840.113549.1.9.4',
  signingTime: '1.2.840.113549.1.9.5',
  signingCertificateV2: '1.2.840.113549.1.9.16.2.47',
  sha256: '2.16.840.1.101.3.4.2.1',
  rsaEncryption: '1.2.840.113549.1.1.1',
  tstInfo: '1.2.840.113549.1.9.16.1.4',
} as const;

/** An attribute: its type and the DER of each value (as the service's CmsAttribute). */
export interface LegacyAttribute {
  type: string;
  values: Buffer[];
}

/** The options of the old createDetachedCmsSignature. */
export interface LegacyOptions {
  unsignedAttributes?: (signatureValue: Buffer) => Promise<LegacyAttribute[]>;
  validationData?: (unsigned: LegacyAttribute[]) => Promise<{ certificates: Buffer[]; crls: Buffer[] }>;
}

type Asn1js = PkiLibraries['asn1js'];
type Asn1Value = InstanceType<Asn1js['BaseBlock']>;
type PkijsCertificate = InstanceType<PkiLibraries['pkijs']['Certificate']>;

/** The old createDetachedCmsSignature (pkijs SignedData). */
export async function legacyCreateDetachedCmsSignature(
  content: Buffer,
  signer: DocumentSigner,
  signingTime: Date,
  options: LegacyOptions = {},
): Promise<Buffer> {
  const libraries = await loadPkiLibraries();
  const { pkijs, asn1js } = libraries;
  const certificates = parsedCertificates(libraries, signer);
  const signerCertificate = certificates[0];

  const signedAttributes = sortByEncoding([
    encodeAttribute(asn1js, OIDS.contentType, [new asn1js.ObjectIdentifier({ value: OIDS.data })]),
    encodeAttribute(asn1js, OIDS.messageDigest, [new asn1js.OctetString({ valueHex: sha256(content) })]),
    encodeAttribute(asn1js, OIDS.signingTime, [encodeTime(asn1js, signingTime)]),
    encodeAttribute(asn1js, OIDS.signingCertificateV2, [
      signingCertificateV2(libraries, signer.certificate, signerCertificate),
    ]),
  ]);
  const signatureValue = await signer.sign(setOf(signedAttributes));

  const signerInfo = new pkijs.SignerInfo({
    version: 1,
    sid: new pkijs.IssuerAndSerialNumber({
      issuer: signerCertificate.issuer,
      serialNumber: signerCertificate.serialNumber,
    }),
    digestAlgorithm: new pkijs.AlgorithmIdentifier({ algorithmId: OIDS.sha256 }),
    signedAttrs: attributeSet(libraries, 0, signedAttributes),
    signatureAlgorithm: new pkijs.AlgorithmIdentifier({
      algorithmId: OIDS.rsaEncryption,
      algorithmParams: new asn1js.Null(),
    }),
    signature: new asn1js.OctetString({ valueHex: signatureValue }),
  });
  const unsigned = (await options.unsignedAttributes?.(signatureValue)) ?? [];
  if (unsigned.length > 0) {
    signerInfo.unsignedAttrs = attributeSet(
      libraries,
      1,
      sortByEncoding(
        unsigned.map((attribute) =>
          encodeAttribute(asn1js, attribute.type, attribute.values.map(parse(asn1js))),
        ),
      ),
    );
  }
  const validation = await options.validationData?.(unsigned);
  const signedData = new pkijs.SignedData({
    version: 1,
    digestAlgorithms: [new pkijs.AlgorithmIdentifier({ algorithmId: OIDS.sha256 })],
    encapContentInfo: new pkijs.EncapsulatedContentInfo({ eContentType: OIDS.data }),
    certificates: validation
      ? validation.certificates.map((der) => pkijs.Certificate.fromBER(new Uint8Array(der)))
      : certificates,
    signerInfos: [signerInfo],
  });
  if (validation && validation.crls.length > 0) {
    signedData.crls = validation.crls.map((der) =>
      pkijs.CertificateRevocationList.fromBER(new Uint8Array(der)),
    );
  }
  const contentInfo = new pkijs.ContentInfo({ contentType: OIDS.signedData, content: signedData.toSchema() });
  return Buffer.from(contentInfo.toSchema().toBER(false));
}

/** The old signTimeStampToken (signed attributes through asn1js, the rest written as DER). */
export async function legacySignTimeStampToken(
  tstInfoDer: Buffer,
  signer: DocumentSigner,
  includeCertificates: boolean,
): Promise<Buffer> {
  const libraries = await loadPkiLibraries();
  const { asn1js } = libraries;
  const [certificate] = parsedCertificates(libraries, signer);
  const signedAttributes = sortByEncoding([
    encodeAttribute(asn1js, OIDS.contentType, [new asn1js.ObjectIdentifier({ value: OIDS.tstInfo })]),
    encodeAttribute(asn1js, OIDS.messageDigest, [new asn1js.OctetString({ valueHex: sha256(tstInfoDer) })]),
    encodeAttribute(asn1js, OIDS.signingCertificateV2, [
      signingCertificateV2(libraries, signer.certificate, certificate),
    ]),
  ]);
  const signature = await signer.sign(setOf(signedAttributes));

  const { issuerDer, serialNumberDer } = readCertificateFields(signer.certificate);
  const sha256Algorithm = tlv(0x30, objectIdentifier(asn1js, OIDS.sha256));
  const signerInfo = tlv(
    0x30,
    Buffer.from([0x02, 0x01, 0x01]),
    tlv(0x30, issuerDer, serialNumberDer),
    sha256Algorithm,
    tlv(0xa0, ...signedAttributes),
    tlv(0x30, objectIdentifier(asn1js, OIDS.rsaEncryption), Buffer.from([0x05, 0x00])),
    tlv(0x04, signature),
  );
  const certificates = includeCertificates
    ? tlv(0xa0, ...sortByEncoding([signer.certificate, ...signer.chain]))
    : Buffer.alloc(0);
  const signedData = tlv(
    0x30,
    Buffer.from([0x02, 0x01, 0x03]),
    tlv(0x31, sha256Algorithm),
    tlv(0x30, objectIdentifier(asn1js, OIDS.tstInfo), tlv(0xa0, tlv(0x04, tstInfoDer))),
    certificates,
    tlv(0x31, signerInfo),
  );
  return tlv(0x30, objectIdentifier(asn1js, OIDS.signedData), tlv(0xa0, signedData));
}

/** As before: parsing with pkijs was cached per signer. */
const parsedBySigner = new WeakMap<DocumentSigner, PkijsCertificate[]>();

function parsedCertificates({ pkijs }: PkiLibraries, signer: DocumentSigner): PkijsCertificate[] {
  let parsed = parsedBySigner.get(signer);
  if (parsed === undefined) {
    parsed = [signer.certificate, ...signer.chain].map((der) =>
      pkijs.Certificate.fromBER(new Uint8Array(der)),
    );
    parsedBySigner.set(signer, parsed);
  }
  return parsed;
}

function sha256(data: Buffer): Buffer {
  return createHash('sha256').update(data).digest();
}

function objectIdentifier(asn1js: Asn1js, oid: string): Buffer {
  return Buffer.from(new asn1js.ObjectIdentifier({ value: oid }).toBER(false));
}

function encodeAttribute(asn1js: Asn1js, type: string, values: Asn1Value[]): Buffer {
  const encodedValues = sortByEncoding(values.map((value) => Buffer.from(value.toBER(false))));
  return Buffer.from(
    new asn1js.Sequence({
      value: [
        new asn1js.ObjectIdentifier({ value: type }),
        new asn1js.Set({ value: encodedValues.map(parse(asn1js)) }),
      ],
    }).toBER(false),
  );
}

function parse(asn1js: Asn1js): (der: Buffer) => Asn1Value {
  return (der) => {
    const parsed = asn1js.fromBER(der);
    if (parsed.offset === -1 || parsed.offset !== der.length)
      throw new Error('attribute value is not one DER value');
    return parsed.result;
  };
}

function encodeTime(asn1js: Asn1js, time: Date): Asn1Value {
  const whole = new Date(Math.floor(time.getTime() / 1000) * 1000);
  const year = whole.getUTCFullYear();
  return year >= 1950 && year < 2050
    ? new asn1js.UTCTime({ valueDate: whole })
    : new asn1js.GeneralizedTime({ valueDate: whole });
}

function signingCertificateV2(
  { pkijs, asn1js }: PkiLibraries,
  certificateDer: Buffer,
  certificate: PkijsCertificate,
): Asn1Value {
  const issuerSerial = new asn1js.Sequence({
    value: [
      new pkijs.GeneralNames({
        names: [new pkijs.GeneralName({ type: 4, value: certificate.issuer })],
      }).toSchema(),
      certificate.serialNumber,
    ],
  });
  const essCertIdV2 = new asn1js.Sequence({
    value: [new asn1js.OctetString({ valueHex: sha256(certificateDer) }), issuerSerial],
  });
  return new asn1js.Sequence({ value: [new asn1js.Sequence({ value: [essCertIdV2] })] });
}

function sortByEncoding(encodings: Buffer[]): Buffer[] {
  return [...encodings].sort(Buffer.compare);
}

function length(n: number): Buffer {
  if (n < 0x80) return Buffer.from([n]);
  const octets: number[] = [];
  for (let rest = n; rest > 0; rest = Math.floor(rest / 256)) octets.unshift(rest % 256);
  return Buffer.from([0x80 | octets.length, ...octets]);
}

function tlv(tag: number, ...parts: Buffer[]): Buffer {
  const body = Buffer.concat(parts);
  return Buffer.concat([Buffer.from([tag]), length(body.length), body]);
}

function setOf(sortedEncodings: Buffer[]): Buffer {
  return tlv(0x31, ...sortedEncodings);
}

function attributeSet({ pkijs }: PkiLibraries, tag: 0 | 1, sortedEncodings: Buffer[]) {
  return new pkijs.SignedAndUnsignedAttributes({
    type: tag,
    attributes: sortedEncodings.map((der) => pkijs.Attribute.fromBER(new Uint8Array(der))),
  });
}
