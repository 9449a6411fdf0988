import type { BenchResult, EndToEndResult, RequestPathResult } from './modes';

/*
 * `--runs <n>`: every load mode runs n times, each time on its own service (as n separate
 * `npm run bench` would), and the report gives the median of each figure over the runs. This machine's
 * speed drifts by a quarter within minutes (other tenants), so one run says little; the targets
 * are read on medians of several runs.
 */

/** The median of each figure over the runs of one measurement (one mode, one database). */
export interface MedianFigures {
  mode: 'send' | 'status' | 'e2e';
  /** What was measured, as the report's rows name it: `sendDocument`, `getStatus (1000 seeded)`, … */
  label: string;
  /** How many runs the medians are taken over. */
  runs: number;
  /** Measured requests of each run. */
  requestsPerRun: number;
  /** Errors of all runs together (not a median: any error is worth seeing). */
  errors: number;
  throughputPerSecond: number;
  p50Ms: number;
  p95Ms: number;
  p99Ms: number;
  cpuPerRequestMs: number;
  floorMs: number;
  ratioToFloor: number;
  /** End to end only: delivered items per second. */
  sustainedItemsPerSecond?: number;
}

type LoadModeResult = RequestPathResult | EndToEndResult;

/** The median of `values` (the mean of the two middle ones for an even count). */
export function median(values: readonly number[]): number {
  if (values.length === 0) return Number.NaN;
  const sorted = [...values].sort((a, b) => a - b);
  const middle = Math.floor(sorted.length / 2);
  return sorted.length % 2 === 1 ? sorted[middle] : (sorted[middle - 1] + sorted[middle]) / 2;
}

/** The name of what a load mode's result measured, as the report's rows give it. */
export function measurementLabel(result: LoadModeResult): string {
  if (result.mode === 'e2e') return 'send + deliver';
  return result.seed ? `${result.operation} (${result.seed.items} seeded)` : result.operation;
}

/**
 * The medians of every measurement that was run more than once, in the order of their first run. Each
 * figure's median is taken on its own, so a row's figures may come from different runs (the median
 * throughput's run need not be the median p99's).
 */
export function medianFigures(results: readonly BenchResult[]): MedianFigures[] {
  const groups = new Map<string, LoadModeResult[]>();
  for (const result of results) {
    if (result.mode === 'large') continue;
    const key = `${result.mode} ${measurementLabel(result)}`;
    const runs = groups.get(key);
    if (runs) runs.push(result);
    else groups.set(key, [result]);
  }
  return [...groups.values()]
    .filter((runs) => runs.length > 1)
    .map((runs) => {
      const of = (figure: (result: LoadModeResult) => number) => median(runs.map(figure));
      const endToEnd = runs.filter((result): result is EndToEndResult => result.mode === 'e2e');
      return {
        mode: runs[0].mode,
        label: measurementLabel(runs[0]),
        runs: runs.length,
        requestsPerRun: runs[0].load.requests,
        errors: runs.reduce((sum, result) => sum + result.load.errors, 0),
        throughputPerSecond: of((result) => result.load.throughputPerSecond),
        p50Ms: of((result) => result.load.latencyMs.p50),
        p95Ms: of((result) => result.load.latencyMs.p95),
        p99Ms: of((result) => result.load.latencyMs.p99),
        cpuPerRequestMs: of((result) => result.cpu.perRequestMs),
        floorMs: of((result) => result.cpu.floorMs),
        ratioToFloor: of((result) => result.cpu.ratioToFloor),
        ...(endToEnd.length > 0
          ? { sustainedItemsPerSecond: median(endToEnd.map((result) => result.sustainedItemsPerSecond)) }
          : {}),
      };
    });
}
