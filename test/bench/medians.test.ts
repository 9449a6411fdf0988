import type { CryptoFloor } from '../../bench/lib/crypto-floor';
import type { LoadResult } from '../../bench/lib/load';
import { median, medianFigures } from '../../bench/lib/medians';
import type { EndToEndResult, LargeDocumentResult, RequestPathResult } from '../../bench/lib/modes';
import { formatReport, machineFacts, type BenchReport } from '../../bench/lib/report';

/*
 * `--runs <n>`: the medians over the runs of each measurement, and how the report shows them. The runs
 * themselves are real runs of the modes (bench-command.test.ts runs the compiled command with --runs 2);
 * here the figures are made up, so that every median is known.
 */

function load(figures: { requests?: number; errors?: number; perSecond: number; p99: number }): LoadResult {
  return {
    requests: figures.requests ?? 100,
    ok: (figures.requests ?? 100) - (figures.errors ?? 0),
    errors: figures.errors ?? 0,
    errorDetail: { non2xx: figures.errors ?? 0, socketErrors: 0, timeouts: 0 },
    statuses: {},
    durationMs: 1000,
    throughputPerSecond: figures.perSecond,
    latencyMs: { p50: figures.p99 / 2, p95: figures.p99 - 1, p99: figures.p99 },
    spareRequestsUsed: 0,
    generatorCpuMs: 10,
  } as LoadResult;
}

const FLOOR = {
  repetitions: 5,
  measures: 2,
  primitivesMs: {
    verify: 0.03,
    signerSign: 0.3,
    tsaSign: 0.3,
    sha256Document: 0,
    sha256Receipt: 0,
    sha256Evidence: 0,
  },
  sizes: { documentBytes: 1024, receiptBytes: 6000, evidenceBytes: 0 },
  floorMs: { sendDocument: 0.93, getStatus: 0.33, endToEnd: 1.53 },
} as CryptoFloor;

function requestPath(
  operation: 'sendDocument' | 'getStatus',
  figures: { perSecond: number; p99: number; cpu: number; floor: number; errors?: number; seeded?: number },
): RequestPathResult {
  return {
    mode: operation === 'sendDocument' ? 'send' : 'status',
    operation,
    concurrency: 16,
    warmup: 10,
    documentBytes: 1024,
    presignMs: 1,
    load: load(figures),
    cpu: {
      totalMs: figures.cpu * 100,
      perRequestMs: figures.cpu,
      floorMs: figures.floor,
      ratioToFloor: figures.cpu / figures.floor,
    },
    cryptoFloor: FLOOR,
    items: {},
    ...(figures.seeded ? { seed: { items: figures.seeded } as RequestPathResult['seed'] } : {}),
    settings: { RM_TIMESTAMP_MAX_AGE_SECONDS: '3600', RM_LOG_LEVEL: 'warn' },
  };
}

function endToEnd(perSecond: number, sustained: number): EndToEndResult {
  return {
    mode: 'e2e',
    concurrency: 16,
    warmup: 10,
    documentBytes: 1024,
    presignMs: 1,
    load: load({ perSecond, p99: 40 }),
    deliveredMs: 1000,
    sustainedItemsPerSecond: sustained,
    cpu: { totalMs: 500, perRequestMs: 5, floorMs: 1.5, ratioToFloor: 5 / 1.5 },
    eboxCpuMs: 50,
    cryptoFloor: FLOOR,
    items: { SENT: 110 },
    settings: { RM_TIMESTAMP_MAX_AGE_SECONDS: '3600', RM_LOG_LEVEL: 'warn' },
  };
}

describe('median', () => {
  it('is the middle value of an odd count and the mean of the two middle ones of an even count', () => {
    expect(median([3, 1, 2])).toBe(2);
    expect(median([4, 1, 3, 2])).toBe(2.5);
    expect(median([7])).toBe(7);
    expect(median([])).toBeNaN();
  });

  it('does not reorder what it is given', () => {
    const values = [3, 1, 2];
    median(values);
    expect(values).toEqual([3, 1, 2]);
  });
});

describe('medianFigures', () => {
  it("takes each figure's own median over the runs of one measurement, and sums the errors", () => {
    const runs = [
      requestPath('sendDocument', { perSecond: 500, p99: 70, cpu: 3.0, floor: 1.0 }),
      requestPath('sendDocument', { perSecond: 600, p99: 50, cpu: 2.6, floor: 0.8, errors: 1 }),
      requestPath('sendDocument', { perSecond: 550, p99: 90, cpu: 3.3, floor: 1.2 }),
    ];
    expect(medianFigures(runs)).toEqual([
      {
        mode: 'send',
        label: 'sendDocument',
        runs: 3,
        requestsPerRun: 100,
        errors: 1,
        throughputPerSecond: 550,
        p50Ms: 35,
        p95Ms: 69,
        p99Ms: 70,
        cpuPerRequestMs: 3.0,
        floorMs: 1.0,
        // The median of the three ratios (3.0, 3.25, 2.75), not 3.0 / 1.0 by chance.
        ratioToFloor: 3.0,
      },
    ]);
  });

  it('keeps measurements apart: each operation, and a seeded database apart from an empty one', () => {
    const results = [
      requestPath('sendDocument', { perSecond: 500, p99: 60, cpu: 3, floor: 1 }),
      requestPath('sendDocument', { perSecond: 480, p99: 62, cpu: 3, floor: 1, seeded: 1000 }),
      requestPath('sendDocument', { perSecond: 520, p99: 58, cpu: 3, floor: 1 }),
      requestPath('sendDocument', { perSecond: 470, p99: 66, cpu: 3, floor: 1, seeded: 1000 }),
      requestPath('getStatus', { perSecond: 1300, p99: 20, cpu: 1.3, floor: 0.3 }),
      requestPath('getStatus', { perSecond: 1200, p99: 22, cpu: 1.3, floor: 0.3 }),
    ];
    const medians = medianFigures(results);
    expect(medians.map((figures) => [figures.label, figures.runs, figures.throughputPerSecond])).toEqual([
      ['sendDocument', 2, 510],
      ['sendDocument (1000 seeded)', 2, 475],
      ['getStatus', 2, 1250],
    ]);
  });

  it('gives no median for a measurement run once, nor for the large documents', () => {
    const large = { mode: 'large', sizeBytes: 1024 } as LargeDocumentResult;
    expect(
      medianFigures([
        requestPath('getStatus', { perSecond: 1300, p99: 20, cpu: 1.3, floor: 0.3 }),
        large,
        large,
      ]),
    ).toEqual([]);
  });

  it('gives the end-to-end runs their median of delivered items per second', () => {
    const [figures] = medianFigures([endToEnd(400, 180), endToEnd(420, 220), endToEnd(410, 200)]);
    expect(figures).toMatchObject({
      mode: 'e2e',
      label: 'send + deliver',
      runs: 3,
      sustainedItemsPerSecond: 200,
    });
  });
});

describe('the report with several runs', () => {
  const runs = [
    requestPath('sendDocument', { perSecond: 500, p99: 70, cpu: 3.0, floor: 1.0 }),
    requestPath('sendDocument', { perSecond: 480, p99: 75, cpu: 3.1, floor: 1.0, seeded: 1000 }),
    requestPath('sendDocument', { perSecond: 600, p99: 50, cpu: 2.6, floor: 0.8 }),
    requestPath('sendDocument', { perSecond: 590, p99: 52, cpu: 2.7, floor: 0.8, seeded: 1000 }),
  ];
  const report: BenchReport = {
    command: 'npm run bench -- --mode send --runs 2 --seed-items 1000',
    startedAt: new Date().toISOString(),
    machine: machineFacts(),
    results: runs,
    medians: medianFigures(runs),
  };
  const text = formatReport(report);

  it('lists every run, then a table of the medians', () => {
    expect(text.match(/^sendDocument +100 /gm)).toHaveLength(2);
    expect(text).toContain('Medians over the runs');
    // No delivered-items column without end-to-end runs.
    expect(text).toMatch(/^sendDocument +2 x 100 +0 +550\.0 +30\.0 +59\.0 +60\.0 +2\.80 +0\.90 +3\.13x$/m);
    expect(text).toMatch(/^sendDocument \(1000 seeded\) +2 x 100 +0 +535\.0 /m);
  });

  it('compares each seeded run with the empty run of its own round', () => {
    const comparison = text.split('Seeded database against an empty one\n')[1].split('\n\n')[0];
    const rows = comparison.split('\n').slice(2);
    expect(rows).toHaveLength(2);
    expect(rows[0]).toMatch(/^sendDocument +1000 +500\.0 +480\.0 +-4\.0%/);
    expect(rows[1]).toMatch(/^sendDocument +1000 +600\.0 +590\.0 +-1\.7%/);
  });

  it('gives delivered items per second beside the end-to-end medians, "-" for the request path', () => {
    const results = [...runs.slice(0, 1), runs[2], endToEnd(400, 180), endToEnd(420, 220)];
    const withDelivery = formatReport({ ...report, results, medians: medianFigures(results) });
    expect(withDelivery).toMatch(/^median of runs .* delivered items\/s$/m);
    expect(withDelivery).toMatch(/^sendDocument .* 3\.13x +-$/m);
    expect(withDelivery).toMatch(/^send \+ deliver +2 x 100 .* 200\.0$/m);
  });

  it('shows no medians table for single runs', () => {
    expect(formatReport({ ...report, results: runs.slice(0, 1), medians: [] })).not.toContain('Medians');
  });
});
