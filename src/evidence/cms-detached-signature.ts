import { createHash } from 'node:crypto';
import { loadPkiLibraries, type PkiLibraries } from '../pki/crypto-engines';
import type { DocumentSigner } from './document-signer';

/*
 * A detached CMS SignedData (RFC 5652) in the CAdES-BES form the contract describes: SHA-256, RSA,
 * signed attributes content-type, message-digest, signing-time and signing-certificate-v2. The
 * signed attributes are encoded once, as a DER SET OF sorted by encoding (Bouncy Castle rejects an
 * unsorted SET); exactly those bytes are signed, and exactly those bytes are checked to appear in the
 * output.
 */

/** Object identifiers used here. */
export const CMS_OIDS = {
  data: '1.2.840.113549.1.7.1',
  signedData: '1.2.840.113549.1.7.2',
  contentType: '1.2.840.113549.1.9.3',
  messageDigest: '1.2.840.113549.1.9.4',
  signingTime: '1.2.840.113549.1.9.5',
  signingCertificateV2: '1.2.840.113549.1.9.16.2.47',
  signatureTimeStampToken: '1.2.840.113549.1.9.16.2.14',
  sha256: '2.16.840.1.101.3.4.2.1',
  rsaEncryption: '1.2.840.113549.1.1.1',
} as const;

/**
 * An attribute: its type and the encoding (DER) of each of its values. Values reach the output byte for
 * byte (checked): a time-stamp token's own signature depends on it.
 */
export interface CmsAttribute {
  type: string;
  values: Buffer[];
}

/** Optional parts of a detached signature. */
export interface DetachedSignatureOptions {
  /**
   * Computes unsigned attributes from the signature value once it exists: the place for the RFC 3161
   * signature-time-stamp (whose message imprint is the hash of the signature value).
   */
  unsignedAttributes?: (signatureValue: Buffer) => Promise<CmsAttribute[]>;
  /**
   * Computes what SignedData carries for long-term validation (CAdES-B-LT), once the unsigned attributes
   * exist (a time-stamp token names the TSA whose chain belongs there). Without it: the signer's
   * certificate and chain, no CRLs.
   */
  validationData?: (unsignedAttributes: CmsAttribute[]) => Promise<ValidationData>;
}

/** SignedData's `certificates` and `crls` (DER each), written in the given order. */
export interface ValidationData {
  certificates: Buffer[];
  crls: Buffer[];
}

type Asn1js = PkiLibraries['asn1js'];
type Asn1Value = InstanceType<Asn1js['BaseBlock']>;

/**
 * Signs `content` and returns the DER of a ContentInfo holding a detached SignedData: no eContent
 * (eContentType id-data), the signer's certificate and chain in `certificates`, one SignerInfo
 * (issuerAndSerialNumber, SHA-256, rsaEncryption) whose signature comes from `signer.sign`.
 * @param signingTime written as the signing-time attribute (UTCTime until 2049, then GeneralizedTime)
 */
export async function createDetachedCmsSignature(
  content: Buffer,
  signer: DocumentSigner,
  signingTime: Date,
  options: DetachedSignatureOptions = {},
): Promise<Buffer> {
  const libraries = await loadPkiLibraries();
  const { pkijs, asn1js } = libraries;
  const { signerCertificate, certificates } = parsedCertificates(libraries, signer);

  const signedAttributes = sortByEncoding([
    encodeAttribute(asn1js, CMS_OIDS.contentType, [new asn1js.ObjectIdentifier({ value: CMS_OIDS.data })]),
    encodeAttribute(asn1js, CMS_OIDS.messageDigest, [new asn1js.OctetString({ valueHex: sha256(content) })]),
    encodeAttribute(asn1js, CMS_OIDS.signingTime, [encodeTime(asn1js, signingTime)]),
    encodeAttribute(asn1js, CMS_OIDS.signingCertificateV2, [
      signingCertificateV2(libraries, signer.certificate, signerCertificate),
    ]),
  ]);
  const signedAttributesSet = derSetOf(signedAttributes);
  const signatureValue = await signer.sign(signedAttributesSet);

  const signerInfo = new pkijs.SignerInfo({
    version: 1,
    sid: new pkijs.IssuerAndSerialNumber({
      issuer: signerCertificate.issuer,
      serialNumber: signerCertificate.serialNumber,
    }),
    digestAlgorithm: new pkijs.AlgorithmIdentifier({ algorithmId: CMS_OIDS.sha256 }),
    signedAttrs: attributeSet(libraries, 0, signedAttributes),
    signatureAlgorithm: new pkijs.AlgorithmIdentifier({
      algorithmId: CMS_OIDS.rsaEncryption,
      algorithmParams: new asn1js.Null(),
    }),
    signature: new asn1js.OctetString({ valueHex: signatureValue }),
  });
  const unsigned = (await options.unsignedAttributes?.(signatureValue)) ?? [];
  if (unsigned.length > 0) {
    signerInfo.unsignedAttrs = attributeSet(
      libraries,
      1,
      sortByEncoding(unsigned.map((attribute) => encodeAttributeFromDer(asn1js, attribute))),
    );
  }

  const validation = await options.validationData?.(unsigned);
  const signedData = new pkijs.SignedData({
    version: 1,
    digestAlgorithms: [new pkijs.AlgorithmIdentifier({ algorithmId: CMS_OIDS.sha256 })],
    encapContentInfo: new pkijs.EncapsulatedContentInfo({ eContentType: CMS_OIDS.data }),
    certificates: validation
      ? validation.certificates.map((der) => pkijs.Certificate.fromBER(new Uint8Array(der)))
      : certificates,
    signerInfos: [signerInfo],
  });
  // Version 1 stays right: only X.509 certificates and X.509 CRLs (RFC 5652 section 5.1).
  if (validation && validation.crls.length > 0) {
    signedData.crls = validation.crls.map((der) =>
      pkijs.CertificateRevocationList.fromBER(new Uint8Array(der)),
    );
  }
  const contentInfo = new pkijs.ContentInfo({
    contentType: CMS_OIDS.signedData,
    content: signedData.toSchema(),
  });
  const der = Buffer.from(contentInfo.toSchema().toBER(false));

  assertSignedAttributesKept(der, signedAttributesSet);
  assertUnsignedValuesKept(der, unsigned);
  if (validation) assertValuesKept(der, [...validation.certificates, ...validation.crls]);
  return der;
}

function sha256(data: Buffer): Buffer {
  return createHash('sha256').update(data).digest();
}

/** `Attribute ::= SEQUENCE { attrType OID, attrValues SET OF AttributeValue }`, as DER. */
export function encodeAttribute(asn1js: Asn1js, type: string, values: Asn1Value[]): Buffer {
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

function encodeAttributeFromDer(asn1js: Asn1js, attribute: CmsAttribute): Buffer {
  return encodeAttribute(asn1js, attribute.type, attribute.values.map(parse(asn1js)));
}

function parse(asn1js: Asn1js): (der: Buffer) => Asn1Value {
  return (der) => {
    const parsed = asn1js.fromBER(der);
    if (parsed.offset === -1 || parsed.offset !== der.length)
      throw new Error('attribute value is not one DER value');
    return parsed.result;
  };
}

/** RFC 5652 section 11.3: UTCTime for 1950..2049, GeneralizedTime otherwise. */
function encodeTime(asn1js: Asn1js, time: Date): Asn1Value {
  const whole = new Date(Math.floor(time.getTime() / 1000) * 1000);
  const year = whole.getUTCFullYear();
  return year >= 1950 && year < 2050
    ? new asn1js.UTCTime({ valueDate: whole })
    : new asn1js.GeneralizedTime({ valueDate: whole });
}

/**
 * RFC 5035 `SigningCertificateV2 ::= SEQUENCE { certs SEQUENCE OF ESSCertIDv2 }` with one ESSCertIDv2:
 * the SHA-256 of the certificate (hashAlgorithm omitted: SHA-256 is the default) and its IssuerSerial.
 */
export function signingCertificateV2(
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

/** DER SET OF order: components sorted as octet strings (X.690 section 11.6). */
export function sortByEncoding(encodings: Buffer[]): Buffer[] {
  return [...encodings].sort(Buffer.compare);
}

function derLength(length: number): Buffer {
  if (length < 0x80) return Buffer.from([length]);
  const octets: number[] = [];
  for (let rest = length; rest > 0; rest = Math.floor(rest / 256)) octets.unshift(rest % 256);
  return Buffer.from([0x80 | octets.length, ...octets]);
}

/** The SET OF whose encoding the signature covers (RFC 5652 section 5.4: the explicit SET tag). */
export function derSetOf(sortedEncodings: Buffer[]): Buffer {
  const body = Buffer.concat(sortedEncodings);
  return Buffer.concat([Buffer.from([0x31]), derLength(body.length), body]);
}

/** `[tag] IMPLICIT SET OF Attribute` of a SignerInfo, in the given order. */
function attributeSet({ pkijs }: PkiLibraries, tag: 0 | 1, sortedEncodings: Buffer[]) {
  return new pkijs.SignedAndUnsignedAttributes({
    type: tag,
    attributes: sortedEncodings.map((der) => pkijs.Attribute.fromBER(new Uint8Array(der))),
  });
}

/**
 * Guards the invariant that the output carries exactly the bytes that were signed: the SET, under its
 * `[0] IMPLICIT` tag in the SignerInfo.
 */
function assertSignedAttributesKept(der: Buffer, signed: Buffer): void {
  const written = Buffer.from(signed);
  written[0] = 0xa0;
  if (der.indexOf(written) === -1) throw new Error('CMS encoding changed the signed attributes');
}

/** A time-stamp token is itself signed: its bytes must reach the output unchanged. */
function assertUnsignedValuesKept(der: Buffer, attributes: CmsAttribute[]): void {
  for (const attribute of attributes) {
    if (attribute.values.some((value) => der.indexOf(value) === -1)) {
      throw new Error(`unsigned attribute ${attribute.type}: a value would not be written unchanged`);
    }
  }
}

/** Certificates and CRLs are signed structures too: re-encoding must not change a byte of them. */
function assertValuesKept(der: Buffer, values: Buffer[]): void {
  if (values.some((value) => der.indexOf(value) === -1)) {
    throw new Error('a certificate or CRL would not be written unchanged');
  }
}

type PkijsCertificate = InstanceType<PkiLibraries['pkijs']['Certificate']>;

interface ParsedSignerCertificates {
  signerCertificate: PkijsCertificate;
  /** The signer certificate, then its chain. */
  certificates: PkijsCertificate[];
}

/** Parsing with pkijs costs milliseconds per certificate, and a signer's certificates never change. */
const parsedBySigner = new WeakMap<DocumentSigner, ParsedSignerCertificates>();

function parsedCertificates({ pkijs }: PkiLibraries, signer: DocumentSigner): ParsedSignerCertificates {
  let parsed = parsedBySigner.get(signer);
  if (parsed === undefined) {
    const certificates = [signer.certificate, ...signer.chain].map((der) =>
      pkijs.Certificate.fromBER(new Uint8Array(der)),
    );
    parsed = { signerCertificate: certificates[0], certificates };
    parsedBySigner.set(signer, parsed);
  }
  return parsed;
}
