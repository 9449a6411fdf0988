import type { Element } from '@xmldom/xmldom';
import type { Sender } from '../domain/model';
import { NotAuthenticatedError, NotAuthorizedError } from '../errors/faults';
import { ServiceError } from '../errors/service-error';
import type { SenderIdentity } from '../pki/sender-identity';
import type { ParsedEnvelope } from '../soap/parse-envelope';
import type { SecurityFacts, SecurityHeaderFacts } from '../wssecurity/security-facts';
import { certificateFingerprint } from './certificate-fingerprint';
import type { V1PolicyDependencies } from './policy-dependencies';
import { refuseReplay } from './replay-guard';
import { checkSignature } from './signature-rules';
import { checkTimestamp } from './timestamp-rules';

/** A request the v1 policy accepted: what the business layer may act on, and who sent it. */
export interface AuthenticatedRequest {
  /** `envelope.payload` itself; its parent is the very Body element the signature covered. */
  payload: Element;
  sender: Sender;
  /**
   * DER of the sender's certificate, whose key verified the signature: the BinarySecurityToken's, or the
   * known certificate (RM_SENDER_CERTS_DIR) an issuer-serial, SKI or thumbprint reference named.
   */
  certificate: Buffer;
  /** The path from {@link certificate} to its trust anchor, as the validator returned it. */
  certificateChain: Buffer[];
  /**
   * What a replay cache needs: this message's SignatureValue, and the instant after which the policy
   * refuses the message anyway (the earlier of Expires and Created + the maximum age).
   */
  replay: { signatureValue: Buffer; acceptableUntil: Date };
}

function singleSecurityHeader(facts: SecurityFacts): SecurityHeaderFacts {
  if (facts.securityElementsElsewhere.length > 0) {
    throw new NotAuthenticatedError('a wsse:Security element appears outside the SOAP Header');
  }
  if (facts.securityHeaders.length !== 1) {
    throw new NotAuthenticatedError(
      `${facts.securityHeaders.length} wsse:Security headers, exactly one is required`,
    );
  }
  const header = facts.securityHeaders[0];
  if (header.actor !== undefined) {
    throw new NotAuthenticatedError(`the wsse:Security header is addressed to actor ${header.actor}`);
  }
  return header;
}

async function readIdentity(deps: V1PolicyDependencies, certificateDer: Buffer): Promise<SenderIdentity> {
  try {
    return await deps.senderIdentity(certificateDer);
  } catch (error) {
    if (error instanceof ServiceError) throw error;
    throw new NotAuthorizedError(`sender identity cannot be read: ${(error as Error).message}`);
  }
}

/**
 * The v1 WS-Security policy ("enforce", after {@link processSecurityHeader} processed): decides from the
 * facts whether the request is authenticated and authorised, and hands the business layer the payload
 * that the signature covered, by node identity.
 *
 * Authentication (SOA-01001, {@link NotAuthenticatedError}): exactly one Security header (for the
 * ultimate receiver) and no Security element elsewhere; the Timestamp rules (`checkTimestamp`); the
 * signature rules (`checkSignature`), which include that the signed elements are the envelope's own
 * Body and the header's Timestamp; then the certificate is trusted (`certificateValidator`).
 * Authorisation (SOA-01002, {@link NotAuthorizedError}): the certificate names a sender
 * (`senderIdentity`), is on the allowlist when there is one, and its environment is the service's
 * when one is configured.
 * Replay (SOA-01001, reason "replayed"): last, the accepted message is recorded by `replayGuard`; a
 * message already recorded (same Timestamp Created and SignatureValue) is refused.
 *
 * @throws NotAuthenticatedError | NotAuthorizedError, each with an internal reason for the log
 */
export async function enforceV1Policy(
  envelope: ParsedEnvelope,
  facts: SecurityFacts,
  deps: V1PolicyDependencies,
): Promise<AuthenticatedRequest> {
  const header = singleSecurityHeader(facts);
  // Processing asked for trust before digesting: an untrusted signer is refused for that, not for the
  // digests it was spared.
  const processedTrust = header.signatures.length === 1 ? header.signatures[0].trust : undefined;
  if (processedTrust && !processedTrust.valid) {
    throw new NotAuthenticatedError(`sender certificate not trusted: ${processedTrust.reason}`);
  }
  const timestamp = checkTimestamp(header, deps.clock, deps.settings);
  const signature = checkSignature(envelope, header, timestamp.facts, deps.settings);
  const certificate = signature.certificateDer;

  const verdict = signature.facts.trust ?? (await deps.certificateValidator.validate(certificate));
  if (!verdict.valid) throw new NotAuthenticatedError(`sender certificate not trusted: ${verdict.reason}`);

  const identity = await readIdentity(deps, certificate);
  if (deps.allowedSenders !== undefined && !deps.allowedSenders.has(certificateFingerprint(certificate))) {
    throw new NotAuthorizedError('sender certificate is not on the allowlist');
  }
  if (
    deps.environment !== undefined &&
    identity.environment?.toUpperCase() !== deps.environment.toUpperCase()
  ) {
    throw new NotAuthorizedError(
      `sender certificate environment ${identity.environment ?? '(none)'} is not the service's ${deps.environment}`,
    );
  }

  const maxAgeEnd = timestamp.created.getTime() + deps.settings.timestampMaxAgeSeconds * 1000;
  const acceptableUntil = new Date(Math.min(maxAgeEnd, timestamp.expires?.getTime() ?? maxAgeEnd));
  // Last, so that only a request the policy accepted is remembered; it stays remembered even when a
  // later layer refuses it (a retry must be signed anew, with a fresh Timestamp).
  await refuseReplay(deps.replayGuard, {
    created: timestamp.created,
    signatureValue: signature.signatureValue,
    acceptableUntil,
  });
  return {
    payload: envelope.payload,
    sender: { cbe: identity.cbe, applicationId: identity.applicationId },
    certificate,
    certificateChain: verdict.chain,
    replay: { signatureValue: signature.signatureValue, acceptableUntil },
  };
}
