import type { Element } from '@xmldom/xmldom';
import type { Clock } from '../clock/clock';
import type { ParsedEnvelope } from '../soap/parse-envelope';
import { processSecurityHeader } from '../wssecurity/process-security-header';
import type { Evaluation } from '../wssecurity/security-facts';
import { UntrustedAnswerError } from './client-errors';
import type { ResponseTrust } from './response-trust';

/** How far the service's clock may be ahead of or behind ours, as the service allows its clients. */
export const ANSWER_CLOCK_SKEW_MS = 60_000;

function refuse(reason: string): never {
  throw new UntrustedAnswerError(reason);
}

function reasonOf(evaluation: Evaluation): string {
  return evaluation.outcome === 'valid' ? 'valid' : evaluation.reason;
}

/**
 * Verifies the service's WS-Security signature over an answer (faults included) on the bytes received,
 * with the service's own WS-Security processing: one Security header with one signature whose
 * SignatureValue verifies with the key of its BinarySecurityToken, that token's certificate trusted
 * (`trust`), SHA-256 or stronger, every reference's digest valid, the Body and the header's one
 * Timestamp among them, and the Timestamp current at the clock's time (within
 * {@link ANSWER_CLOCK_SKEW_MS}).
 * @throws UntrustedAnswerError saying what does not hold
 */
export async function verifyAnswerSignature(
  envelope: ParsedEnvelope,
  trust: ResponseTrust,
  clock: Clock,
): Promise<void> {
  const facts = await processSecurityHeader(envelope, { certificateTrust: trust });
  if (facts.securityElementsElsewhere.length > 0) refuse('a wsse:Security element outside the Header');
  if (facts.securityHeaders.length !== 1) {
    refuse(
      facts.securityHeaders.length === 0
        ? 'the answer is not signed (no wsse:Security header)'
        : 'the answer has several wsse:Security headers',
    );
  }
  const [header] = facts.securityHeaders;
  if (header.signatures.length !== 1) refuse(`${header.signatures.length} signatures instead of one`);
  const [signature] = header.signatures;
  if (signature.signatureValue.outcome !== 'valid') refuse(reasonOf(signature.signatureValue));
  if (signature.key.kind !== 'token-reference')
    refuse('the key is not the BinarySecurityToken of the header');
  if (signature.trust === undefined || !signature.trust.valid) {
    refuse(
      `the signer is not ${trust.description}: ${signature.trust?.valid === false ? signature.trust.reason : 'not checked'}`,
    );
  }
  if (signature.signatureMethod.supported === 'rsa-sha1') refuse('RSA-SHA1 is not accepted');
  for (const reference of signature.references) {
    if (reference.digestMethod.supported === 'sha1')
      refuse(`${reference.uri}: SHA-1 digests are not accepted`);
    if (reference.digest.outcome !== 'valid') refuse(`${reference.uri}: ${reasonOf(reference.digest)}`);
  }
  const signed = new Set<Element | undefined>(signature.references.map((reference) => reference.element));
  if (!signed.has(envelope.body)) refuse('the Body is not signed');
  if (header.timestamps.length !== 1) refuse(`${header.timestamps.length} Timestamps instead of one`);
  const [timestamp] = header.timestamps;
  if (!signed.has(timestamp.element)) refuse('the Timestamp is not signed');

  const now = clock.now().getTime();
  const created = timestamp.created.length === 1 ? timestamp.created[0].date : undefined;
  const expires = timestamp.expires.length === 1 ? timestamp.expires[0].date : undefined;
  if (created === undefined) refuse('the Timestamp has no valid Created');
  if (created.getTime() > now + ANSWER_CLOCK_SKEW_MS) {
    refuse(`the Timestamp was Created in the future (${created.toISOString()})`);
  }
  if (expires !== undefined && expires.getTime() < now - ANSWER_CLOCK_SKEW_MS) {
    refuse(`the answer expired at ${expires.toISOString()}`);
  }
}
