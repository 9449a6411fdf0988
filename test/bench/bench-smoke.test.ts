import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import {
  runEndToEndMode,
  runLargeMode,
  runSendMode,
  runStatusMode,
  type BenchEnvironment,
  type LoadModeOptions,
  type RequestPathResult,
} from '../../bench/lib/modes';
import { latencyPercentiles, percentile } from '../../bench/lib/load';
import { formatReport, machineFacts, writeReportJson, type BenchReport } from '../../bench/lib/report';
import { parseSize } from '../../bench/lib/sizes';
import { TranspiledSources } from '../support/child-processes';

/*
 * A smoke run of the benchmark harness (bench/, `npm run bench`): every mode with a handful of requests
 * against the service started as its own process, so that the harness keeps working. It checks that
 * every figure is there, that nothing failed and that the numbers are positive; it asserts no timing.
 * The service runs from its sources transpiled once (what `npm run build` would give, without the wait).
 */

const ROOT = path.join(__dirname, '..', '..');
const SMALL: LoadModeOptions = {
  requests: 20,
  concurrency: 2,
  warmup: 2,
  documentBytes: 1024,
  floorRepetitions: 5,
};

function expectPositive(values: Record<string, number>): void {
  for (const [name, value] of Object.entries(values)) {
    expect({ name, positive: Number.isFinite(value) && value > 0 }).toEqual({ name, positive: true });
  }
}

function expectRequestPathFigures(result: RequestPathResult): void {
  expect(result.load).toMatchObject({ requests: SMALL.requests, ok: SMALL.requests, errors: 0 });
  expect(result.load.spareRequestsUsed).toBe(0);
  expectPositive({
    throughput: result.load.throughputPerSecond,
    p50: result.load.latencyMs.p50,
    p95: result.load.latencyMs.p95,
    p99: result.load.latencyMs.p99,
    cpuTotal: result.cpu.totalMs,
    cpuPerRequest: result.cpu.perRequestMs,
    floor: result.cpu.floorMs,
    ratio: result.cpu.ratioToFloor,
    generatorCpu: result.load.generatorCpuMs,
    verify: result.cryptoFloor.primitivesMs.verify,
    sign: result.cryptoFloor.primitivesMs.signerSign,
    receiptBytes: result.cryptoFloor.sizes.receiptBytes,
  });
  expect(result.load.latencyMs.p50).toBeLessThanOrEqual(result.load.latencyMs.p99);
  // Before the phase (after the warm-up) and after it.
  expect(result.cryptoFloor.measures).toBe(2);
  expect(result.settings).toMatchObject({ RM_DELIVERY_PAUSED: 'true', RM_TIMESTAMP_MAX_AGE_SECONDS: '3600' });
}

describe('benchmark harness (smoke run, small N)', () => {
  let sources: TranspiledSources;
  let workDir: string;
  let environment: BenchEnvironment;
  const report: BenchReport = {
    command: 'smoke',
    startedAt: new Date().toISOString(),
    machine: machineFacts(),
    results: [],
    medians: [],
  };

  beforeAll(() => {
    sources = TranspiledSources.create();
    workDir = mkdtempSync(path.join(os.tmpdir(), 'rm-bench-smoke-'));
    environment = {
      serviceEntry: sources.entry('src/cli/main.ts'),
      projectRoot: ROOT,
      workDir,
      log: () => undefined,
    };
  });
  afterAll(() => {
    sources?.remove();
    if (workDir) rmSync(workDir, { recursive: true, force: true });
  });

  let emptySend: RequestPathResult | undefined;

  it('send: sendDocument with delivery paused, every request answered and its item stored', async () => {
    const result = await runSendMode(environment, SMALL);
    emptySend = result;
    report.results.push(result);
    expectRequestPathFigures(result);
    expect(result.operation).toBe('sendDocument');
    expect(result.items).toEqual({ PENDING: SMALL.warmup + SMALL.requests });
    expect(result.cpu.floorMs).toBeCloseTo(result.cryptoFloor.floorMs.sendDocument, 10);
    // From the service's /metrics: each request wrote its replay-cache entry and its item, grouped into
    // at most as many transactions, each durable one fsynced at most once.
    const writePath = result.writePath!;
    expect(writePath.transactionsPerRequest).toBeGreaterThan(0);
    expect(writePath.transactionsPerRequest * writePath.writesPerTransaction).toBeCloseTo(2, 10);
    expect(writePath.walFsyncsPerRequest).toBeGreaterThan(0);
    expect(writePath.walFsyncsPerRequest).toBeLessThanOrEqual(writePath.transactionsPerRequest);
  }, 120_000);

  it('status: getStatus of items created in the warm-up', async () => {
    const result = await runStatusMode(environment, SMALL);
    report.results.push(result);
    expectRequestPathFigures(result);
    expect(result.operation).toBe('getStatus');
    expect(result.cpu.floorMs).toBeCloseTo(result.cryptoFloor.floorMs.getStatus, 10);
    expect(result.cryptoFloor.floorMs.getStatus).toBeLessThan(result.cryptoFloor.floorMs.sendDocument);
  }, 120_000);

  it('large: one 1 MiB document streamed, with the server memory read', async () => {
    const result = await runLargeMode(environment, { sizeBytes: 1024 * 1024, floorRepetitions: 5 });
    report.results.push(result);
    expect(result).toMatchObject({ ok: true, status: 200, sizeBytes: 1024 * 1024 });
    expectPositive({
      duration: result.durationMs,
      mibPerSecond: result.mibPerSecond,
      idleRss: result.idleRssBytes,
      peakRss: result.peakRssBytes,
      floor: result.cpu.floorMs,
      hashedBytes: result.cryptoFloor.sizes.documentBytes,
    });
    expect(result.cryptoFloor.measures).toBe(2);
    expect(Number(result.settings.RM_MAX_REQUEST_BYTES)).toBeGreaterThan(1024 * 1024);
  }, 120_000);

  it('e2e: with delivery running, every item ends SENT and the ProofOfDispatch counts in the floor', async () => {
    const result = await runEndToEndMode(environment, SMALL);
    report.results.push(result);
    expect(result.load).toMatchObject({ requests: SMALL.requests, ok: SMALL.requests, errors: 0 });
    expect(result.items).toEqual({ SENT: SMALL.warmup + SMALL.requests });
    expect(result.settings.RM_DELIVERY_PAUSED).toBe('false');
    // The e-Box is the simulator in its own process; its CPU is part of the figure, never more than it.
    expect(result.settings.RM_EBOX_URL).toMatch(/^http:\/\/127\.0\.0\.1:\d+/);
    expect(result.eboxCpuMs).toBeGreaterThanOrEqual(0);
    expect(result.eboxCpuMs).toBeLessThanOrEqual(result.cpu.totalMs);
    expectPositive({
      delivered: result.deliveredMs,
      sustained: result.sustainedItemsPerSecond,
      cpuPerItem: result.cpu.perRequestMs,
      evidenceBytes: result.cryptoFloor.sizes.evidenceBytes,
      ratio: result.cpu.ratioToFloor,
    });
    expect(result.cryptoFloor.floorMs.endToEnd).toBeGreaterThan(result.cryptoFloor.floorMs.sendDocument);
    expect(result.cryptoFloor.measures).toBe(2);
  }, 180_000);

  it('reports every result as a table and as JSON', () => {
    expect(report.results.map((result) => result.mode)).toEqual(['send', 'status', 'large', 'e2e']);
    const text = formatReport(report);
    for (const heading of ['sendDocument', 'getStatus', '1 MiB', 'send + deliver', 'CPU/floor', 'p99 ms']) {
      expect(text).toContain(heading);
    }
    expect(text).toMatch(
      /database writes of sendDocument: [\d.]+ transactions per request, [\d.]+ writes per transaction, [\d.]+ WAL fsyncs per request\n/,
    );
    // send, status and e2e each report what the load generator spent beside the service.
    expect(text).toMatch(
      /load generator \(autocannon, this process\) CPU ms\/request: [\d.]+, [\d.]+, [\d.]+\n/,
    );
    const file = path.join(workDir, 'results', 'smoke.json');
    writeReportJson(file, report);
    const written = JSON.parse(readFileSync(file, 'utf8')) as BenchReport;
    expect(written.results).toHaveLength(4);
    expect(written.machine.cpus).toBeGreaterThan(0);
  });

  it('send on a seeded database: the items are seeded before the service starts, and compared', async () => {
    const seedItems = 300;
    const result = await runSendMode(environment, { ...SMALL, seedItems });
    expectRequestPathFigures(result);
    expect(result.seed).toMatchObject({ items: seedItems });
    const seed = result.seed as NonNullable<RequestPathResult['seed']>;
    expect(seed.rowsByTable).toMatchObject({
      registered_mail_item: seedItems,
      item_receipt: seedItems,
    });
    expect(seed.rowsByTable.item_status_history).toBeGreaterThan(seedItems);
    expect(seed.rowsByTable.item_proof).toBeGreaterThan(0);
    expect(seed.rowsByTable.outbox_entry).toBe(seed.itemsByStatus.PENDING);
    expectPositive({ rowsPerSecond: seed.rowsPerSecond });
    // The seeded items are there beside the measured ones, in every status.
    const measured = SMALL.warmup + SMALL.requests;
    expect(result.items).toEqual({
      PENDING: measured + seed.itemsByStatus.PENDING,
      SENT: seed.itemsByStatus.SENT,
      ERROR: seed.itemsByStatus.ERROR,
    });
    // Compared with the empty database's run of the first test (the table needs both).
    const text = formatReport({ ...report, results: [...(emptySend ? [emptySend] : []), result] });
    if (emptySend) expect(text).toContain('Seeded database against an empty one');
    expect(text).toContain(`sendDocument (${seedItems} seeded)`);
  }, 120_000);
});

describe('benchmark helpers', () => {
  it('parses sizes in binary units', () => {
    expect(parseSize('1KiB')).toBe(1024);
    expect(parseSize('10MiB')).toBe(10 * 1024 * 1024);
    expect(parseSize('1GiB')).toBe(1024 ** 3);
    expect(parseSize('4096')).toBe(4096);
    expect(() => parseSize('ten')).toThrow(/not a size/);
  });

  it('takes percentiles by nearest rank', () => {
    const samples = Array.from({ length: 100 }, (_, i) => i + 1);
    expect(percentile(samples, 50)).toBe(50);
    expect(percentile(samples, 99)).toBe(99);
    expect(latencyPercentiles([3, 1, 2])).toEqual({ p50: 2, p95: 3, p99: 3, max: 3, mean: 2 });
  });
});
