/**
 * When a publication that failed for a transient reason is tried again, and when retrying stops.
 *
 * Delays grow exponentially (base, 2 × base, 4 × base, … up to a maximum) with "equal jitter": half of
 * the delay is fixed, the other half random, so that the items of one e-Box outage do not all come back
 * at the same instant while every item still waits at least half its step. A `Retry-After` from the
 * e-Box is a minimum. Retrying stops once the item has been waiting for the whole retry period since its
 * acceptance: the item then fails for good.
 */

/** The retry rule's settings, in milliseconds. */
export interface RetrySettings {
  /** The delay step after the first failed attempt (before jitter). */
  retryBaseMs: number;
  /** The largest step (before jitter). */
  retryMaxMs: number;
  /** How long after its acceptance an item is still retried. */
  retryPeriodMs: number;
}

/** A source of random numbers in [0, 1), like `Math.random`; injected so that tests are deterministic. */
export type RandomSource = () => number;

/** The largest exponent used: beyond it `2^n` only overflows the maximum anyway. */
const MAX_EXPONENT = 52;

/**
 * The delay before the next attempt after the `failedAttempts`-th failed attempt (1 for the first):
 * the step `min(base × 2^(failedAttempts − 1), max)`, half of it fixed and half of it jittered, and never
 * less than `retryAfterMs` when the e-Box asked for it.
 */
export function retryDelayMs(
  failedAttempts: number,
  settings: Pick<RetrySettings, 'retryBaseMs' | 'retryMaxMs'>,
  random: RandomSource,
  retryAfterMs?: number,
): number {
  const exponent = Math.min(Math.max(failedAttempts, 1) - 1, MAX_EXPONENT);
  const step = Math.min(settings.retryBaseMs * 2 ** exponent, settings.retryMaxMs);
  // A random source that strays outside [0, 1) must not make a negative or oversized delay.
  const fraction = Math.min(Math.max(random(), 0), 1);
  const jittered = Math.round(step / 2 + fraction * (step / 2));
  return Math.max(jittered, retryAfterMs ?? 0);
}

/** What follows a transient failure: another attempt at `nextAttemptAt`, or failing for good. */
export type RetryDecision =
  { retry: true; nextAttemptAt: Date; delayMs: number } | { retry: false; reason: string };

/** The facts about a transient failure that the decision rests on. */
export interface TransientFailure {
  /** When the item was accepted: the retry period runs from there. */
  acceptedAt: Date;
  /** Now (the injected clock's). */
  now: Date;
  /** Failed attempts including this one. */
  failedAttempts: number;
  /** What went wrong this time (for operators; never document content). */
  error: string;
  /** The e-Box's `Retry-After`, when it gave one. */
  retryAfterMs?: number;
  /**
   * The message already lies in the e-Box (only its proof failed): the item was delivered and is never
   * given up; it is retried, at the longest interval at most, until the proof can be issued.
   */
  delivered?: boolean;
}

/**
 * Decides what a transient failure leads to: when the retry period since acceptance is over, the item
 * fails for good with a reason that states the last error and that retries were exhausted; otherwise it
 * is tried again after {@link retryDelayMs}.
 */
export function afterTransientFailure(
  failure: TransientFailure,
  settings: RetrySettings,
  random: RandomSource,
): RetryDecision {
  const waitedMs = failure.now.getTime() - failure.acceptedAt.getTime();
  if (waitedMs >= settings.retryPeriodMs && failure.delivered !== true) {
    return {
      retry: false,
      reason:
        `retries exhausted: still failing ${formatDuration(waitedMs)} after acceptance ` +
        `(${failure.failedAttempts} attempts); last error: ${failure.error}`,
    };
  }
  const delayMs = retryDelayMs(failure.failedAttempts, settings, random, failure.retryAfterMs);
  return { retry: true, delayMs, nextAttemptAt: new Date(failure.now.getTime() + delayMs) };
}

/** A duration for people: `2h 5m`, `45s`. */
function formatDuration(milliseconds: number): string {
  const totalSeconds = Math.floor(milliseconds / 1000);
  const units: [number, string][] = [
    [Math.floor(totalSeconds / 86_400), 'd'],
    [Math.floor(totalSeconds / 3600) % 24, 'h'],
    [Math.floor(totalSeconds / 60) % 60, 'm'],
    [totalSeconds % 60, 's'],
  ];
  const shown = units.filter(([value]) => value > 0).map(([value, unit]) => `${value}${unit}`);
  return shown.length > 0 ? shown.join(' ') : `${milliseconds}ms`;
}
