import type { Clock } from '../clock/clock';
import type { SecuritySettings } from '../config/config';
import type { SenderIdentity } from '../pki/sender-identity';
import type { CertificateTrust } from '../wssecurity/security-facts';
import type { ReplayGuard } from './replay-guard';

export type { TrustVerdict } from '../wssecurity/security-facts';

/** Decides whether a sender certificate is trusted (implemented by `src/pki/certificate-validator.ts`). */
export type SenderCertificateValidator = CertificateTrust;

/**
 * Reads the sender's identity from a trusted certificate (implemented by `src/pki/sender-identity.ts`).
 * @throws NotAuthorizedError when the subject names no valid CBE
 */
export type SenderIdentityReader = (certificateDer: Buffer) => SenderIdentity | Promise<SenderIdentity>;

/** What the v1 policy needs besides the envelope and the facts. */
export interface V1PolicyDependencies {
  /** "Now" for the Timestamp rules. */
  clock: Clock;
  /** Clock skew, Timestamp age, SHA-1. */
  settings: SecuritySettings;
  certificateValidator: SenderCertificateValidator;
  senderIdentity: SenderIdentityReader;
  /**
   * When defined, the allowlist: SHA-256 fingerprints (see `certificateFingerprint`) of the
   * certificates of `RM_SENDER_CERTS_DIR`; the sender's certificate must be one of them.
   */
  allowedSenders?: ReadonlySet<string>;
  /** When defined (PRD, ACC, INT...), the sender certificate's environment OU must equal it. */
  environment?: string;
  /** Remembers accepted messages: a message accepted once is refused as a replay afterwards. */
  replayGuard: ReplayGuard;
}
