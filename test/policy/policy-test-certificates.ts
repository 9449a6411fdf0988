import { randomBytes, webcrypto } from 'node:crypto';
import { x509 } from '../../src/pki/crypto-engines';
import { derToPem } from '../../src/pki/pem';
import type { DevPki } from '../../src/pki/dev-pki';
import type { TestCredentials } from '../wssecurity/wss-test-context';

/*
 * Sender certificates the dev PKI does not make (no CBE, a short RSA key, EC keys, no or an arbitrary
 * subject key identifier, a short validity), issued by the dev CA with real keys, for the policy tests.
 */

const RSA_SHA256 = { name: 'RSASSA-PKCS1-v1_5', hash: 'SHA-256' } as const;

export type TestKeyKind = 'rsa-2048' | 'rsa-1024' | 'ec-p256' | 'ec-p384' | 'ec-p521';

const EC_CURVES: Partial<Record<TestKeyKind, string>> = {
  'ec-p256': 'P-256',
  'ec-p384': 'P-384',
  'ec-p521': 'P-521',
};

/** What {@link issueFromDevCa} varies besides subject and key. */
export interface IssueOptions {
  /**
   * The subjectKeyIdentifier extension: `from-key` (SHA-1 of the public key bits, as the dev PKI does),
   * a hex value of the issuer's choosing, or none (the default).
   */
  subjectKeyIdentifier?: 'from-key' | string;
  /** Default a year after `now`. */
  notAfter?: Date;
}

async function generate(kind: TestKeyKind): Promise<webcrypto.CryptoKeyPair> {
  const curve = EC_CURVES[kind];
  const parameters =
    curve !== undefined
      ? { name: 'ECDSA', namedCurve: curve }
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

/**
 * Issues a certificate from the dev CA with any subject, valid an hour before and (by default) a year
 * after `now`, without a subjectKeyIdentifier unless asked.
 */
export async function issueFromDevCa(
  pki: DevPki,
  subject: string,
  kind: TestKeyKind,
  now: Date,
  options: IssueOptions = {},
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
  const subjectKeyIdentifier =
    options.subjectKeyIdentifier === undefined
      ? []
      : [
          options.subjectKeyIdentifier === 'from-key'
            ? await x509.SubjectKeyIdentifierExtension.create(keys.publicKey)
            : new x509.SubjectKeyIdentifierExtension(options.subjectKeyIdentifier),
        ];
  const certificate = await x509.X509CertificateGenerator.create({
    serialNumber: `01${randomBytes(8).toString('hex')}`,
    subject,
    issuer: ca.subjectName,
    notBefore: new Date(now.getTime() - 3_600_000),
    notAfter: options.notAfter ?? new Date(now.getTime() + 365 * 86_400_000),
    publicKey: keys.publicKey,
    signingKey: caKey,
    signingAlgorithm: RSA_SHA256,
    extensions: [
      new x509.BasicConstraintsExtension(false, undefined, true),
      new x509.KeyUsagesExtension(x509.KeyUsageFlags.digitalSignature, true),
      await x509.AuthorityKeyIdentifierExtension.create(ca),
      ...subjectKeyIdentifier,
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
