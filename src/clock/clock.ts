/**
 * The one source of "now" for every rule about time (Timestamp TTL, replay expiry, leases, backoff,
 * certificate validity). Production uses {@link systemClock}; tests use {@link ManualClock} and move it.
 */
export interface Clock {
  now(): Date;
}

/** Wall-clock time. */
export const systemClock: Clock = { now: () => new Date() };

/** A clock that only moves when told to: tests set it, advance it, and never wait. */
export class ManualClock implements Clock {
  private current: number;

  constructor(start: Date | string | number = Date.now()) {
    this.current = new Date(start).getTime();
  }

  now(): Date {
    return new Date(this.current);
  }

  set(at: Date | string | number): void {
    this.current = new Date(at).getTime();
  }

  advance(milliseconds: number): void {
    this.current += milliseconds;
  }
}
