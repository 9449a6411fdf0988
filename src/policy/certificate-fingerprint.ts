import { hash } from 'node:crypto';

/**
 * The SHA-256 fingerprint of a DER certificate as the sender allowlist holds it: lowercase hex, no
 * separators.
 */
export function certificateFingerprint(certificateDer: Buffer): string {
  return hash('sha256', certificateDer, 'hex');
}
