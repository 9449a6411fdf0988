import { ManualClock } from '../clock/clock';
import { CertificateValidator } from '../pki/certificate-validator';
import { certificateFacts, shortName, type CertificateFacts } from './certificate-facts';

/** pkijs' words when no candidate path ends at a trust anchor, and ours. */
const NO_PATH = /^No valid certificate paths found$/;

/**
 * Validates a certificate's path to the trust anchors at a given time with the service's own
 * {@link CertificateValidator} (RFC 5280 path validation; an end-entity, not a CA; keyUsage, when
 * present, allowing digitalSignature). Revocation is not checked: verification is offline.
 * @returns the trust anchor reached, or the reason there is none
 */
export async function validateChainAt(
  certificate: CertificateFacts,
  intermediates: readonly Buffer[],
  trustAnchors: readonly Buffer[],
  time: Date,
): Promise<{ anchor: string } | { problem: string }> {
  if (trustAnchors.length === 0) return { problem: 'no trust anchor was given' };
  // Said plainly first: path validation would only answer "not yet valid or expired".
  if (time < certificate.notBefore) {
    return {
      problem: `the certificate is not yet valid (valid from ${certificate.notBefore.toISOString()})`,
    };
  }
  if (time > certificate.notAfter) {
    return { problem: `the certificate expired on ${certificate.notAfter.toISOString()}` };
  }
  const verdict = await new CertificateValidator(trustAnchors, new ManualClock(time)).validate(
    certificate.der,
    intermediates,
  );
  if (!verdict.valid) {
    return {
      problem: NO_PATH.test(verdict.reason)
        ? 'no path to a given trust anchor (unknown issuer, or a CA certificate not valid at that time)'
        : verdict.reason,
    };
  }
  const anchor = verdict.chain[verdict.chain.length - 1];
  return { anchor: shortName(certificateFacts(anchor)) };
}
