import { createPrivateKey, randomBytes, webcrypto } from 'node:crypto';
import { mkdirSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { x509 } from '../../src/pki/crypto-engines';
import { derToPem } from '../../src/pki/pem';
import type { DevPkiKeyPair } from '../../src/pki/dev-pki';

/*
 * Certificates the dev PKI does not make, for negative tests: a short-lived signer, a TSA whose
 * extended key usage is not critical, a whole other CA. Real keys, real signatures, written as PEM
 * files like the dev PKI's own.
 */

const RSA = { name: 'RSASSA-PKCS1-v1_5', hash: 'SHA-256' } as const;

/** What to issue. */
export interface IssueOptions {
  commonName: string;
  notBefore: Date;
  notAfter: Date;
  /** Default digitalSignature + nonRepudiation. */
  keyUsage?: x509.KeyUsageFlags;
  /** An extended key usage extension; omitted: none. */
  extendedKeyUsage?: { purposes: string[]; critical: boolean };
  /** A CA certificate (basicConstraints cA, keyCertSign). */
  ca?: boolean;
}

async function generateKeys(): Promise<webcrypto.CryptoKeyPair> {
  return (await webcrypto.subtle.generateKey(
    { ...RSA, modulusLength: 2048, publicExponent: new Uint8Array([1, 0, 1]) },
    true,
    ['sign', 'verify'],
  )) as webcrypto.CryptoKeyPair;
}

/**
 * Issues a certificate (self-signed when `issuer` is undefined) and writes `<name>.key.pem` and
 * `<name>.cert.pem` in `dir`.
 */
export async function issueTestKeyPair(
  dir: string,
  name: string,
  issuer: DevPkiKeyPair | undefined,
  options: IssueOptions,
): Promise<DevPkiKeyPair> {
  const keys = await generateKeys();
  const subject: Record<string, string[]>[] = [
    { C: ['BE'] },
    { O: ['RegisteredMail verification tests'] },
    { CN: [options.commonName] },
  ];
  const issuerCertificate = issuer && new x509.X509Certificate(new Uint8Array(issuer.certificateDer));
  const signingKey = issuer
    ? await webcrypto.subtle.importKey(
        'pkcs8',
        issuer.privateKey.export({ type: 'pkcs8', format: 'der' }),
        RSA,
        false,
        ['sign'],
      )
    : keys.privateKey;
  const extensions: x509.Extension[] = options.ca
    ? [
        new x509.BasicConstraintsExtension(true, undefined, true),
        new x509.KeyUsagesExtension(x509.KeyUsageFlags.keyCertSign | x509.KeyUsageFlags.cRLSign, true),
      ]
    : [
        new x509.BasicConstraintsExtension(false, undefined, true),
        new x509.KeyUsagesExtension(
          options.keyUsage ?? x509.KeyUsageFlags.digitalSignature | x509.KeyUsageFlags.nonRepudiation,
          true,
        ),
      ];
  if (options.extendedKeyUsage) {
    extensions.push(
      new x509.ExtendedKeyUsageExtension(
        options.extendedKeyUsage.purposes,
        options.extendedKeyUsage.critical,
      ),
    );
  }
  extensions.push(await x509.SubjectKeyIdentifierExtension.create(keys.publicKey));
  if (issuerCertificate)
    extensions.push(await x509.AuthorityKeyIdentifierExtension.create(issuerCertificate));
  const certificate = await x509.X509CertificateGenerator.create({
    serialNumber: `01${randomBytes(8).toString('hex')}`,
    subject,
    issuer: issuerCertificate ? issuerCertificate.subjectName : subject,
    notBefore: options.notBefore,
    notAfter: options.notAfter,
    publicKey: keys.publicKey,
    signingKey,
    signingAlgorithm: RSA,
    extensions,
  });
  const pkcs8 = Buffer.from(await webcrypto.subtle.exportKey('pkcs8', keys.privateKey));
  const certificateDer = Buffer.from(certificate.rawData);
  mkdirSync(dir, { recursive: true });
  const keyPemPath = path.join(dir, `${name}.key.pem`);
  const certPemPath = path.join(dir, `${name}.cert.pem`);
  writeFileSync(keyPemPath, derToPem(pkcs8, 'PRIVATE KEY'), { mode: 0o600 });
  writeFileSync(certPemPath, derToPem(certificateDer, 'CERTIFICATE'));
  return {
    keyPemPath,
    certPemPath,
    privateKey: createPrivateKey({ key: pkcs8, format: 'der', type: 'pkcs8' }),
    certificateDer,
  };
}
