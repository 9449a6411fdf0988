/** The faults `POST /_test/faults` programs: the next `failNext` API calls are delayed and/or failed. */
export interface FaultPlan {
  failNext: number;
  /** The status those calls answer; without it they are only delayed, then served normally. */
  status?: 500 | 503 | 429 | 409 | 400;
  delayMs?: number;
}

/** What one API call must suffer. */
export interface Fault {
  status?: FaultPlan['status'];
  delayMs: number;
}

const STATUSES = new Set([500, 503, 429, 409, 400]);

/** Parses a fault plan from a request body; a string saying what is wrong otherwise. */
export function parseFaultPlan(raw: unknown): FaultPlan | string {
  const value = raw as Partial<FaultPlan> | null;
  if (typeof value !== 'object' || value === null) return 'a JSON object is expected';
  if (!Number.isInteger(value.failNext) || (value.failNext as number) < 0)
    return 'failNext must be an integer >= 0';
  if (value.status !== undefined && !STATUSES.has(value.status))
    return 'status must be 500, 503, 429, 409 or 400';
  if (
    value.delayMs !== undefined &&
    (!Number.isInteger(value.delayMs) || value.delayMs < 0 || value.delayMs > 600_000)
  )
    return 'delayMs must be an integer between 0 and 600000';
  return { failNext: value.failNext as number, status: value.status, delayMs: value.delayMs };
}

/** Hands out the programmed faults, one per API call, until they are used up. */
export class FaultInjector {
  private plan: FaultPlan = { failNext: 0 };

  /** Replaces the current plan. */
  program(plan: FaultPlan): void {
    this.plan = { ...plan };
  }

  /** No more faults. */
  reset(): void {
    this.plan = { failNext: 0 };
  }

  /** The fault for the call now arriving, if one is left. */
  take(): Fault | undefined {
    if (this.plan.failNext <= 0) return undefined;
    this.plan.failNext -= 1;
    return { status: this.plan.status, delayMs: this.plan.delayMs ?? 0 };
  }
}
