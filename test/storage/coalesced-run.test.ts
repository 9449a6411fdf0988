import { CoalescedRun } from '../../src/storage/coalesced-run';

/** A CoalescedRun over an operation whose runs end when the test says so (`ends[n]`: the n-th run's). */
function controlledRuns() {
  const ends: { resolve: (value: number) => void; reject: (error: Error) => void }[] = [];
  const runs = new CoalescedRun(
    () => new Promise<number>((resolve, reject) => ends.push({ resolve, reject })),
  );
  return { runs, ends };
}

const turn = () => new Promise((resolve) => setImmediate(resolve));

describe('CoalescedRun', () => {
  it('starts a run at once when none runs', async () => {
    const { runs, ends } = controlledRuns();
    const first = runs.request();
    expect(runs.runs).toBe(1);
    ends[0].resolve(1);
    await expect(first).resolves.toBe(1);
  });

  it('requests made during a run share one next run, started when the running one ends', async () => {
    const { runs, ends } = controlledRuns();
    const first = runs.request();
    const second = runs.request();
    const third = runs.request();
    expect(runs.runs).toBe(1);
    ends[0].resolve(1);
    await expect(first).resolves.toBe(1);
    await turn();
    expect(runs.runs).toBe(2);
    ends[1].resolve(2);
    await expect(second).resolves.toBe(2);
    await expect(third).resolves.toBe(2);
  });

  it('a failed run rejects its callers only; the next request runs again', async () => {
    const { runs, ends } = controlledRuns();
    const failing = runs.request();
    const queued = runs.request();
    ends[0].reject(new Error('disk gone'));
    await expect(failing).rejects.toThrow('disk gone');
    await turn();
    ends[1].resolve(7);
    await expect(queued).resolves.toBe(7);
    const later = runs.request();
    expect(runs.runs).toBe(3);
    ends[2].resolve(8);
    await expect(later).resolves.toBe(8);
  });

  it('idle() settles once neither a running run nor a waiting one is left, whatever their outcomes', async () => {
    const { runs, ends } = controlledRuns();
    await runs.idle(); // nothing runs
    const first = runs.request();
    const second = runs.request(); // waits for the first
    let idle = false;
    const waiting = runs.idle().then(() => (idle = true));
    ends[0].reject(new Error('EIO'));
    await expect(first).rejects.toThrow('EIO');
    await turn();
    expect(runs.runs).toBe(2);
    expect(idle).toBe(false);
    ends[1].resolve(2);
    await expect(second).resolves.toBe(2);
    await waiting;
    expect(idle).toBe(true);
  });
});
