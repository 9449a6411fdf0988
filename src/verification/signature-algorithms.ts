import { createHash, verify, type KeyObject } from 'node:crypto';

/*
 * The digest and signature algorithms a proof may use, mapped to Node's names. SHA-1 is refused: it has
 * been deprecated for signatures since 2018-01-01 (the contract says the same of SHA-1 digests).
 */

const DIGESTS: Readonly<Record<string, { node: string; name: string }>> = {
  '2.16.840.1.101.3.4.2.1': { node: 'sha256', name: 'SHA-256' },
  '2.16.840.1.101.3.4.2.2': { node: 'sha384', name: 'SHA-384' },
  '2.16.840.1.101.3.4.2.3': { node: 'sha512', name: 'SHA-512' },
};

const SHA1 = '1.3.14.3.2.26';

/** Signature algorithms: `digest` undefined means "the SignerInfo's digestAlgorithm". */
const SIGNATURES: Readonly<Record<string, { digest?: string; name: string }>> = {
  '1.2.840.113549.1.1.1': { name: 'RSA' },
  '1.2.840.113549.1.1.11': { digest: '2.16.840.1.101.3.4.2.1', name: 'RSA' },
  '1.2.840.113549.1.1.12': { digest: '2.16.840.1.101.3.4.2.2', name: 'RSA' },
  '1.2.840.113549.1.1.13': { digest: '2.16.840.1.101.3.4.2.3', name: 'RSA' },
  '1.2.840.10045.4.3.2': { digest: '2.16.840.1.101.3.4.2.1', name: 'ECDSA' },
  '1.2.840.10045.4.3.3': { digest: '2.16.840.1.101.3.4.2.2', name: 'ECDSA' },
  '1.2.840.10045.4.3.4': { digest: '2.16.840.1.101.3.4.2.3', name: 'ECDSA' },
};

/** A digest algorithm this verification accepts. */
export interface DigestAlgorithm {
  /** Node's name (`sha256`). */
  node: string;
  /** The printed name (`SHA-256`). */
  name: string;
}

/**
 * The digest algorithm of an OID.
 * @returns the algorithm, or a description of why it is not accepted
 */
export function digestAlgorithm(oid: string): { algorithm: DigestAlgorithm } | { problem: string } {
  const known = DIGESTS[oid];
  if (known) return { algorithm: known };
  if (oid === SHA1) return { problem: 'SHA-1 is not accepted (deprecated since 2018)' };
  return { problem: `unsupported digest algorithm ${oid}` };
}

/** The digest of `data` with an accepted algorithm. */
export function digest(algorithm: DigestAlgorithm, data: Buffer): Buffer {
  return createHash(algorithm.node).update(data).digest();
}

/** A digest algorithm by the names the contract's `DigestMethod` uses (`SHA-256`, `SHA-512`...). */
export function digestAlgorithmByName(name: string): DigestAlgorithm | undefined {
  return Object.values(DIGESTS).find((algorithm) => algorithm.name === name.trim());
}

/**
 * Verifies a SignerInfo signature over `signedBytes` with the certificate's public key.
 * @returns the algorithm's description when it verifies, or a description of the failure
 */
export function verifySignerInfoSignature(
  signedBytes: Buffer,
  signatureValue: Buffer,
  signatureAlgorithmOid: string,
  digestAlgorithmOid: string,
  publicKey: KeyObject,
): { verified: string } | { problem: string } {
  const signature = SIGNATURES[signatureAlgorithmOid];
  if (signature === undefined) return { problem: `unsupported signature algorithm ${signatureAlgorithmOid}` };
  const digestOid = signature.digest ?? digestAlgorithmOid;
  const hash = digestAlgorithm(digestOid);
  if ('problem' in hash) return { problem: hash.problem };
  if (digestOid !== digestAlgorithmOid) {
    return { problem: 'the signature algorithm and the digestAlgorithm name different hashes' };
  }
  const keyType = publicKey.asymmetricKeyType;
  if ((signature.name === 'RSA') !== (keyType === 'rsa')) {
    return { problem: `a ${signature.name} signature cannot come from a ${keyType ?? 'unknown'} key` };
  }
  let verified: boolean;
  try {
    verified = verify(hash.algorithm.node, signedBytes, publicKey, signatureValue);
  } catch {
    verified = false;
  }
  const described = `${signature.name} with ${hash.algorithm.name}`;
  return verified ? { verified: described } : { problem: `the ${described} signature does not verify` };
}
