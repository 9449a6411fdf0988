import path from 'node:path';
import type { Clock } from '../clock/clock';
import { ConfigError, type Config } from '../config/config';
import { PemFileSigner, type DocumentSigner } from '../evidence/document-signer';
import type { Logger } from '../logging/logger';
import { ensureDevPki, isDevPkiCertificate } from '../pki/dev-pki';
import { readCertificatesFromPemDirectory } from '../pki/pem';
import { EmbeddedTimeStampAuthority } from '../timestamping/embedded-time-stamp-authority';
import { HttpTimeStampAuthority } from '../timestamping/http-time-stamp-authority';
import type { TimeStampAuthority } from '../timestamping/time-stamp-authority';
import type { KeyMaterial } from './key-material';

/** The service's time-stamp authority, and the embedded one when that is it (served at `POST /tsa`). */
export interface TimeStamping {
  /** What proofs are time-stamped with (CAdES-T signature-time-stamp). */
  authority: TimeStampAuthority;
  /** The embedded TSA; undefined when RM_TSA_URL names an external one. */
  embedded: EmbeddedTimeStampAuthority | undefined;
  /** The embedded TSA's certificate (DER); undefined for an external TSA, known only from its tokens. */
  tsaCertificate: Buffer | undefined;
  /** The CA certificates (DER) an external TSA's certificate must chain to; empty for the embedded TSA. */
  tsaTrustAnchors: Buffer[];
}

/**
 * Sets up time-stamping from the configuration: with RM_TSA_URL an external TSA whose tokens must chain
 * to RM_TSA_TRUST_DIR (the dev CA when unset); otherwise the embedded TSA signing with RM_TSA_KEY and
 * RM_TSA_CERT (the dev PKI's TSA when unset). With RM_ENVIRONMENT=PRD, nothing of a dev PKI is accepted.
 * @param keys the loaded key material: its dev PKI, if any, is reused (generated here only when needed)
 * @throws ConfigError when the TSA certificate cannot time-stamp (no critical extended key usage
 *   timeStamping), or PRD would run on dev material
 */
export async function createTimeStampAuthority(
  config: Config,
  keys: Pick<KeyMaterial, 'devPki'>,
  clock: Clock,
  log?: Logger,
): Promise<TimeStamping> {
  const settings = config.tsa;
  const production = config.environment === 'PRD';
  const devPkiNow = () => keys.devPki ?? ensureDevPki(path.join(config.dataDir, 'dev-pki'), clock);

  if (settings.url !== undefined) {
    if (production && settings.trustDir === undefined)
      throw new ConfigError(
        'RM_ENVIRONMENT=PRD with RM_TSA_URL needs RM_TSA_TRUST_DIR, not the development PKI',
      );
    const trustAnchors = settings.trustDir
      ? await readCertificatesFromPemDirectory(settings.trustDir)
      : [(await devPkiNow()).ca.certificateDer];
    if (trustAnchors.length === 0)
      throw new ConfigError(`RM_TSA_TRUST_DIR ${settings.trustDir} holds no PEM certificate`);
    if (production && trustAnchors.some(isDevPkiCertificate))
      throw new ConfigError('RM_ENVIRONMENT=PRD: RM_TSA_TRUST_DIR holds a development PKI CA');
    const authority = new HttpTimeStampAuthority({
      url: settings.url,
      trustAnchors,
      clock,
      timeoutMs: settings.timeoutMs,
      policy: settings.policyOid,
    });
    return { authority, embedded: undefined, tsaCertificate: undefined, tsaTrustAnchors: trustAnchors };
  }

  if (production && settings.keyPair === undefined)
    throw new ConfigError(
      'RM_ENVIRONMENT=PRD needs RM_TSA_KEY and RM_TSA_CERT (or RM_TSA_URL): refusing the development PKI TSA',
    );
  let signer: DocumentSigner;
  let source: string;
  const signing = { threadPool: config.signInThreadPool };
  if (settings.keyPair) {
    signer = await PemFileSigner.fromPemFiles(
      settings.keyPair.keyFile,
      settings.keyPair.certFile,
      [],
      signing,
    );
    source = `RM_TSA_CERT ${settings.keyPair.certFile}`;
  } else {
    const { tsa, ca } = await devPkiNow();
    signer = new PemFileSigner(tsa.privateKey, tsa.certificateDer, [ca.certificateDer], signing);
    source = `the development PKI TSA certificate ${tsa.certPemPath}`;
  }
  if (production && isDevPkiCertificate(signer.certificate))
    throw new ConfigError('RM_ENVIRONMENT=PRD: the TSA certificate belongs to a development PKI');
  let embedded: EmbeddedTimeStampAuthority;
  try {
    embedded = new EmbeddedTimeStampAuthority({
      signer,
      clock,
      policy: settings.policyOid,
      accuracyMs: settings.accuracyMs,
      onSigningFailure: (error) =>
        log?.error('time-stamp signing failed', {
          error: error instanceof Error ? error.message : String(error),
        }),
    });
  } catch (error) {
    throw new ConfigError(`${source}: ${error instanceof Error ? error.message : String(error)}`);
  }
  return { authority: embedded, embedded, tsaCertificate: signer.certificate, tsaTrustAnchors: [] };
}
