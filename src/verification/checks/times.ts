import { decodeDerTime, singleAttributeValue, VERIFICATION_OIDS } from '../cms-signed-data';
import { validAt, validityText } from '../certificate-facts';
import type { ProofEvidence } from '../proof-evidence';
import {
  DEFAULT_CLOCK_SKEW_MILLISECONDS,
  DEFAULT_MAX_TIME_STAMP_DELAY_MILLISECONDS,
  type VerificationPolicy,
} from '../verification-policy';
import { fail, pass, type CheckResult } from '../verification-report';
import { notChecked } from './not-checked';

const ID = 'times';

function seconds(milliseconds: number): string {
  return `${(milliseconds / 1000).toFixed(milliseconds % 1000 === 0 ? 0 : 3)} s`;
}

/**
 * Times: the genTime is not before the signing-time (less the clock skew and the token's accuracy) and
 * not unreasonably after it; the signing-time and the genTime lie within the signer certificate's
 * validity, the genTime within the TSA certificate's; neither is after the validation time.
 */
export function checkTimes(evidence: ProofEvidence, policy: VerificationPolicy): CheckResult {
  if (!evidence.signature.ok) return notChecked(ID, evidence.signature.problem);
  const attribute = singleAttributeValue(
    evidence.signature.value.signerInfo.signedAttributes,
    VERIFICATION_OIDS.signingTime,
    'signing-time',
  );
  if ('problem' in attribute) return notChecked(ID, attribute.problem);
  let signingTime: Date;
  try {
    signingTime = decodeDerTime(attribute.value);
  } catch {
    return notChecked(ID, 'the signing-time is not a valid time');
  }
  if (!evidence.timeStamp.ok) {
    return notChecked(
      ID,
      `${evidence.timeStamp.problem}: signing-time ${signingTime.toISOString()} is only the signer's claim`,
    );
  }
  const skew = policy.clockSkewMilliseconds ?? DEFAULT_CLOCK_SKEW_MILLISECONDS;
  const maxDelay = policy.maxTimeStampDelayMilliseconds ?? DEFAULT_MAX_TIME_STAMP_DELAY_MILLISECONDS;
  const { genTime, accuracyMilliseconds } = evidence.timeStamp.value.tstInfo;
  const delay = genTime.getTime() - signingTime.getTime();
  const problems: string[] = [];

  if (delay < -(skew + (accuracyMilliseconds ?? 0))) {
    problems.push(
      `genTime ${genTime.toISOString()} is ${seconds(-delay)} before signing-time ${signingTime.toISOString()} (tolerance ${seconds(skew)} plus the token's accuracy)`,
    );
  }
  if (delay > maxDelay) {
    problems.push(
      `genTime ${genTime.toISOString()} is ${seconds(delay)} after signing-time ${signingTime.toISOString()} (at most ${seconds(maxDelay)})`,
    );
  }
  const latest = policy.validationTime.getTime() + skew;
  if (signingTime.getTime() > latest)
    problems.push(`signing-time ${signingTime.toISOString()} is after the validation time`);
  if (genTime.getTime() > latest)
    problems.push(`genTime ${genTime.toISOString()} is after the validation time`);
  if (evidence.signerCertificate.ok) {
    const signer = evidence.signerCertificate.value;
    if (!validAt(signer, signingTime)) {
      problems.push(
        `signing-time ${signingTime.toISOString()} is outside the signer certificate's validity (${validityText(signer)})`,
      );
    }
    if (!validAt(signer, genTime)) {
      problems.push(
        `genTime ${genTime.toISOString()} is outside the signer certificate's validity (${validityText(signer)})`,
      );
    }
  } else {
    problems.push(`not compared with the signer certificate: ${evidence.signerCertificate.problem}`);
  }
  if (evidence.tsaCertificate.ok) {
    const tsa = evidence.tsaCertificate.value;
    if (!validAt(tsa, genTime)) {
      problems.push(
        `genTime ${genTime.toISOString()} is outside the TSA certificate's validity (${validityText(tsa)})`,
      );
    }
  } else {
    problems.push(`not compared with the TSA certificate: ${evidence.tsaCertificate.problem}`);
  }
  if (problems.length > 0) return fail(ID, problems.join('; '));
  const accuracy =
    accuracyMilliseconds === undefined ? 'no accuracy given' : `accuracy ${seconds(accuracyMilliseconds)}`;
  return pass(
    ID,
    `signing-time ${signingTime.toISOString()}, genTime ${genTime.toISOString()} (${delay >= 0 ? '+' : '-'}${seconds(Math.abs(delay))}, ${accuracy}); within the signer's and the TSA's certificate validity; not after the validation time`,
  );
}
