import forge from 'node-forge';
import { createPrivateKey, X509Certificate, type KeyObject } from 'node:crypto';
import { readFile } from 'node:fs/promises';
import { ConfigError } from '../config/config';

/** The key entry of a PKCS#12 key store: the key, its certificate, and the certificates above it. */
export interface Pkcs12KeyEntry {
  privateKey: KeyObject;
  /** DER of the key's certificate. */
  certificate: Buffer;
  /** DER of the issuers found in the store, the certificate's issuer first (ordered by issuer links). */
  chain: Buffer[];
}

/**
 * Reads a PKCS#12 file holding one private key and its certificate chain: what openssl 3 writes by
 * default (PBES2, AES-256-CBC, PBKDF2-HMAC-SHA256, SHA-256 MAC), what the dev PKI writes, and legacy
 * 3DES stores. The store's bag order does not matter: the certificate is the one whose public key is the
 * key's, and the chain follows issuer links.
 * @throws ConfigError naming the file when it is unreadable, the password is wrong, or it does not hold
 *   exactly one key with its certificate
 */
export async function readPkcs12KeyStore(file: string, password: string): Promise<Pkcs12KeyEntry> {
  let der: Buffer;
  try {
    der = await readFile(file);
  } catch (error) {
    throw new ConfigError(`RM_SIGNER_P12 ${file}: ${(error as Error).message}`);
  }
  let store: forge.pkcs12.Pkcs12Pfx;
  try {
    store = forge.pkcs12.pkcs12FromAsn1(forge.asn1.fromDer(der.toString('binary')), password);
  } catch (error) {
    // node-forge's messages name the cause ("Invalid password?") and never the password.
    throw new ConfigError(`RM_SIGNER_P12 ${file} cannot be read: ${(error as Error).message}`);
  }
  const keys = [
    ...bagsOf(store, forge.pki.oids.pkcs8ShroudedKeyBag),
    ...bagsOf(store, forge.pki.oids.keyBag),
  ];
  if (keys.length !== 1) {
    throw new ConfigError(
      `RM_SIGNER_P12 ${file} holds ${keys.length} private keys; it must hold exactly one`,
    );
  }
  const key = keys[0].key;
  if (!key) throw new ConfigError(`RM_SIGNER_P12 ${file}: the private key is not an RSA key`);
  const privateKey = createPrivateKey(forge.pki.privateKeyToPem(key));

  const certificates = bagsOf(store, forge.pki.oids.certBag).flatMap((bag) =>
    bag.cert
      ? [
          new X509Certificate(
            Buffer.from(forge.asn1.toDer(forge.pki.certificateToAsn1(bag.cert)).getBytes(), 'binary'),
          ),
        ]
      : [],
  );
  const certificate = certificates.find((candidate) => candidate.checkPrivateKey(privateKey));
  if (certificate === undefined) {
    throw new ConfigError(`RM_SIGNER_P12 ${file} holds no certificate of its private key`);
  }
  return { privateKey, certificate: certificate.raw, chain: issuersOf(certificate, certificates) };
}

function bagsOf(store: forge.pkcs12.Pkcs12Pfx, bagType: string): forge.pkcs12.Bag[] {
  return store.getBags({ bagType })[bagType] ?? [];
}

/** The certificate's issuer, its issuer's issuer, ... as far as the store holds them. */
function issuersOf(certificate: X509Certificate, pool: X509Certificate[]): Buffer[] {
  const chain: X509Certificate[] = [];
  for (let current = certificate; !current.checkIssued(current);) {
    const issuer = pool.find(
      (candidate) =>
        candidate !== certificate &&
        !chain.includes(candidate) &&
        current.checkIssued(candidate) &&
        current.verify(candidate.publicKey),
    );
    if (issuer === undefined) break;
    chain.push(issuer);
    current = issuer;
  }
  return chain.map((entry) => entry.raw);
}
