import { webcrypto } from 'node:crypto';
import { x509 } from '../../src/pki/crypto-engines';

/** A key and its certificate, as PEM text. */
export interface PemKeyPair {
  keyPem: string;
  certPem: string;
}

/** What {@link selfSignedCertificate} issues. */
export interface SelfSignedOptions {
  commonName: string;
  /** A CA certificate (basicConstraints cA, keyCertSign) instead of a TLS server certificate. */
  ca?: boolean;
  /** Subject alternative names of a server certificate. */
  dnsNames?: string[];
  ipAddresses?: string[];
  /** Default 30. */
  validityDays?: number;
}

const ALGORITHM = {
  name: 'RSASSA-PKCS1-v1_5',
  hash: 'SHA-256',
  publicExponent: new Uint8Array([1, 0, 1]),
  modulusLength: 2048,
};

function pem(der: ArrayBuffer, label: string): string {
  const base64 = Buffer.from(der)
    .toString('base64')
    .replace(/(.{64})/g, '$1\n');
  return `-----BEGIN ${label}-----\n${base64.trimEnd()}\n-----END ${label}-----\n`;
}

/**
 * A self-signed certificate made with @peculiar/x509 (no external tool): a CA unrelated to the dev PKI,
 * or a TLS server certificate for the given names and addresses.
 */
export async function selfSignedCertificate(options: SelfSignedOptions): Promise<PemKeyPair> {
  const keys = (await webcrypto.subtle.generateKey(ALGORITHM, true, [
    'sign',
    'verify',
  ])) as webcrypto.CryptoKeyPair;
  const now = Date.now();
  const extensions: x509.Extension[] = options.ca
    ? [
        new x509.BasicConstraintsExtension(true, undefined, true),
        new x509.KeyUsagesExtension(x509.KeyUsageFlags.keyCertSign | x509.KeyUsageFlags.cRLSign, true),
      ]
    : [
        new x509.BasicConstraintsExtension(false, undefined, true),
        new x509.KeyUsagesExtension(
          x509.KeyUsageFlags.digitalSignature | x509.KeyUsageFlags.keyEncipherment,
          true,
        ),
        new x509.ExtendedKeyUsageExtension([x509.ExtendedKeyUsage.serverAuth]),
        new x509.SubjectAlternativeNameExtension([
          ...(options.dnsNames ?? []).map((value) => ({ type: 'dns' as const, value })),
          ...(options.ipAddresses ?? []).map((value) => ({ type: 'ip' as const, value })),
        ]),
      ];
  const certificate = await x509.X509CertificateGenerator.createSelfSigned({
    serialNumber: Buffer.from(webcrypto.getRandomValues(new Uint8Array(8)))
      .toString('hex')
      .replace(/^[89a-f]/, '1'),
    name: `CN=${options.commonName}, O=RegisteredMail tests`,
    notBefore: new Date(now - 60 * 60 * 1000),
    notAfter: new Date(now + (options.validityDays ?? 30) * 86_400_000),
    keys,
    signingAlgorithm: ALGORITHM,
    extensions,
  });
  return {
    keyPem: pem(await webcrypto.subtle.exportKey('pkcs8', keys.privateKey), 'PRIVATE KEY'),
    certPem: certificate.toString('pem') + '\n',
  };
}
