import type { MessageImprint } from './time-stamp-authority';

/*
 * The vocabulary of RFC 3161 (Time-Stamp Protocol) and RFC 5816 (ESSCertIDv2 in time-stamp tokens) that
 * the embedded TSA and the external client share.
 */

/** Object identifiers of the time-stamp protocol. */
export const TSP_OIDS = {
  /** id-ct-TSTInfo: the eContentType of a time-stamp token's SignedData. */
  tstInfo: '1.2.840.113549.1.9.16.1.4',
  /** id-kp-timeStamping: the one extended key usage of a TSA certificate. */
  timeStamping: '1.3.6.1.5.5.7.3.8',
  extendedKeyUsage: '2.5.29.37',
  /** ESS signing-certificate (RFC 2634, SHA-1 certificate hashes). */
  signingCertificate: '1.2.840.113549.1.9.16.2.12',
} as const;

/**
 * The policy the embedded TSA answers under when RM_TSA_POLICY_OID is unset. It sits under IANA's private
 * enterprise number 32473, which RFC 5612 reserves for documentation: a placeholder that no operator
 * owns. An operator replaces it with the OID of its own published time-stamping policy.
 */
export const DEFAULT_TSA_POLICY_OID = '1.3.6.1.4.1.32473.3161.1';

/** The hash algorithms a message imprint may use, with their OIDs and digest lengths. */
export const IMPRINT_HASHES: Readonly<
  Record<MessageImprint['hashAlgorithm'], { oid: string; length: number; nodeName: string }>
> = {
  'SHA-256': { oid: '2.16.840.1.101.3.4.2.1', length: 32, nodeName: 'sha256' },
  'SHA-384': { oid: '2.16.840.1.101.3.4.2.2', length: 48, nodeName: 'sha384' },
  'SHA-512': { oid: '2.16.840.1.101.3.4.2.3', length: 64, nodeName: 'sha512' },
};

/** The imprint hash algorithm of an OID, or undefined when it is not one of {@link IMPRINT_HASHES}. */
export function imprintHashByOid(oid: string): MessageImprint['hashAlgorithm'] | undefined {
  return (Object.keys(IMPRINT_HASHES) as MessageImprint['hashAlgorithm'][]).find(
    (name) => IMPRINT_HASHES[name].oid === oid,
  );
}

/**
 * Checks that an imprint's digest has its algorithm's length.
 * @throws RangeError when it does not (a caller's bug: the digest was computed with another hash)
 */
export function assertImprintShape(imprint: MessageImprint): void {
  const hash = IMPRINT_HASHES[imprint.hashAlgorithm];
  if (hash === undefined) throw new RangeError(`unsupported imprint hash algorithm ${imprint.hashAlgorithm}`);
  if (imprint.digest.length !== hash.length) {
    throw new RangeError(
      `a ${imprint.hashAlgorithm} imprint has ${hash.length} bytes, not ${imprint.digest.length}`,
    );
  }
}

/** RFC 3161 PKIStatus values. */
export const PKI_STATUS = {
  granted: 0,
  grantedWithMods: 1,
  rejection: 2,
  waiting: 3,
  revocationWarning: 4,
  revocationNotification: 5,
} as const;

/** RFC 3161 PKIFailureInfo: the bit number of each failure. */
export const FAILURE_INFO_BITS = {
  badAlg: 0,
  badRequest: 2,
  badDataFormat: 5,
  timeNotAvailable: 14,
  unacceptedPolicy: 15,
  unacceptedExtension: 16,
  addInfoNotAvailable: 17,
  systemFailure: 25,
} as const;

/** One of the PKIFailureInfo names. */
export type FailureInfo = keyof typeof FAILURE_INFO_BITS;

/** The PKIStatus name of a value (e.g. `rejection(2)`), for messages. */
export function describePkiStatus(status: number): string {
  const name = Object.entries(PKI_STATUS).find(([, value]) => value === status)?.[0];
  return `${name ?? 'unknown'}(${status})`;
}
