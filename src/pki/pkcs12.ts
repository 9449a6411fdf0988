import forge from 'node-forge';
import type { KeyObject } from 'node:crypto';
import { derToPem } from './pem';

/** What goes into a PKCS#12 key store: one private key entry with its certificate chain. */
export interface Pkcs12Entry {
  /** The entry's alias (PKCS#12 friendlyName), as Java's `KeyStore` lists it. */
  alias: string;
  privateKey: KeyObject;
  /** The key's certificate first, then its issuers (DER). */
  chain: Buffer[];
  password: string;
}

/**
 * Encodes a PKCS#12 key store that openssl 3 (without `-legacy`) and Java 17's `KeyStore` both read:
 * the key shrouded with PBES2 (PBKDF2-HMAC-SHA256, AES-256-CBC), certificates in a plain bag, and an
 * HMAC-SHA1 integrity MAC (node-forge writes no other MAC; both readers accept it).
 */
export function encodePkcs12(entry: Pkcs12Entry): Buffer {
  const key = forge.pki.privateKeyFromPem(
    entry.privateKey.export({ type: 'pkcs8', format: 'pem' }).toString(),
  );
  const certificates = entry.chain.map((der) => forge.pki.certificateFromPem(derToPem(der, 'CERTIFICATE')));
  const asn1 = forge.pkcs12.toPkcs12Asn1(key, certificates, entry.password, {
    algorithm: 'aes256',
    // Passed through to the PBES2 key encryption (node-forge's typings omit it).
    ...{ prfAlgorithm: 'sha256' },
    // openssl's default; node-forge computes in JavaScript, and these stores protect dev keys only.
    count: 2048,
    saltSize: 16,
    friendlyName: entry.alias,
    generateLocalKeyId: true,
  });
  return Buffer.from(forge.asn1.toDer(asn1).getBytes(), 'binary');
}
