import { X509Certificate } from 'node:crypto';
import path from 'node:path';
import type { Clock } from '../clock/clock';
import { ConfigError, type Config } from '../config/config';
import { PemFileSigner, type DocumentSigner, type SigningOptions } from '../evidence/document-signer';
import { ensureDevPki, isDevPkiCertificate, type DevPki } from '../pki/dev-pki';
import { KnownCertificates } from '../pki/known-certificates';
import { readCertificatesFromPemDirectory } from '../pki/pem';
import { certificateFingerprint } from '../policy/certificate-fingerprint';
import { readPkcs12KeyStore } from './pkcs12-key-store';

/** The keys and certificates the service runs with. */
export interface KeyMaterial {
  signer: DocumentSigner;
  /** CA certificates trusted for sender certificates. */
  trustAnchors: Buffer[];
  /** SHA-256 fingerprints (hex) of RM_SENDER_CERTS_DIR's certificates; undefined = no allowlist. */
  allowedSenders: ReadonlySet<string> | undefined;
  /**
   * RM_SENDER_CERTS_DIR's certificates, indexed for the issuer-serial, subject key identifier and
   * thumbprint key references (empty when the directory is not configured).
   */
  knownSenders: KnownCertificates;
  /** The generated development PKI, when any of the above comes from it. */
  devPki: DevPki | undefined;
}

/**
 * Loads the configured keys and certificates, generating a development PKI under the data directory for
 * whatever is not configured. With RM_ENVIRONMENT=PRD the service refuses to start on generated keys.
 */
export async function loadKeyMaterial(config: Config, clock: Clock): Promise<KeyMaterial> {
  const signerConfigured = config.signer !== undefined || config.signerP12 !== undefined;
  const needsDevPki = !signerConfigured || !config.trustDir;
  if (config.environment === 'PRD' && needsDevPki) {
    throw new ConfigError(
      'RM_ENVIRONMENT=PRD needs RM_SIGNER_KEY, RM_SIGNER_CERT and RM_TRUST_DIR (or RM_SIGNER_P12 for the ' +
        'signer): refusing generated dev keys',
    );
  }
  const devPki = needsDevPki ? await ensureDevPki(path.join(config.dataDir, 'dev-pki'), clock) : undefined;

  const signing = { threadPool: config.signInThreadPool };
  const signer = config.signerP12
    ? await signerFromPkcs12(config.signerP12.file, config.signerP12.password, signing)
    : config.signer
      ? await PemFileSigner.fromPemFiles(config.signer.keyFile, config.signer.certFile, [], signing)
      : new PemFileSigner(
          (devPki as DevPki).signer.privateKey,
          (devPki as DevPki).signer.certificateDer,
          [(devPki as DevPki).ca.certificateDer],
          signing,
        );
  if (config.environment === 'PRD' && isDevPkiCertificate(signer.certificate)) {
    throw new ConfigError('RM_ENVIRONMENT=PRD: the signer certificate belongs to a development PKI');
  }

  const trustAnchors = config.trustDir
    ? await readCertificatesFromPemDirectory(config.trustDir)
    : [(devPki as DevPki).ca.certificateDer];
  if (trustAnchors.length === 0)
    throw new ConfigError(`RM_TRUST_DIR ${config.trustDir} holds no PEM certificate`);
  if (config.environment === 'PRD' && trustAnchors.some(isDevPkiCertificate)) {
    throw new ConfigError('RM_ENVIRONMENT=PRD: RM_TRUST_DIR holds a development CA');
  }

  const senderCertificates = config.senderCertsDir
    ? await readCertificatesFromPemDirectory(config.senderCertsDir)
    : undefined;
  const allowedSenders = senderCertificates && new Set(senderCertificates.map(certificateFingerprint));
  const knownSenders = senderCertificates
    ? new KnownCertificates(senderCertificates)
    : KnownCertificates.none;
  return { signer, trustAnchors, allowedSenders, knownSenders, devPki };
}

/** The signer of a PKCS#12 key store (RM_SIGNER_P12): its key, certificate and the chain it holds. */
async function signerFromPkcs12(
  file: string,
  password: string,
  signing: SigningOptions,
): Promise<PemFileSigner> {
  const entry = await readPkcs12KeyStore(file, password);
  return new PemFileSigner(entry.privateKey, entry.certificate, entry.chain, signing);
}

/** Days until a certificate expires (negative once expired). */
export function daysLeft(certificateDer: Buffer, now: Date): number {
  const notAfter = new Date(new X509Certificate(certificateDer).validTo).getTime();
  return Math.floor((notAfter - now.getTime()) / 86_400_000);
}
