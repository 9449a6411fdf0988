import { fail, type CheckId, type CheckResult } from '../verification-report';

/** A check that could not run because something it needs is missing or unreadable. */
export function notChecked(id: CheckId, problem: string): CheckResult {
  return fail(id, `not checked: ${problem}`);
}
