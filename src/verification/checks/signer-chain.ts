import { validateChainAt } from '../certificate-chain';
import { shortName } from '../certificate-facts';
import type { ProofEvidence } from '../proof-evidence';
import type { VerificationPolicy } from '../verification-policy';
import { fail, pass, type CheckResult } from '../verification-report';
import { notChecked } from './not-checked';

const ID = 'signer-chain';

/** The time the signer's certificate is judged at, and why that time. */
export interface SignerChainTime {
  time: Date;
  basis: string;
}

/**
 * Signer chain: the signer certificate's path to a trust anchor, valid at `at`, and its key usage.
 * The caller passes the genTime of a time-stamp that passed its checks (proof that the signature
 * existed then: what lets a CAdES-T proof outlive its signer certificate), or else the validation time.
 */
export async function checkSignerChain(
  evidence: ProofEvidence,
  policy: VerificationPolicy,
  at: SignerChainTime,
): Promise<CheckResult> {
  if (!evidence.signerCertificate.ok) return notChecked(ID, evidence.signerCertificate.problem);
  const certificate = evidence.signerCertificate.value;
  const outcome = await validateChainAt(certificate, evidence.intermediates, policy.trustAnchors, at.time);
  const when = `at ${at.time.toISOString()} (${at.basis})`;
  if ('problem' in outcome) {
    return fail(ID, `signer certificate ${shortName(certificate)} is not valid ${when}: ${outcome.problem}`);
  }
  const keyUsage =
    certificate.keyUsage === undefined
      ? 'no keyUsage extension'
      : `key usage ${certificate.keyUsage.join(', ')}`;
  return pass(
    ID,
    `${shortName(certificate)} chains to ${outcome.anchor}, valid ${when}; ${keyUsage}; revocation not checked (offline)`,
  );
}
