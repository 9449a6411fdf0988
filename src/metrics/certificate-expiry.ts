import { X509Certificate } from 'node:crypto';
import { Gauge, type Registry } from 'prom-client';
import type { Clock } from '../clock/clock';
import { METRIC_PREFIX } from './service-metrics';

/** What a watched certificate is to the service. */
export type CertificateRole =
  /** The service signer's (receipts, proofs, responses). */
  | 'signer'
  /** The embedded TSA's. */
  | 'tsa'
  /** A CA trusted for sender certificates (RM_TRUST_DIR). */
  | 'trust_anchor'
  /** A CA trusted for an external TSA's certificate (RM_TSA_TRUST_DIR). */
  | 'tsa_trust_anchor';

/** A certificate whose remaining validity is shown. */
export interface WatchedCertificate {
  role: CertificateRole;
  /** DER */
  certificate: Buffer;
}

const DAY_MS = 86_400_000;

/** A certificate's labels and end of validity, read once. */
interface CertificateFacts {
  labels: { role: CertificateRole; subject: string; serial: string };
  notAfter: number;
}

function factsOf(watched: WatchedCertificate): CertificateFacts {
  const certificate = new X509Certificate(watched.certificate);
  return {
    // Node gives the subject one attribute a line, in the certificate's order.
    labels: {
      role: watched.role,
      subject: certificate.subject.split('\n').join(', '),
      serial: certificate.serialNumber,
    },
    notAfter: new Date(certificate.validTo).getTime(),
  };
}

/**
 * Registers `registered_mail_certificate_days_left{role, subject, serial}`: whole days until each
 * certificate's notAfter (negative once expired, as healthCheck counts them), computed from `clock` at
 * every scrape.
 */
export function registerCertificateExpiry(
  registry: Registry,
  certificates: readonly WatchedCertificate[],
  clock: Clock,
): void {
  const facts = certificates.map(factsOf);
  new Gauge({
    name: `${METRIC_PREFIX}certificate_days_left`,
    help: 'Whole days until the certificate expires (negative once expired), by role, subject and serial number',
    labelNames: ['role', 'subject', 'serial'],
    registers: [registry],
    // The same on every process: read once per scrape, by the process answering it.
    collect() {
      const now = clock.now().getTime();
      this.reset();
      for (const { labels, notAfter } of facts) this.set(labels, Math.floor((notAfter - now) / DAY_MS));
    },
  });
}
