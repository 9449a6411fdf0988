import { checkCmsSignature } from './checks/cms-signature';
import { checkContentDigest } from './checks/content-digest';
import { checkSignedAttributes } from './checks/signed-attributes';
import { checkSignerChain, type SignerChainTime } from './checks/signer-chain';
import { checkSigningCertificate } from './checks/signing-certificate';
import { checkTimeStampImprint } from './checks/time-stamp-imprint';
import { checkTimeStampPresent } from './checks/time-stamp-present';
import { checkTimes } from './checks/times';
import { checkTsaCertificate } from './checks/tsa-certificate';
import { checkTsaSignature } from './checks/tsa-signature';
import { readProofEvidence, type ProofInput } from './proof-evidence';
import type { VerificationPolicy } from './verification-policy';
import {
  proofReport,
  verificationReport,
  type ProofReport,
  type VerificationReport,
} from './verification-report';

/**
 * Verifies one proof (a detached CAdES signature over its content) offline and reports every check.
 *
 * Which time certificates are judged at: the TSA certificate at the validation time; the signer
 * certificate at the time-stamp's genTime when the time-stamp passes all its checks (imprint, TSA
 * signature, TSA certificate): the token proves the signature existed then, so the proof outlives
 * the signer certificate's expiry. Without such a time-stamp, the signer certificate is judged at the
 * validation time (the signing-time attribute is only the signer's claim).
 */
export async function verifyProof(input: ProofInput, policy: VerificationPolicy): Promise<ProofReport> {
  const evidence = readProofEvidence(input, policy.trustAnchors);
  const timeStampChecks = [
    checkTimeStampPresent(evidence),
    checkTimeStampImprint(evidence),
    checkTsaSignature(evidence),
    await checkTsaCertificate(evidence, policy),
  ];
  const timeStampVerified =
    evidence.timeStamp.ok && timeStampChecks.every((check) => check.result === 'PASS');
  const signerTime: SignerChainTime =
    evidence.timeStamp.ok && timeStampVerified
      ? { time: evidence.timeStamp.value.tstInfo.genTime, basis: 'genTime of the verified time-stamp' }
      : { time: policy.validationTime, basis: 'validation time: no verified time-stamp' };
  return proofReport(input.label, [
    checkContentDigest(evidence),
    checkCmsSignature(evidence),
    await checkSignerChain(evidence, policy, signerTime),
    checkSignedAttributes(evidence),
    checkSigningCertificate(evidence),
    ...timeStampChecks,
    checkTimes(evidence, policy),
  ]);
}

/** Verifies several proofs (e.g. every SignedFile of a response) under one policy. */
export async function verifyProofs(
  inputs: readonly ProofInput[],
  policy: VerificationPolicy,
): Promise<VerificationReport> {
  const reports: ProofReport[] = [];
  for (const input of inputs) reports.push(await verifyProof(input, policy));
  return verificationReport(policy.validationTime, reports);
}
