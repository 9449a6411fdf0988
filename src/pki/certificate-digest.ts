import { createHash, hash } from 'node:crypto';

/**
 * The key under which what is derived from a certificate (its parsed forms, its verdict, its sender
 * identity) is cached: SHA-256 of its DER as base64. Two certificates that differ in any byte (another
 * key, serial or validity with the same subject) have different keys.
 */
export function certificateDigest(certificateDer: Buffer): string {
  return hash('sha256', certificateDer, 'base64');
}

/** The cache key of a certificate together with the untrusted certificates offered to complete its path. */
export function certificateSetDigest(certificateDer: Buffer, others: readonly Buffer[]): string {
  if (others.length === 0) return certificateDigest(certificateDer);
  const hash = createHash('sha256');
  // Length-prefixed, so that no two different lists hash the same concatenation.
  for (const der of [certificateDer, ...others]) {
    const length = Buffer.alloc(4);
    length.writeUInt32BE(der.length);
    hash.update(length).update(der);
  }
  return hash.digest('base64');
}
