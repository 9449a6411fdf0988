import { X509Certificate, type KeyObject } from 'node:crypto';
import { certificateDigest } from './certificate-digest';
import { LruCache } from './lru-cache';

/** How many certificates' public keys are remembered. */
export const PUBLIC_KEY_CACHE_SIZE = 1000;

interface CachedKey {
  der: Buffer;
  key: KeyObject;
}

const publicKeys = new LruCache<CachedKey>(PUBLIC_KEY_CACHE_SIZE);

/**
 * The public key of a certificate as OpenSSL reads it (`X509Certificate.publicKey`), parsed once per
 * certificate: senders send the same certificate with every request. Only readable certificates are
 * remembered (garbage is not worth a place in the cache).
 * @returns undefined when the DER is not a readable X.509 certificate
 */
export function certificatePublicKey(certificateDer: Buffer): KeyObject | undefined {
  const digest = certificateDigest(certificateDer);
  const cached = publicKeys.get(digest);
  if (cached !== undefined && cached.der.equals(certificateDer)) return cached.key;
  let key: KeyObject;
  try {
    key = new X509Certificate(certificateDer).publicKey;
  } catch {
    return undefined;
  }
  publicKeys.set(digest, { der: Buffer.from(certificateDer), key });
  return key;
}
