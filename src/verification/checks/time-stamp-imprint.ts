import type { ProofEvidence } from '../proof-evidence';
import { digest, digestAlgorithm } from '../signature-algorithms';
import { fail, pass, type CheckResult } from '../verification-report';
import { notChecked } from './not-checked';

const ID = 'time-stamp-imprint';

/**
 * Time-stamp imprint: the token's message imprint is the hash of the SignerInfo's signature value
 * (ETSI EN 319 122-1 signature-time-stamp), so the token dates this signature and nothing else.
 */
export function checkTimeStampImprint(evidence: ProofEvidence): CheckResult {
  if (!evidence.signature.ok) return notChecked(ID, evidence.signature.problem);
  if (!evidence.timeStamp.ok) return notChecked(ID, evidence.timeStamp.problem);
  const { tstInfo } = evidence.timeStamp.value;
  const algorithm = digestAlgorithm(tstInfo.imprintAlgorithm);
  if ('problem' in algorithm) return fail(ID, `message imprint: ${algorithm.problem}`);
  const name = algorithm.algorithm.name;
  const expected = digest(algorithm.algorithm, evidence.signature.value.signerInfo.signatureValue);
  if (!expected.equals(tstInfo.hashedMessage)) {
    return fail(
      ID,
      `the token's message imprint (${name} ${tstInfo.hashedMessage.toString('hex')}) is not the ${name} of the SignerInfo's signature value (${expected.toString('hex')}): the token time-stamps other data`,
    );
  }
  return pass(
    ID,
    `message imprint = ${name} of the SignerInfo's signature value (${expected.toString('hex')})`,
  );
}
