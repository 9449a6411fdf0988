import { readCertificatesFromPemFile } from '../../src/pki/pem';
import type { SignedFileDigest } from '../../src/verification/proof-evidence';
import { verifyProof } from '../../src/verification/verify-proof';
import { opensslCmsVerify } from './external-tools';

/*
 * A proof handed out by the service (a ProofOfDispatch, a consultation proof) checked as a recipient
 * would: `openssl cms -verify` over its bytes (and not over other bytes), and the project's own
 * verify-proof checks (digest, signature, chain, signing-certificate-v2, time-stamp, times).
 */

/** A detached signature and the bytes it signs. */
export interface ProofToCheck {
  label: string;
  content: Buffer;
  signature: Buffer;
  /** The SignedFile's Digest, when the proof came in a response. */
  signedFile?: SignedFileDigest;
}

/**
 * What openssl and verify-proof find wrong with a proof, trusting the CA of `caFile`, with certificates
 * judged at `validationTime`; empty when it verifies. Needs openssl on the PATH (tests that call it run
 * under `testWithTool('openssl')`).
 */
export async function proofProblems(
  proof: ProofToCheck,
  caFile: string,
  validationTime: Date,
): Promise<string[]> {
  const problems: string[] = [];
  const verified = opensslCmsVerify(proof.signature, proof.content, caFile);
  if (verified.status !== 0 || !/Verification successful/.test(verified.output))
    problems.push(`openssl cms -verify exited ${verified.status}: ${verified.output.trim()}`);
  const tampered = opensslCmsVerify(
    proof.signature,
    Buffer.concat([proof.content, Buffer.from(' ')]),
    caFile,
  );
  if (tampered.status === 0) problems.push('openssl cms -verify accepts other bytes than the proof');

  const report = await verifyProof(
    { label: proof.label, content: proof.content, signature: proof.signature, signedFile: proof.signedFile },
    { trustAnchors: await readCertificatesFromPemFile(caFile), validationTime },
  );
  for (const check of report.checks)
    if (check.result !== 'PASS') problems.push(`verify-proof ${check.id}: ${check.message}`);
  return problems;
}
