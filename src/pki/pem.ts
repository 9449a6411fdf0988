import { createPrivateKey, X509Certificate, type KeyObject } from 'node:crypto';
import { readdir, readFile } from 'node:fs/promises';
import path from 'node:path';

/*
 * PEM in and out: certificates travel as DER Buffers inside the service, keys as KeyObjects.
 */

const CERTIFICATE_BLOCK = /-----BEGIN CERTIFICATE-----([A-Za-z0-9+/=\s]*?)-----END CERTIFICATE-----/g;

/** File names a trust or sender-certificate directory may hold certificates in. */
const CERTIFICATE_FILE = /\.(pem|crt|cer)$/i;

/** Wraps DER bytes in a PEM block with the given label (`CERTIFICATE`, `PRIVATE KEY`, ...). */
export function derToPem(der: Buffer | Uint8Array, label: string): string {
  const lines =
    Buffer.from(der)
      .toString('base64')
      .match(/.{1,64}/g) ?? [];
  return `-----BEGIN ${label}-----\n${lines.join('\n')}\n-----END ${label}-----\n`;
}

/**
 * The DER of every `CERTIFICATE` block of a PEM text, in order; each is checked to parse as X.509.
 * @param source named in error messages
 */
export function certificatesFromPem(pem: string, source = 'PEM text'): Buffer[] {
  const certificates: Buffer[] = [];
  for (const match of pem.matchAll(CERTIFICATE_BLOCK)) {
    const der = Buffer.from(match[1].replace(/\s+/g, ''), 'base64');
    try {
      new X509Certificate(der);
    } catch (cause) {
      throw new Error(`${source}: certificate ${certificates.length + 1} is not a valid X.509 certificate`, {
        cause,
      });
    }
    certificates.push(der);
  }
  return certificates;
}

/** Every certificate of a PEM file (a leaf followed by its chain, or a bundle); fails when there is none. */
export async function readCertificatesFromPemFile(file: string): Promise<Buffer[]> {
  const certificates = certificatesFromPem(await readFile(file, 'utf8'), file);
  if (certificates.length === 0) throw new Error(`${file}: no PEM certificate found`);
  return certificates;
}

/** The first certificate of a PEM file: the leaf when the file holds a chain. */
export async function readCertificateFromPemFile(file: string): Promise<Buffer> {
  return (await readCertificatesFromPemFile(file))[0];
}

/** A private key from a PEM file (PKCS#8 or PKCS#1, unencrypted). The error never quotes the file. */
export async function readPrivateKeyFromPemFile(file: string): Promise<KeyObject> {
  const pem = await readFile(file, 'utf8');
  try {
    return createPrivateKey({ key: pem, format: 'pem' });
  } catch (cause) {
    throw new Error(`${file}: no readable unencrypted PEM private key`, { cause });
  }
}

/**
 * All PEM certificates of the `.pem`, `.crt` and `.cer` files directly in a directory (for
 * `RM_TRUST_DIR` and `RM_SENDER_CERTS_DIR`), in file name order, without duplicates. Files of those
 * names without a certificate (a key, say) are skipped; a malformed certificate is an error.
 */
export async function readCertificatesFromPemDirectory(directory: string): Promise<Buffer[]> {
  const entries = await readdir(directory, { withFileTypes: true });
  const files = entries
    .filter((entry) => entry.isFile() && CERTIFICATE_FILE.test(entry.name))
    .map((entry) => entry.name)
    .sort();
  const seen = new Set<string>();
  const certificates: Buffer[] = [];
  for (const name of files) {
    const file = path.join(directory, name);
    for (const der of certificatesFromPem(await readFile(file, 'utf8'), file)) {
      const key = der.toString('base64');
      if (seen.has(key)) continue;
      seen.add(key);
      certificates.push(der);
    }
  }
  return certificates;
}
