import type { CrossProcessWriteLock } from '../../src/storage/serial-access';

/** A cross-process lock whose grants the test hands out, recording what happens. */
export class ManualWriteLock implements CrossProcessWriteLock {
  readonly events: string[] = [];
  private readonly waiting: (() => void)[] = [];
  private acquisitions = 0;

  acquire(): Promise<() => void> {
    this.acquisitions += 1;
    const number = this.acquisitions;
    this.events.push(`requested ${number}`);
    return new Promise((resolve) =>
      this.waiting.push(() => {
        this.events.push(`granted ${number}`);
        resolve(() => this.events.push(`released ${number}`));
      }),
    );
  }

  /** How many acquisitions wait for their grant. */
  get waitingCount(): number {
    return this.waiting.length;
  }

  grantNext(): void {
    const next = this.waiting.shift();
    if (next === undefined) throw new Error('nobody waits for the lock');
    next();
  }
}

/** Lets pending promise callbacks and immediates run. */
export async function settle(): Promise<void> {
  for (let turn = 0; turn < 5; turn += 1) await new Promise<void>((resolve) => setImmediate(resolve));
}
