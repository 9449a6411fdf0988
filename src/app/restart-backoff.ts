/** The first restart of a worker that died waits this long. */
export const FIRST_RESTART_DELAY_MS = 200;
/** No restart waits longer than this. */
export const MAX_RESTART_DELAY_MS = 10_000;
/** Deaths further back than this no longer lengthen the wait (a worker that ran this long was healthy). */
export const DEATH_MEMORY_MS = 60_000;

/**
 * How long the primary waits before replacing a worker that died: {@link FIRST_RESTART_DELAY_MS},
 * doubled for each further death within {@link DEATH_MEMORY_MS}, at most {@link MAX_RESTART_DELAY_MS};
 * so a worker that crashes at once on every start (a broken disk, a bad CRL) does not spin.
 * @param recentDeaths deaths within {@link DEATH_MEMORY_MS}, this one included (at least 1)
 */
export function restartDelayMs(recentDeaths: number): number {
  const doublings = Math.max(0, Math.min(recentDeaths, 32) - 1);
  return Math.min(MAX_RESTART_DELAY_MS, FIRST_RESTART_DELAY_MS * 2 ** doublings);
}

/** Deaths of workers over time, remembered for {@link DEATH_MEMORY_MS}. */
export class WorkerDeaths {
  private times: number[] = [];

  /**
   * Records a death at `now` (epoch ms) and answers how long to wait before the replacement starts.
   */
  record(now: number): number {
    this.times = [...this.times.filter((time) => now - time < DEATH_MEMORY_MS), now];
    return restartDelayMs(this.times.length);
  }
}
