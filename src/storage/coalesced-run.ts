/**
 * One asynchronous operation run for many callers, one run at a time: a request while none runs starts
 * one; the requests made while one runs share the next, started when the running one ends (the running
 * one may have begun before what its callers need covered, e.g. their commit, so it does not count for
 * them). A run's failure rejects its callers only; the next request starts a new run.
 */
export class CoalescedRun<T> {
  private running: Promise<T> | undefined;
  private next: Promise<T> | undefined;
  private started = 0;

  constructor(private readonly operation: () => Promise<T>) {}

  /** Runs started so far. */
  get runs(): number {
    return this.started;
  }

  /** Resolves (or rejects) with the outcome of a run started after this call. */
  request(): Promise<T> {
    if (this.running === undefined) return this.start();
    this.next ??= this.running.then(
      () => this.start(),
      () => this.start(),
    );
    return this.next;
  }

  /** Settles once no run is running or waiting to start, whatever their outcomes. */
  async idle(): Promise<void> {
    const ignore = () => undefined;
    // A run waiting to start begins when the running one settles, so `running` is then the next one.
    while (this.running !== undefined) await this.running.then(ignore, ignore);
  }

  private start(): Promise<T> {
    this.next = undefined;
    this.started += 1;
    const run = this.operation();
    this.running = run;
    const clear = () => {
      if (this.running === run) this.running = undefined;
    };
    run.then(clear, clear);
    return run;
  }
}
