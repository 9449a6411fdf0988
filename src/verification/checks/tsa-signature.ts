import { decodeObjectIdentifier, DER_TAG } from '../../pki/der';
import { signedAttributesForSignature, singleAttributeValue, VERIFICATION_OIDS } from '../cms-signed-data';
import { shortName, type CertificateFacts } from '../certificate-facts';
import { essCertIdMismatch, readEssCertIds, SIGNING_CERTIFICATE_TYPES } from '../ess-signing-certificate';
import type { ProofEvidence } from '../proof-evidence';
import { digest, digestAlgorithm, verifySignerInfoSignature } from '../signature-algorithms';
import type { TimeStampToken } from '../time-stamp-token';
import { fail, pass, type CheckResult } from '../verification-report';
import { notChecked } from './not-checked';

const ID = 'tsa-signature';

/**
 * The token's ESS signing-certificate: signing-certificate-v2, or the SHA-1 signing-certificate that
 * RFC 3161 TSAs may still write (RFC 5816 allows both).
 */
function signingCertificateOutcome(
  token: TimeStampToken,
  certificate: CertificateFacts,
): { ok: string } | { problem: string } {
  for (const version of [2, 1] as const) {
    const attribute = singleAttributeValue(
      token.signerInfo.signedAttributes,
      SIGNING_CERTIFICATE_TYPES[version],
      version === 2 ? 'signing-certificate-v2' : 'signing-certificate',
    );
    if ('problem' in attribute) {
      if (attribute.problem.startsWith('no ')) continue;
      return { problem: attribute.problem };
    }
    try {
      const ids = readEssCertIds(attribute.value, version);
      const mismatch = essCertIdMismatch(ids, certificate);
      if (mismatch)
        return {
          problem: `the token's signing-certificate${version === 2 ? '-v2' : ''} does not name the TSA certificate: ${mismatch}`,
        };
      return {
        ok: `${version === 2 ? 'signing-certificate-v2' : 'signing-certificate (v1)'} (${ids[0].hashAlgorithm.name}) matches it`,
      };
    } catch (error) {
      return { problem: error instanceof Error ? error.message : 'malformed signing-certificate' };
    }
  }
  return { problem: 'the token has no signing-certificate-v2 (nor signing-certificate) attribute' };
}

/**
 * TSA signature: the token's SignedData signature over its signed attributes with the TSA certificate's
 * key; those attributes bind the TSTInfo (content-type id-ct-TSTInfo, message-digest of the TSTInfo)
 * and the certificate (signing-certificate-v2).
 */
export function checkTsaSignature(evidence: ProofEvidence): CheckResult {
  if (!evidence.timeStamp.ok) return notChecked(ID, evidence.timeStamp.problem);
  if (!evidence.tsaCertificate.ok) return notChecked(ID, evidence.tsaCertificate.problem);
  const token = evidence.timeStamp.value;
  const certificate = evidence.tsaCertificate.value;
  const { signerInfo } = token;
  const signed = signerInfo.signedAttributes;
  if (signed === undefined) return fail(ID, "the token's SignerInfo has no signed attributes");

  const problems: string[] = [];
  const signature = verifySignerInfoSignature(
    signedAttributesForSignature(signed),
    signerInfo.signatureValue,
    signerInfo.signatureAlgorithm,
    signerInfo.digestAlgorithm,
    certificate.publicKey,
  );
  if ('problem' in signature) problems.push(`${signature.problem} with the key of ${shortName(certificate)}`);

  const contentType = singleAttributeValue(signed, VERIFICATION_OIDS.contentType, 'content-type');
  if ('problem' in contentType) problems.push(`token ${contentType.problem}`);
  else if (
    contentType.value.tag !== DER_TAG.objectIdentifier ||
    decodeObjectIdentifier(contentType.value.content) !== VERIFICATION_OIDS.tstInfo
  ) {
    problems.push("the token's content-type attribute is not id-ct-TSTInfo");
  }

  const algorithm = digestAlgorithm(signerInfo.digestAlgorithm);
  const messageDigest = singleAttributeValue(signed, VERIFICATION_OIDS.messageDigest, 'message-digest');
  if ('problem' in algorithm) problems.push(`token digestAlgorithm: ${algorithm.problem}`);
  else if ('problem' in messageDigest) problems.push(`token ${messageDigest.problem}`);
  else if (!messageDigest.value.content.equals(digest(algorithm.algorithm, token.tstInfoDer))) {
    problems.push("the token's message-digest is not the digest of its TSTInfo");
  }

  const binding = signingCertificateOutcome(token, certificate);
  if ('problem' in binding) problems.push(binding.problem);

  if (problems.length > 0 || 'problem' in signature || 'problem' in binding) {
    return fail(ID, problems.join('; '));
  }
  return pass(
    ID,
    `${signature.verified} signature of ${shortName(certificate)} over the TSTInfo (content-type id-ct-TSTInfo, message-digest) verifies; ${binding.ok}`,
  );
}
