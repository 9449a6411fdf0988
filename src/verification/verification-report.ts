/*
 * What verify-proof reports: for each proof (one signature over one content), every check in a fixed
 * order with PASS or FAIL and a message that says what was compared. A proof passes only when every
 * check passes; a check that cannot run (its input is missing or unreadable) fails and says why.
 */

/** The checks, in the order they are reported. */
export const CHECK_ORDER = [
  'content-digest',
  'cms-signature',
  'signer-chain',
  'signed-attributes',
  'signing-certificate',
  'time-stamp-present',
  'time-stamp-imprint',
  'tsa-signature',
  'tsa-certificate',
  'times',
] as const;

/** One of {@link CHECK_ORDER}. */
export type CheckId = (typeof CHECK_ORDER)[number];

/** The human name of each check, as printed. */
export const CHECK_NAMES: Readonly<Record<CheckId, string>> = {
  'content-digest': 'content digest',
  'cms-signature': 'CMS signature',
  'signer-chain': 'signer certificate chain',
  'signed-attributes': 'signed attributes',
  'signing-certificate': 'signing-certificate-v2',
  'time-stamp-present': 'time-stamp present',
  'time-stamp-imprint': 'time-stamp imprint',
  'tsa-signature': 'TSA signature',
  'tsa-certificate': 'TSA certificate',
  times: 'times',
};

/** The outcome of one check. */
export interface CheckResult {
  id: CheckId;
  result: 'PASS' | 'FAIL';
  message: string;
}

/** Every check of one proof. */
export interface ProofReport {
  /** What was verified, e.g. `Receipt/Document (cid:receipt-1@registeredmail)`. */
  label: string;
  passed: boolean;
  checks: CheckResult[];
}

/** The outcome of one verify-proof run. */
export interface VerificationReport {
  /** The time certificates and time-stamps were judged at. */
  validationTime: Date;
  passed: boolean;
  proofs: ProofReport[];
}

/** A passing check. */
export function pass(id: CheckId, message: string): CheckResult {
  return { id, result: 'PASS', message };
}

/** A failing check. */
export function fail(id: CheckId, message: string): CheckResult {
  return { id, result: 'FAIL', message };
}

/** A proof report from its checks, put in {@link CHECK_ORDER}. */
export function proofReport(label: string, checks: readonly CheckResult[]): ProofReport {
  const ordered = [...checks].sort((a, b) => CHECK_ORDER.indexOf(a.id) - CHECK_ORDER.indexOf(b.id));
  return { label, passed: ordered.every((check) => check.result === 'PASS'), checks: ordered };
}

/** The report of a run over one or more proofs; it passes when there is a proof and all pass. */
export function verificationReport(validationTime: Date, proofs: readonly ProofReport[]): VerificationReport {
  return {
    validationTime,
    passed: proofs.length > 0 && proofs.every((proof) => proof.passed),
    proofs: [...proofs],
  };
}

/** The report as text: one line per check, then the overall result. */
export function formatReport(report: VerificationReport): string {
  const width = Math.max(...Object.values(CHECK_NAMES).map((name) => name.length));
  const lines = [`Validation time: ${report.validationTime.toISOString()}`];
  for (const proof of report.proofs) {
    lines.push('', `Proof: ${proof.label}`);
    for (const check of proof.checks) {
      lines.push(`  ${check.result}  ${CHECK_NAMES[check.id].padEnd(width)}  ${check.message}`);
    }
    const failed = proof.checks.filter((check) => check.result === 'FAIL').length;
    lines.push(
      `  => ${proof.passed ? 'PASS' : 'FAIL'} (${proof.checks.length - failed} of ${proof.checks.length} checks passed)`,
    );
  }
  lines.push('', `Result: ${report.passed ? 'PASS' : 'FAIL'}`);
  return `${lines.join('\n')}\n`;
}

/** The report as a JSON-ready object (times as ISO strings, checks with their printed names). */
export function reportToJson(report: VerificationReport): unknown {
  return {
    validationTime: report.validationTime.toISOString(),
    passed: report.passed,
    proofs: report.proofs.map((proof) => ({
      label: proof.label,
      passed: proof.passed,
      checks: proof.checks.map((check) => ({
        id: check.id,
        name: CHECK_NAMES[check.id],
        result: check.result,
        message: check.message,
      })),
    })),
  };
}
