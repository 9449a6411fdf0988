import { createPrivateKey, randomBytes, webcrypto, type KeyObject } from 'node:crypto';
import { x509 } from '../../src/pki/crypto-engines';

/*
 * Certificates that the dev PKI does not make (another CA, wrong key usage, odd subjects), built with
 * real keys and real signatures.
 */

const RSA = { name: 'RSASSA-PKCS1-v1_5', hash: 'SHA-256' } as const;

/** Subject as relative distinguished names in encoding order, or an RFC 4514-like string. */
export type SubjectSpec = Record<string, string[]>[] | string;

/** What issues certificates: a certificate and its private key. */
export interface Issuer {
  certificateDer: Buffer;
  signingKey: webcrypto.CryptoKey;
}

/** A key with its certificate; it can issue others (when it is a CA). */
export interface TestCertificate extends Issuer {
  privateKey: KeyObject;
}

/** An issuer from a certificate and its key (e.g. the dev CA). */
export async function issuerFrom(certificateDer: Buffer, privateKey: KeyObject): Promise<Issuer> {
  const pkcs8 = privateKey.export({ type: 'pkcs8', format: 'der' });
  const signingKey = await webcrypto.subtle.importKey('pkcs8', pkcs8, RSA, false, ['sign']);
  return { certificateDer, signingKey };
}

export interface CertificateOptions {
  subject: SubjectSpec;
  notBefore: Date;
  notAfter: Date;
  /** Omitted: no keyUsage extension. */
  keyUsage?: x509.KeyUsageFlags;
  isCa?: boolean;
}

let sharedLeafKeys: Promise<webcrypto.CryptoKeyPair> | undefined;

async function generateKeys(): Promise<webcrypto.CryptoKeyPair> {
  return (await webcrypto.subtle.generateKey(
    { ...RSA, modulusLength: 2048, publicExponent: new Uint8Array([1, 0, 1]) },
    true,
    ['sign', 'verify'],
  )) as webcrypto.CryptoKeyPair;
}

async function toKeyObject(keys: webcrypto.CryptoKeyPair): Promise<KeyObject> {
  const pkcs8 = Buffer.from(await webcrypto.subtle.exportKey('pkcs8', keys.privateKey));
  return createPrivateKey({ key: pkcs8, format: 'der', type: 'pkcs8' });
}

function extensions(options: CertificateOptions): x509.Extension[] {
  const list: x509.Extension[] = [];
  if (options.isCa) list.push(new x509.BasicConstraintsExtension(true, undefined, true));
  if (options.keyUsage !== undefined) list.push(new x509.KeyUsagesExtension(options.keyUsage, true));
  return list;
}

/** A self-signed CA (keyCertSign + cRLSign). */
export async function createTestCa(
  commonName: string,
  notBefore: Date,
  notAfter: Date,
): Promise<TestCertificate> {
  const keys = await generateKeys();
  const options: CertificateOptions = {
    subject: [{ C: ['BE'] }, { O: ['Test CA'] }, { CN: [commonName] }],
    notBefore,
    notAfter,
    isCa: true,
    keyUsage: x509.KeyUsageFlags.keyCertSign | x509.KeyUsageFlags.cRLSign,
  };
  const certificate = await x509.X509CertificateGenerator.create({
    serialNumber: randomBytes(8).toString('hex').replace(/^./, '1'),
    subject: options.subject,
    issuer: options.subject,
    notBefore,
    notAfter,
    publicKey: keys.publicKey,
    signingKey: keys.privateKey,
    signingAlgorithm: RSA,
    extensions: [...extensions(options), await x509.SubjectKeyIdentifierExtension.create(keys.publicKey)],
  });
  return {
    certificateDer: Buffer.from(certificate.rawData),
    privateKey: await toKeyObject(keys),
    signingKey: keys.privateKey,
  };
}

/** A certificate issued by `issuer` (leaves share one key, to keep tests fast). */
export async function issueTestCertificate(
  issuer: Issuer,
  options: CertificateOptions,
): Promise<TestCertificate> {
  const keys = options.isCa ? await generateKeys() : await (sharedLeafKeys ??= generateKeys());
  const issuerCertificate = new x509.X509Certificate(new Uint8Array(issuer.certificateDer));
  const certificate = await x509.X509CertificateGenerator.create({
    serialNumber: randomBytes(8).toString('hex').replace(/^./, '1'),
    subject: options.subject,
    issuer: issuerCertificate.subjectName,
    notBefore: options.notBefore,
    notAfter: options.notAfter,
    publicKey: keys.publicKey,
    signingKey: issuer.signingKey,
    signingAlgorithm: RSA,
    extensions: [
      ...extensions(options),
      await x509.SubjectKeyIdentifierExtension.create(keys.publicKey),
      await x509.AuthorityKeyIdentifierExtension.create(issuerCertificate),
    ],
  });
  return {
    certificateDer: Buffer.from(certificate.rawData),
    privateKey: await toKeyObject(keys),
    signingKey: keys.privateKey,
  };
}
