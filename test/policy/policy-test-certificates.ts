import { randomBytes, webcrypto } from 'node:crypto';
import { x509 } from '../../src/pki/crypto-engines';
import { derToPem } from '../../src/pki/pem';
import type { DevPki } from '../../src/pki/dev-pki';
import type { TestCredentials } from '../wssecurity/wss-test-context';

/*
 * Sender certificates the dev PKI does not make (no CBE, a short RSA key, an EC key), issued by the
 * dev CA with real keys, for the policy tests.
 */

const RSA_SHA256 = { name: 'RSASSA-PKCS1-v1_5', hash: 'SHA-256' } as const;

export type TestKeyKind = 'rsa-2048' | 'rsa-1024' | 'ec-p256';

async function generate(kind: TestKeyKind): Promise<webcrypto.CryptoKeyPair> {
  const parameters =
    kind === 'ec-p256'
      ? { name: 'ECDSA', namedCurve: 'P-256' }
      : {
          ...RSA_SHA256,
          modulusLength: kind === 'rsa-1024' ? 1024 : 2048,
          publicExponent: new Uint8Array([1, 0, 1]),
        };
  return (await webcrypto.subtle.generateKey(parameters, true, [
    'sign',
    'verify',
  ])) as webcrypto.CryptoKeyPair;
}

/** Issues a certificate from the dev CA with any subject, valid an hour before and a year after `now`. */
export async function issueFromDevCa(
  pki: DevPki,
  subject: string,
  kind: TestKeyKind,
  now: Date,
): Promise<TestCredentials> {
  const caKey = await webcrypto.subtle.importKey(
    'pkcs8',
    pki.ca.privateKey.export({ type: 'pkcs8', format: 'der' }),
    RSA_SHA256,
    false,
    ['sign'],
  );
  const ca = new x509.X509Certificate(pki.ca.certificateDer);
  const keys = await generate(kind);
  const certificate = await x509.X509CertificateGenerator.create({
    serialNumber: `01${randomBytes(8).toString('hex')}`,
    subject,
    issuer: ca.subjectName,
    notBefore: new Date(now.getTime() - 3_600_000),
    notAfter: new Date(now.getTime() + 365 * 86_400_000),
    publicKey: keys.publicKey,
    signingKey: caKey,
    signingAlgorithm: RSA_SHA256,
    extensions: [
      new x509.BasicConstraintsExtension(false, undefined, true),
      new x509.KeyUsagesExtension(x509.KeyUsageFlags.digitalSignature, true),
      await x509.AuthorityKeyIdentifierExtension.create(ca),
    ],
  });
  const pkcs8 = Buffer.from(await webcrypto.subtle.exportKey('pkcs8', keys.privateKey));
  const certificateDer = Buffer.from(certificate.rawData);
  return {
    keyPem: derToPem(pkcs8, 'PRIVATE KEY'),
    certPem: derToPem(certificateDer, 'CERTIFICATE'),
    certificateDer,
  };
}
