import { afterTransientFailure, retryDelayMs, type RetrySettings } from '../../src/delivery/retry-schedule';

const settings: RetrySettings = { retryBaseMs: 1000, retryMaxMs: 60_000, retryPeriodMs: 3_600_000 };
const lowest = () => 0;
const highest = () => 0.999999;

describe('retryDelayMs', () => {
  it('doubles the step with every failed attempt, half fixed and half jittered', () => {
    const steps = [1, 2, 3, 4, 5].map((attempt) => [
      retryDelayMs(attempt, settings, lowest),
      retryDelayMs(attempt, settings, highest),
    ]);
    expect(steps).toEqual([
      [500, 1000],
      [1000, 2000],
      [2000, 4000],
      [4000, 8000],
      [8000, 16_000],
    ]);
    expect(retryDelayMs(3, settings, () => 0.5)).toBe(3000);
  });

  it('never exceeds the maximum step, however many attempts failed', () => {
    expect(retryDelayMs(7, settings, highest)).toBe(60_000);
    expect(retryDelayMs(7, settings, lowest)).toBe(30_000);
    expect(retryDelayMs(10_000, settings, highest)).toBe(60_000);
  });

  it("takes the e-Box's Retry-After as a minimum, not as a maximum", () => {
    expect(retryDelayMs(1, settings, lowest, 120_000)).toBe(120_000);
    expect(retryDelayMs(5, settings, lowest, 1000)).toBe(8000);
  });

  it('keeps the delay within the step when the random source misbehaves', () => {
    expect(retryDelayMs(1, settings, () => -3)).toBe(500);
    expect(retryDelayMs(1, settings, () => 7)).toBe(1000);
  });
});

describe('afterTransientFailure', () => {
  const acceptedAt = new Date('2026-03-01T10:00:00Z');

  it('retries within the retry period, at now plus the delay', () => {
    const now = new Date('2026-03-01T10:30:00Z');
    expect(
      afterTransientFailure({ acceptedAt, now, failedAttempts: 2, error: 'HTTP 503' }, settings, lowest),
    ).toEqual({ retry: true, delayMs: 1000, nextAttemptAt: new Date('2026-03-01T10:30:01Z') });
  });

  it('gives up once the retry period since acceptance is over, naming the last error', () => {
    const now = new Date('2026-03-01T11:00:00Z');
    const decision = afterTransientFailure(
      { acceptedAt, now, failedAttempts: 9, error: 'the e-Box answered 503 INJECTED_FAULT' },
      settings,
      lowest,
    );
    expect(decision).toEqual({
      retry: false,
      reason:
        'retries exhausted: still failing 1h after acceptance (9 attempts); ' +
        'last error: the e-Box answered 503 INJECTED_FAULT',
    });
  });

  it('still retries one millisecond before the end of the period', () => {
    const now = new Date(acceptedAt.getTime() + settings.retryPeriodMs - 1);
    expect(
      afterTransientFailure({ acceptedAt, now, failedAttempts: 9, error: 'x' }, settings, lowest).retry,
    ).toBe(true);
  });
});
