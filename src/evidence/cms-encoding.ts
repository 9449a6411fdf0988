import { hash } from 'node:crypto';
import { DER_TAG, readSingleDerElement } from '../pki/der';
import {
  contextTag,
  derContext,
  derObjectIdentifier,
  derOctetString,
  derSequence,
  derSetOf,
  derNull,
  derSmallInteger,
  derTlv,
  derTree,
  sortByEncoding,
  writeDer,
  type DerPart,
  type DerTree,
} from '../pki/der-writer';
import { readCertificateFields } from '../timestamping/certificate-fields';
import type { DocumentSigner } from './document-signer';

/*
 * The CMS (RFC 5652) pieces that the detached proof signatures and the time-stamp tokens share, written
 * as DER: attributes, algorithm identifiers, and what depends only on the signer (its certificates, its
 * IssuerAndSerialNumber, its signing-certificate-v2 attribute), encoded once per DocumentSigner.
 */

/** Object identifiers used by the CMS signatures. */
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

/** AlgorithmIdentifiers as DER. */
export const CMS_ALGORITHMS = {
  /** SHA-256, parameters absent (RFC 5754 section 2). */
  sha256: derSequence(derObjectIdentifier(CMS_OIDS.sha256)),
  /** rsaEncryption with NULL parameters (RFC 3370 section 3.2): PKCS#1 v1.5 signatures. */
  rsaEncryption: derSequence(derObjectIdentifier(CMS_OIDS.rsaEncryption), derNull()),
} as const;

/** SignedData's `digestAlgorithms`: SHA-256 alone. */
export const SHA256_DIGEST_ALGORITHMS = derTlv(DER_TAG.set, CMS_ALGORITHMS.sha256);

const SIGNED_DATA_OID = derObjectIdentifier(CMS_OIDS.signedData);
/** SignerInfo version 1: the signer named by issuerAndSerialNumber (RFC 5652 section 5.3). */
const SIGNER_INFO_VERSION_1 = derSmallInteger(1);

/** Signed attributes in DER order, and the signature over them. */
export interface SignedAttributes {
  /** The attributes, sorted by encoding as a DER SET OF. */
  attributes: Buffer[];
  signatureValue: Buffer;
}

/**
 * Sorts the signed attributes into DER order and signs them. The signature covers them with the explicit
 * SET OF tag (RFC 5652 section 5.4), not with the `[0] IMPLICIT` tag they carry in the SignerInfo.
 */
export async function signAttributes(
  signer: DocumentSigner,
  attributes: readonly Buffer[],
): Promise<SignedAttributes> {
  const sorted = sortByEncoding(attributes);
  return { attributes: sorted, signatureValue: await signer.sign(derTlv(DER_TAG.set, ...sorted)) };
}

/**
 * A SignerInfo (RFC 5652 section 5.3) of `signer`'s encodings: version 1, issuerAndSerialNumber, SHA-256,
 * the signed attributes and their signature ({@link signAttributes}), rsaEncryption, and the unsigned
 * attributes in DER order when there are any. A tree, for
 * {@link signedDataContentInfo} to write once: an unsigned time-stamp token is kilobytes.
 */
export function signerInfoTree(
  encodings: CmsSignerEncodings,
  signed: SignedAttributes,
  unsignedAttributes: readonly Buffer[] = [],
): DerTree {
  return derTree(
    DER_TAG.sequence,
    SIGNER_INFO_VERSION_1,
    encodings.issuerAndSerialNumber,
    CMS_ALGORITHMS.sha256,
    derTree(contextTag(0), ...signed.attributes), // [0] IMPLICIT SET OF Attribute
    CMS_ALGORITHMS.rsaEncryption,
    derOctetString(signed.signatureValue),
    unsignedAttributes.length > 0
      ? derTree(contextTag(1), ...sortByEncoding(unsignedAttributes)) // [1] IMPLICIT SET OF Attribute
      : Buffer.alloc(0),
  );
}

/**
 * The DER of a ContentInfo holding `signedData` (id-signedData, `[0] EXPLICIT`), written once: the
 * certificates and tokens nested in it are copied a single time.
 */
export function signedDataContentInfo(signedData: DerPart): Buffer {
  return writeDer(derTree(DER_TAG.sequence, SIGNED_DATA_OID, derTree(contextTag(0), signedData)));
}

/**
 * `Attribute ::= SEQUENCE { attrType OID, attrValues SET OF AttributeValue }`, values in DER order.
 * @param values the DER of each value, written byte for byte
 * @throws DerError when a value is not exactly one DER element
 */
export function encodeAttribute(type: string, values: readonly Buffer[]): Buffer {
  for (const value of values) readSingleDerElement(value);
  return derSequence(derObjectIdentifier(type), derSetOf(values));
}

/** The message-digest attribute: SHA-256 of `content`. */
export function messageDigestAttribute(content: Buffer): Buffer {
  return derSequence(MESSAGE_DIGEST_OID, derSetOf([derOctetString(hash('sha256', content, 'buffer'))]));
}

const MESSAGE_DIGEST_OID = derObjectIdentifier(CMS_OIDS.messageDigest);

/** What CMS writes about one signer, as DER. */
export interface CmsSignerEncodings {
  /** The signer's certificate, then its chain, each DER (as the DocumentSigner gives them). */
  certificates: readonly Buffer[];
  /** `IssuerAndSerialNumber ::= SEQUENCE { issuer Name, serialNumber CertificateSerialNumber }`. */
  issuerAndSerialNumber: Buffer;
  /**
   * The signing-certificate-v2 attribute (RFC 5035): `SigningCertificateV2 ::= SEQUENCE { certs SEQUENCE
   * OF ESSCertIDv2 }` with one ESSCertIDv2: the SHA-256 of the certificate (hashAlgorithm omitted:
   * SHA-256 is the default) and its IssuerSerial (issuer as a directoryName GeneralName, serial number).
   */
  signingCertificateV2Attribute: Buffer;
}

/** A signer's certificates never change: their encodings are computed once, when first signing. */
const encodingsBySigner = new WeakMap<DocumentSigner, CmsSignerEncodings>();

/**
 * The encodings of `signer` (computed on first use, then cached for the signer's lifetime).
 * @throws DerError when the signer's certificate is not DER
 */
export function cmsSignerEncodings(signer: DocumentSigner): CmsSignerEncodings {
  let encodings = encodingsBySigner.get(signer);
  if (encodings === undefined) {
    encodings = encodeSigner(signer);
    encodingsBySigner.set(signer, encodings);
  }
  return encodings;
}

function encodeSigner(signer: DocumentSigner): CmsSignerEncodings {
  const certificate = Buffer.from(signer.certificate);
  const { issuerDer, serialNumberDer } = readCertificateFields(certificate);
  const issuerSerial = derSequence(derSequence(derContext(4, issuerDer)), serialNumberDer);
  const essCertIdV2 = derSequence(derOctetString(hash('sha256', certificate, 'buffer')), issuerSerial);
  return {
    certificates: [certificate, ...signer.chain.map((der) => Buffer.from(der))],
    issuerAndSerialNumber: derSequence(issuerDer, serialNumberDer),
    signingCertificateV2Attribute: encodeAttribute(CMS_OIDS.signingCertificateV2, [
      derSequence(derSequence(essCertIdV2)),
    ]),
  };
}
