import {
  DEATH_MEMORY_MS,
  FIRST_RESTART_DELAY_MS,
  MAX_RESTART_DELAY_MS,
  restartDelayMs,
  WorkerDeaths,
} from '../../src/app/restart-backoff';

describe('restarting a worker that died', () => {
  it('waits a little after one death, twice as long after each further one, never more than the cap', () => {
    expect(restartDelayMs(1)).toBe(FIRST_RESTART_DELAY_MS);
    expect(restartDelayMs(2)).toBe(2 * FIRST_RESTART_DELAY_MS);
    expect(restartDelayMs(3)).toBe(4 * FIRST_RESTART_DELAY_MS);
    expect(restartDelayMs(1000)).toBe(MAX_RESTART_DELAY_MS);
  });

  it('forgets deaths older than the memory window: a worker that ran a while was healthy', () => {
    const deaths = new WorkerDeaths();
    const start = Date.parse('2026-01-01T00:00:00Z');
    expect(deaths.record(start)).toBe(FIRST_RESTART_DELAY_MS);
    expect(deaths.record(start + 1000)).toBe(2 * FIRST_RESTART_DELAY_MS);
    expect(deaths.record(start + 2000)).toBe(4 * FIRST_RESTART_DELAY_MS);
    expect(deaths.record(start + 2000 + DEATH_MEMORY_MS)).toBe(FIRST_RESTART_DELAY_MS);
  });
});
