/** How one item of a batch ended. */
export type BatchOutcome<R> = { ok: true; value: R } | { ok: false; error: unknown };

/**
 * Runs `work` on every item, at most `concurrency` at once, in the items' order of start, and tells
 * `settled` as each ends (in the order they end). A failure is an outcome, never a reason to stop.
 * @returns the outcomes in the items' order
 */
export async function runWithConcurrency<T, R>(
  items: readonly T[],
  concurrency: number,
  work: (item: T) => Promise<R>,
  settled: (item: T, outcome: BatchOutcome<R>) => void,
): Promise<BatchOutcome<R>[]> {
  const outcomes = new Array<BatchOutcome<R>>(items.length);
  let next = 0;
  const worker = async () => {
    while (next < items.length) {
      const index = next;
      next += 1;
      let outcome: BatchOutcome<R>;
      try {
        outcome = { ok: true, value: await work(items[index]) };
      } catch (error) {
        outcome = { ok: false, error };
      }
      outcomes[index] = outcome;
      settled(items[index], outcome);
    }
  };
  await Promise.all(Array.from({ length: Math.max(1, Math.min(concurrency, items.length)) }, worker));
  return outcomes;
}
