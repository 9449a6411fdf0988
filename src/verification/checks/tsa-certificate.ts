import { decodeObjectIdentifier, DER_TAG, derChildren, readSingleDerElement } from '../../pki/der';
import { validateChainAt } from '../certificate-chain';
import { shortName, type CertificateFacts } from '../certificate-facts';
import { VERIFICATION_OIDS } from '../cms-signed-data';
import type { ProofEvidence } from '../proof-evidence';
import type { VerificationPolicy } from '../verification-policy';
import { fail, pass, type CheckResult } from '../verification-report';
import { notChecked } from './not-checked';

const ID = 'tsa-certificate';

/** RFC 3161 section 2.3: exactly one extended key usage, id-kp-timeStamping, in a critical extension. */
function extendedKeyUsageProblem(certificate: CertificateFacts): string | undefined {
  const extensions = certificate.extensions.filter(
    (extension) => extension.id === VERIFICATION_OIDS.extendedKeyUsage,
  );
  if (extensions.length === 0) return 'has no extended key usage extension (timeStamping required)';
  if (extensions.length > 1) return 'has more than one extended key usage extension';
  let purposes: string[];
  try {
    purposes = derChildren(readSingleDerElement(extensions[0].value), DER_TAG.sequence).map((purpose) =>
      decodeObjectIdentifier(purpose.content),
    );
  } catch {
    return 'has a malformed extended key usage extension';
  }
  if (!purposes.includes(VERIFICATION_OIDS.timeStamping)) {
    return `extended key usage (${purposes.join(', ')}) lacks timeStamping`;
  }
  if (purposes.length > 1)
    return `extended key usage must be timeStamping only, found ${purposes.join(', ')}`;
  if (!extensions[0].critical) return 'extended key usage timeStamping is not marked critical';
  return undefined;
}

/**
 * TSA certificate: extended key usage timeStamping only and critical (RFC 3161 section 2.3), and a path to
 * a trust anchor valid at the validation time (nothing later than the token vouches for the TSA).
 */
export async function checkTsaCertificate(
  evidence: ProofEvidence,
  policy: VerificationPolicy,
): Promise<CheckResult> {
  if (!evidence.tsaCertificate.ok) return notChecked(ID, evidence.tsaCertificate.problem);
  const certificate = evidence.tsaCertificate.value;
  const problems: string[] = [];
  const usage = extendedKeyUsageProblem(certificate);
  if (usage) problems.push(`TSA certificate ${shortName(certificate)} ${usage} (RFC 3161 section 2.3)`);
  const at = policy.validationTime.toISOString();
  const chain = await validateChainAt(
    certificate,
    evidence.intermediates,
    policy.trustAnchors,
    policy.validationTime,
  );
  if ('problem' in chain)
    problems.push(
      `TSA certificate ${shortName(certificate)} is not valid at ${at} (validation time): ${chain.problem}`,
    );
  if (problems.length > 0) return fail(ID, problems.join('; '));
  return pass(
    ID,
    `${shortName(certificate)}: extended key usage timeStamping only, critical; chains to ${'anchor' in chain ? chain.anchor : ''}, valid at ${at} (validation time)`,
  );
}
