import { decodeInteger, DER_TAG, derChildren, DerError, type DerElement } from '../pki/der';
import { nameFromDer, sameName } from '../pki/distinguished-name';
import { shortName, type CertificateFacts } from './certificate-facts';
import { algorithmOf, ProofFormatError, VERIFICATION_OIDS } from './cms-signed-data';
import { digest, digestAlgorithm, type DigestAlgorithm } from './signature-algorithms';

/*
 * ESS signing-certificate attributes, which bind a signature to its certificate (so that another
 * certificate for the same key cannot be substituted): signing-certificate-v2 (RFC 5035: ESSCertIDv2,
 * SHA-256 by default) and, for time-stamp tokens only, the older signing-certificate (RFC 2634:
 * ESSCertID, SHA-1) that RFC 3161 TSAs still write.
 */

const SHA256 = '2.16.840.1.101.3.4.2.1';
const DIRECTORY_NAME_TAG = 0xa4;

/** One ESSCertID or ESSCertIDv2. */
export interface EssCertId {
  /** The hash of the certificate, with the algorithm's printed name. */
  hashAlgorithm: DigestAlgorithm | { node: 'sha1'; name: 'SHA-1' };
  certHash: Buffer;
  issuerSerial?: { issuerNames: Buffer[]; serialNumber: bigint };
}

function readIssuerSerial(element: DerElement | undefined): EssCertId['issuerSerial'] {
  if (element === undefined) return undefined;
  const [generalNames, serial] = derChildren(element, DER_TAG.sequence);
  const issuerNames = derChildren(generalNames, DER_TAG.sequence)
    .filter((name) => name.tag === DIRECTORY_NAME_TAG)
    .map((name) => derChildren(name)[0].der);
  return { issuerNames, serialNumber: decodeInteger(serial) };
}

/**
 * Reads a `SigningCertificateV2` (version 2) or `SigningCertificate` (version 1) attribute value.
 * @returns the certificate identifiers, the signer's first
 * @throws ProofFormatError when the value is malformed or uses an unaccepted hash
 */
export function readEssCertIds(value: DerElement, version: 1 | 2): EssCertId[] {
  try {
    const [certs] = derChildren(value, DER_TAG.sequence);
    return derChildren(certs, DER_TAG.sequence).map((id) => {
      const fields = derChildren(id, DER_TAG.sequence);
      if (version === 1) {
        const [hash, issuerSerial] = fields;
        if (hash?.tag !== DER_TAG.octetString) throw new ProofFormatError('malformed ESSCertID');
        return {
          hashAlgorithm: { node: 'sha1', name: 'SHA-1' },
          certHash: hash.content,
          issuerSerial: readIssuerSerial(issuerSerial),
        };
      }
      // hashAlgorithm AlgorithmIdentifier DEFAULT id-sha256
      const explicit = fields[0]?.tag === DER_TAG.sequence;
      const algorithmOid = explicit ? algorithmOf(fields[0], 'ESSCertIDv2 hashAlgorithm') : SHA256;
      const [hash, issuerSerial] = explicit ? fields.slice(1) : fields;
      if (hash?.tag !== DER_TAG.octetString) throw new ProofFormatError('malformed ESSCertIDv2');
      const algorithm = digestAlgorithm(algorithmOid);
      if ('problem' in algorithm) throw new ProofFormatError(`ESSCertIDv2: ${algorithm.problem}`);
      return {
        hashAlgorithm: algorithm.algorithm,
        certHash: hash.content,
        issuerSerial: readIssuerSerial(issuerSerial),
      };
    });
  } catch (error) {
    if (error instanceof ProofFormatError) throw error;
    throw new ProofFormatError(
      `malformed signing-certificate attribute${error instanceof DerError ? `: ${error.message}` : ''}`,
    );
  }
}

/**
 * Whether the first identifier names the certificate: its hash, and its issuer and serial number when
 * given (RFC 5035 section 3: the first ESSCertIDv2 identifies the signer's certificate).
 * @returns undefined when it does, else the mismatch
 */
export function essCertIdMismatch(
  ids: readonly EssCertId[],
  certificate: CertificateFacts,
): string | undefined {
  const [first] = ids;
  if (first === undefined) return 'the attribute names no certificate';
  const actual = digest(first.hashAlgorithm, certificate.der);
  if (!actual.equals(first.certHash)) {
    return `its certificate hash (${first.hashAlgorithm.name} ${first.certHash.toString('hex')}) is not the ${first.hashAlgorithm.name} of the signer certificate ${shortName(certificate)} (${actual.toString('hex')})`;
  }
  if (first.issuerSerial !== undefined) {
    const issuer = nameFromDer(certificate.issuerDer);
    if (first.issuerSerial.serialNumber !== certificate.serialNumber) {
      return `its issuerSerial names serial number ${first.issuerSerial.serialNumber.toString(16)}, the certificate has ${certificate.serialNumber.toString(16)}`;
    }
    if (!first.issuerSerial.issuerNames.some((name) => sameName(nameFromDer(name), issuer))) {
      return 'its issuerSerial names another issuer';
    }
  }
  return undefined;
}

/** The attribute type of a signing-certificate version. */
export const SIGNING_CERTIFICATE_TYPES = {
  2: VERIFICATION_OIDS.signingCertificateV2,
  1: VERIFICATION_OIDS.signingCertificate,
} as const;
