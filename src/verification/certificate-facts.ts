import { createHash, X509Certificate, type KeyObject } from 'node:crypto';
import {
  decodeInteger,
  decodeObjectIdentifier,
  DER_TAG,
  derChildren,
  readSingleDerElement,
  type DerElement,
} from '../pki/der';
import { nameFromDer, sameName } from '../pki/distinguished-name';
import { decodeDerTime, ProofFormatError, VERIFICATION_OIDS, type SignerIdentifier } from './cms-signed-data';

/*
 * What the checks need to know about a certificate, read once from its DER: names, serial number,
 * validity, public key, key usage and extended key usage (with its critical flag, which Node does not
 * expose).
 */

const SUBJECT_KEY_IDENTIFIER = '2.5.29.14';
const BOOLEAN_TAG = 0x01;

/** keyUsage bit names, bit 0 first (RFC 5280 section 4.2.1.3). */
const KEY_USAGE_BITS = [
  'digitalSignature',
  'nonRepudiation',
  'keyEncipherment',
  'dataEncipherment',
  'keyAgreement',
  'keyCertSign',
  'cRLSign',
  'encipherOnly',
  'decipherOnly',
] as const;

/** One extension of a certificate. */
export interface CertificateExtension {
  id: string;
  critical: boolean;
  /** The extnValue OCTET STRING's content. */
  value: Buffer;
}

/** The facts of one certificate. */
export interface CertificateFacts {
  der: Buffer;
  /** The subject, one line (`C=BE, O=..., CN=...`). */
  subject: string;
  issuerDer: Buffer;
  serialNumber: bigint;
  notBefore: Date;
  notAfter: Date;
  publicKey: KeyObject;
  extensions: CertificateExtension[];
  /** keyUsage bit names; undefined without the extension. */
  keyUsage?: string[];
  subjectKeyIdentifier?: Buffer;
}

function readExtension(element: DerElement): CertificateExtension {
  const parts = derChildren(element, DER_TAG.sequence);
  const id = parts[0];
  const value = parts[parts.length - 1];
  if (id?.tag !== DER_TAG.objectIdentifier || value?.tag !== DER_TAG.octetString) {
    throw new ProofFormatError('malformed certificate extension');
  }
  const critical = parts.length === 3 && parts[1].tag === BOOLEAN_TAG && parts[1].content[0] !== 0;
  return { id: decodeObjectIdentifier(id.content), critical, value: value.content };
}

function keyUsageNames(value: Buffer): string[] {
  const bits = readSingleDerElement(value);
  if (bits.tag !== DER_TAG.bitString || bits.content.length === 0) {
    throw new ProofFormatError('malformed keyUsage extension');
  }
  const octets = bits.content.subarray(1);
  return KEY_USAGE_BITS.filter((_, bit) => ((octets[bit >> 3] ?? 0) & (0x80 >> (bit & 7))) !== 0);
}

/**
 * Reads a certificate.
 * @throws ProofFormatError when it is not a DER X.509 certificate
 */
export function certificateFacts(der: Buffer): CertificateFacts {
  let node: X509Certificate;
  try {
    node = new X509Certificate(der);
  } catch {
    throw new ProofFormatError('not a DER X.509 certificate');
  }
  try {
    const [tbs] = derChildren(readSingleDerElement(der), DER_TAG.sequence);
    const fields = derChildren(tbs, DER_TAG.sequence);
    const offset = fields[0]?.tag === 0xa0 ? 1 : 0;
    const [serial, , issuer, validity, , , ...optional] = fields.slice(offset);
    const [notBefore, notAfter] = derChildren(validity, DER_TAG.sequence);
    const extensionsField = optional.find((element) => element.tag === 0xa3);
    const extensions = extensionsField
      ? derChildren(derChildren(extensionsField)[0], DER_TAG.sequence).map(readExtension)
      : [];
    const keyUsage = extensions.find((extension) => extension.id === VERIFICATION_OIDS.keyUsage);
    const subjectKeyIdentifier = extensions.find((extension) => extension.id === SUBJECT_KEY_IDENTIFIER);
    return {
      der,
      subject: node.subject.split('\n').join(', '),
      issuerDer: issuer.der,
      serialNumber: decodeInteger(serial),
      notBefore: decodeDerTime(notBefore),
      notAfter: decodeDerTime(notAfter),
      publicKey: node.publicKey,
      extensions,
      keyUsage: keyUsage === undefined ? undefined : keyUsageNames(keyUsage.value),
      subjectKeyIdentifier:
        subjectKeyIdentifier === undefined
          ? undefined
          : readSingleDerElement(subjectKeyIdentifier.value).content,
    };
  } catch (error) {
    if (error instanceof ProofFormatError) throw error;
    throw new ProofFormatError('malformed X.509 certificate');
  }
}

/** The common name of a certificate's subject when it has one, else the whole subject. */
export function shortName(certificate: CertificateFacts): string {
  const commonName = /(?:^|, )CN=([^,]*)/.exec(certificate.subject)?.[1];
  return commonName ? `"${commonName}"` : `"${certificate.subject}"`;
}

/** Whether the SignerInfo's identifier names this certificate. */
export function identifies(sid: SignerIdentifier, certificate: CertificateFacts): boolean {
  if (sid.kind === 'subject-key-identifier') {
    return certificate.subjectKeyIdentifier?.equals(sid.keyIdentifier) ?? false;
  }
  return (
    sid.serialNumber === certificate.serialNumber &&
    sameName(nameFromDer(sid.issuerDer), nameFromDer(certificate.issuerDer))
  );
}

/**
 * The certificate a SignerInfo names, among candidates (the SignedData's own certificates first).
 * @returns the certificate, or a description of why none fits
 */
export function findSignerCertificate(
  sid: SignerIdentifier,
  candidates: readonly Buffer[],
): { certificate: CertificateFacts } | { problem: string } {
  const seen = new Set<string>();
  for (const der of candidates) {
    const key = createHash('sha256').update(der).digest('hex');
    if (seen.has(key)) continue;
    seen.add(key);
    try {
      const facts = certificateFacts(der);
      if (identifies(sid, facts)) return { certificate: facts };
    } catch {
      // An unreadable certificate (or issuer name) names nobody.
    }
  }
  const named =
    sid.kind === 'issuer-and-serial'
      ? `serial number ${sid.serialNumber.toString(16)}`
      : `subject key identifier ${sid.keyIdentifier.toString('hex')}`;
  return { problem: `the certificate the SignerInfo names (${named}) is not in the signature` };
}

/** Whether `time` lies within the certificate's validity period. */
export function validAt(certificate: CertificateFacts, time: Date): boolean {
  return (
    certificate.notBefore.getTime() <= time.getTime() && time.getTime() <= certificate.notAfter.getTime()
  );
}

/** The validity period as text. */
export function validityText(certificate: CertificateFacts): string {
  return `${certificate.notBefore.toISOString()} .. ${certificate.notAfter.toISOString()}`;
}
