import { VERIFICATION_OIDS } from '../cms-signed-data';
import type { ProofEvidence } from '../proof-evidence';
import { fail, pass, type CheckResult } from '../verification-report';
import { notChecked } from './not-checked';

const ID = 'time-stamp-present';

/** Time-stamp present: a readable signature-time-stamp unsigned attribute (what makes CAdES-BES CAdES-T). */
export function checkTimeStampPresent(evidence: ProofEvidence): CheckResult {
  const { timeStamp } = evidence;
  if (!evidence.signature.ok) return notChecked(ID, evidence.signature.problem);
  if (!timeStamp.ok) {
    if ('absent' in timeStamp) {
      return fail(
        ID,
        `no signature-time-stamp unsigned attribute (${VERIFICATION_OIDS.signatureTimeStampToken}): the signature is CAdES-BES, not CAdES-T`,
      );
    }
    return fail(ID, timeStamp.problem);
  }
  const { tstInfo } = timeStamp.value;
  const count = evidence.timeStampCount > 1 ? ` (the first of ${evidence.timeStampCount})` : '';
  return pass(
    ID,
    `signature-time-stamp token${count}: serial ${tstInfo.serialNumber.toString(16)}, policy ${tstInfo.policy}, genTime ${tstInfo.genTime.toISOString()}`,
  );
}
