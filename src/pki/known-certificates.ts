import { createHash, X509Certificate, type KeyObject } from 'node:crypto';
import { certificateDigest } from './certificate-digest';
import {
  decodeInteger,
  decodeObjectIdentifier,
  DER_TAG,
  derChildren,
  DerError,
  readSingleDerElement,
  type DerElement,
} from './der';
import { nameFromDer, parseDistinguishedName, sameName, type ComparableName } from './distinguished-name';

/*
 * The certificates the service knows (those of RM_SENDER_CERTS_DIR), indexed by the three ways a
 * WS-Security SecurityTokenReference can name a certificate without carrying it: issuer and serial
 * number, subject key identifier, and SHA-1 thumbprint. Built once at start-up (each certificate parsed
 * then, its public key kept for every request that uses it); lookups are read-only.
 */

const SUBJECT_KEY_IDENTIFIER = '2.5.29.14';

/** A known certificate and the identifiers a SecurityTokenReference may name it by. */
export interface KnownCertificate {
  /** DER of the certificate. */
  der: Buffer;
  /** Its public key, read once at start-up. */
  publicKey: KeyObject;
  /** The issuer name, in comparable form. */
  issuer: ComparableName;
  serialNumber: bigint;
  /**
   * The subject key identifier as WSS4J 1.6 computes it (`CryptoBase.getSKIBytesFromCert`): the
   * subjectKeyIdentifier extension's key identifier for a v3 certificate that has one; otherwise SHA-1
   * of the subjectPublicKey BIT STRING's bits (RFC 5280 section 4.2.1.2, method 1).
   */
  subjectKeyIdentifier: Buffer;
  /** SHA-1 of the whole certificate DER (WS-Security 1.1 ThumbprintSHA1). */
  thumbprintSha1: Buffer;
}

/** The parts of a TBSCertificate the index reads. */
interface CertificateFields {
  version: number;
  serialNumber: bigint;
  issuerDer: Buffer;
  subjectPublicKeyBits: Buffer;
  extensions: { id: string; value: Buffer }[];
}

/** Reads version, serial, issuer, public key bits and extensions from a certificate's DER. */
function readCertificateFields(der: Buffer): CertificateFields {
  const [tbs] = derChildren(readSingleDerElement(der), DER_TAG.sequence);
  if (tbs === undefined) throw new DerError('no TBSCertificate');
  const fields = derChildren(tbs, DER_TAG.sequence);
  let index = 0;
  let version = 1;
  // [0] EXPLICIT Version DEFAULT v1
  if (fields[0]?.tag === 0xa0) {
    const [versionElement] = derChildren(fields[0]);
    version = Number(decodeInteger(versionElement)) + 1;
    index = 1;
  }
  const [serial, , issuer, , , spki, ...optional] = fields.slice(index);
  if (serial === undefined || issuer === undefined || spki === undefined) {
    throw new DerError('truncated TBSCertificate');
  }
  const [, subjectPublicKey] = derChildren(spki, DER_TAG.sequence);
  if (subjectPublicKey?.tag !== DER_TAG.bitString || subjectPublicKey.content.length === 0) {
    throw new DerError('no subjectPublicKey BIT STRING');
  }
  // [3] EXPLICIT Extensions
  const extensionsField = optional.find((element) => element.tag === 0xa3);
  const extensions = extensionsField
    ? derChildren(derChildren(extensionsField)[0], DER_TAG.sequence).map(readExtension)
    : [];
  return {
    version,
    serialNumber: decodeInteger(serial),
    issuerDer: issuer.der,
    subjectPublicKeyBits: subjectPublicKey.content.subarray(1),
    extensions,
  };
}

function readExtension(extension: DerElement): { id: string; value: Buffer } {
  const parts = derChildren(extension, DER_TAG.sequence);
  const id = parts[0];
  const value = parts[parts.length - 1];
  if (id?.tag !== DER_TAG.objectIdentifier || value?.tag !== DER_TAG.octetString) {
    throw new DerError('malformed Extension');
  }
  return { id: decodeObjectIdentifier(id.content), value: value.content };
}

/** The subject key identifier as WSS4J computes it (see {@link KnownCertificate.subjectKeyIdentifier}). */
function subjectKeyIdentifierOf(fields: CertificateFields): Buffer {
  const extension = fields.extensions.find((candidate) => candidate.id === SUBJECT_KEY_IDENTIFIER);
  if (fields.version >= 3 && extension !== undefined) {
    const keyIdentifier = readSingleDerElement(extension.value);
    if (keyIdentifier.tag !== DER_TAG.octetString) throw new DerError('malformed SubjectKeyIdentifier');
    return Buffer.from(keyIdentifier.content);
  }
  return createHash('sha1').update(fields.subjectPublicKeyBits).digest();
}

/**
 * Reads the identifiers of one certificate.
 * @throws Error when the DER is not an X.509 certificate
 */
export function knownCertificate(der: Buffer): KnownCertificate {
  // Throws unless OpenSSL reads it as X.509, before the DER walk below.
  const { publicKey } = new X509Certificate(der);
  const fields = readCertificateFields(der);
  return {
    der: Buffer.from(der),
    publicKey,
    issuer: nameFromDer(fields.issuerDer),
    serialNumber: fields.serialNumber,
    subjectKeyIdentifier: subjectKeyIdentifierOf(fields),
    thumbprintSha1: createHash('sha1').update(der).digest(),
  };
}

/**
 * The certificates issuer-serial, subject key identifier and thumbprint references resolve against.
 * Every lookup returns all matches: the caller decides that anything but exactly one is unresolved.
 */
export class KnownCertificates {
  /** An index with no certificate: only a BinarySecurityToken can then name the key. */
  static readonly none = new KnownCertificates([]);

  private readonly certificates: readonly KnownCertificate[];
  private readonly byDigest: ReadonlyMap<string, KnownCertificate>;

  /**
   * @param certificatesDer DER certificates (e.g. those of RM_SENDER_CERTS_DIR)
   * @throws Error when one is not an X.509 certificate
   */
  constructor(certificatesDer: readonly Buffer[]) {
    this.certificates = certificatesDer.map(knownCertificate);
    this.byDigest = new Map(this.certificates.map((known) => [certificateDigest(known.der), known]));
  }

  /** The known certificate with exactly this DER (e.g. the one a BinarySecurityToken carries), if any. */
  byDer(certificateDer: Buffer): KnownCertificate | undefined {
    const known = this.byDigest.get(certificateDigest(certificateDer));
    return known?.der.equals(certificateDer) ? known : undefined;
  }

  /** How many certificates the index holds. */
  get size(): number {
    return this.certificates.length;
  }

  /**
   * The certificates whose issuer equals `issuerName` (a distinguished name string, compared RDN by RDN
   * after normalisation) and whose serial number is `serialNumber`. An unparseable name matches none.
   */
  byIssuerSerial(issuerName: string, serialNumber: bigint): KnownCertificate[] {
    const issuer = parseDistinguishedName(issuerName);
    if (issuer === undefined) return [];
    return this.certificates.filter(
      (certificate) => certificate.serialNumber === serialNumber && sameName(certificate.issuer, issuer),
    );
  }

  /** The certificates with this subject key identifier (as WSS4J computes it). */
  bySubjectKeyIdentifier(keyIdentifier: Buffer): KnownCertificate[] {
    return this.certificates.filter((certificate) => certificate.subjectKeyIdentifier.equals(keyIdentifier));
  }

  /** The certificates whose SHA-1 thumbprint is this. */
  byThumbprintSha1(thumbprint: Buffer): KnownCertificate[] {
    return this.certificates.filter((certificate) => certificate.thumbprintSha1.equals(thumbprint));
  }
}
