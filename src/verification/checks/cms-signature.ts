import { signedAttributesForSignature } from '../cms-signed-data';
import { shortName } from '../certificate-facts';
import type { ProofEvidence } from '../proof-evidence';
import { verifySignerInfoSignature } from '../signature-algorithms';
import { fail, pass, type CheckResult } from '../verification-report';
import { notChecked } from './not-checked';

const ID = 'cms-signature';

/**
 * CMS signature: the SignerInfo's signature over the DER of its signed attributes (with the explicit
 * SET tag, RFC 5652 section 5.4), verified with the public key of the certificate the SignerInfo names.
 */
export function checkCmsSignature(evidence: ProofEvidence): CheckResult {
  if (!evidence.signature.ok) return notChecked(ID, evidence.signature.problem);
  if (!evidence.signerCertificate.ok) return notChecked(ID, evidence.signerCertificate.problem);
  const { signerInfo } = evidence.signature.value;
  const certificate = evidence.signerCertificate.value;
  if (signerInfo.signedAttributes === undefined) {
    return fail(ID, 'the SignerInfo has no signed attributes: the signature does not cover a message-digest');
  }
  const outcome = verifySignerInfoSignature(
    signedAttributesForSignature(signerInfo.signedAttributes),
    signerInfo.signatureValue,
    signerInfo.signatureAlgorithm,
    signerInfo.digestAlgorithm,
    certificate.publicKey,
  );
  if ('problem' in outcome) {
    return fail(
      ID,
      `${outcome.problem} with the key of ${shortName(certificate)} over the signed attributes`,
    );
  }
  return pass(
    ID,
    `${outcome.verified} signature over the signed attributes verifies with the key of ${shortName(certificate)}`,
  );
}
