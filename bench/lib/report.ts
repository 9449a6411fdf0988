import { mkdirSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { measurementLabel, type MedianFigures } from './medians';
import type { BenchResult, EndToEndResult, LargeDocumentResult, RequestPathResult } from './modes';

/*
 * The figures as a person reads them (tables) and as a machine does (JSON).
 */

const MiB = 1024 * 1024;

/** A whole run: where, how, and every mode's result. */
export interface BenchReport {
  /** The command line that produced it. */
  command: string;
  startedAt: string;
  machine: { cpus: number; cpuModel: string; memoryBytes: number; node: string; platform: string };
  results: BenchResult[];
  /** With `--runs` above 1: the median of each figure over each measurement's runs. */
  medians: MedianFigures[];
}

/** Describes this machine. */
export function machineFacts(): BenchReport['machine'] {
  const cpus = os.cpus();
  return {
    cpus: cpus.length,
    cpuModel: cpus[0]?.model ?? 'unknown',
    memoryBytes: os.totalmem(),
    node: process.version,
    platform: `${os.platform()} ${os.release()}`,
  };
}

function fixed(value: number, digits: number): string {
  return Number.isFinite(value) ? value.toFixed(digits) : '-';
}

function table(header: string[], rows: string[][]): string {
  const widths = header.map((title, column) =>
    Math.max(title.length, ...rows.map((row) => (row[column] ?? '').length)),
  );
  const line = (cells: string[]) =>
    cells
      .map((cell, column) => (column === 0 ? cell.padEnd(widths[column]) : cell.padStart(widths[column])))
      .join('  ');
  return [line(header), widths.map((width) => '-'.repeat(width)).join('  '), ...rows.map(line)].join('\n');
}

/** The figures of a request-path row, the same for one run and for the medians of several. */
const FIGURE_COLUMNS = ['req/s', 'p50 ms', 'p95 ms', 'p99 ms', 'CPU ms/req', 'floor ms', 'CPU/floor'];

function figureCells(figures: {
  perSecond: number;
  latencyMs: { p50: number; p95: number; p99: number };
  cpuMs: number;
  floorMs: number;
  ratio: number;
}): string[] {
  return [
    fixed(figures.perSecond, 1),
    fixed(figures.latencyMs.p50, 1),
    fixed(figures.latencyMs.p95, 1),
    fixed(figures.latencyMs.p99, 1),
    fixed(figures.cpuMs, 2),
    fixed(figures.floorMs, 2),
    `${fixed(figures.ratio, 2)}x`,
  ];
}

function requestPathRows(results: RequestPathResult[]): string {
  return table(
    ['operation', 'requests', 'errors', 'conc', ...FIGURE_COLUMNS],
    results.map((result) => [
      measurementLabel(result),
      String(result.load.requests),
      String(result.load.errors),
      String(result.concurrency),
      ...figureCells({
        perSecond: result.load.throughputPerSecond,
        latencyMs: result.load.latencyMs,
        cpuMs: result.cpu.perRequestMs,
        floorMs: result.cpu.floorMs,
        ratio: result.cpu.ratioToFloor,
      }),
    ]),
  );
}

/** A change relative to a reference, e.g. `+12.5%`. */
function relative(value: number, reference: number): string {
  if (!Number.isFinite(value) || !Number.isFinite(reference) || reference === 0) return '-';
  const change = ((value - reference) / reference) * 100;
  return `${change >= 0 ? '+' : ''}${change.toFixed(1)}%`;
}

/**
 * Each operation measured on a seeded database against the same operation on an empty one (the nearest
 * run before it: with `--runs`, that of the same round): throughput and latency, and the change.
 */
function seededComparisonRows(results: RequestPathResult[]): string {
  const rows: string[][] = [];
  results.forEach((seeded, index) => {
    if (seeded.seed === undefined) return;
    const empty = results
      .slice(0, index)
      .reverse()
      .find((result) => result.operation === seeded.operation && result.seed === undefined);
    if (!empty) return;
    rows.push([
      seeded.operation,
      String(seeded.seed?.items ?? 0),
      fixed(empty.load.throughputPerSecond, 1),
      fixed(seeded.load.throughputPerSecond, 1),
      relative(seeded.load.throughputPerSecond, empty.load.throughputPerSecond),
      fixed(empty.load.latencyMs.p50, 1),
      fixed(seeded.load.latencyMs.p50, 1),
      relative(seeded.load.latencyMs.p50, empty.load.latencyMs.p50),
      fixed(empty.load.latencyMs.p99, 1),
      fixed(seeded.load.latencyMs.p99, 1),
      relative(seeded.load.latencyMs.p99, empty.load.latencyMs.p99),
    ]);
  });
  return table(
    [
      'operation',
      'seeded items',
      'req/s empty',
      'req/s seeded',
      'change',
      'p50 empty',
      'p50 seeded',
      'change',
      'p99 empty',
      'p99 seeded',
      'change',
    ],
    rows,
  );
}

function seedNotes(results: RequestPathResult[]): string[] {
  return results.flatMap((result) =>
    result.seed
      ? [
          `seeded before ${result.operation}: ${result.seed.items} items, ${result.seed.rows} rows in ${fixed(result.seed.durationMs / 1000, 1)} s (${fixed(result.seed.rowsPerSecond, 0)} rows/s)`,
        ]
      : [],
  );
}

function endToEndRows(results: EndToEndResult[]): string {
  return table(
    [
      'end to end',
      'items',
      'errors',
      'conc',
      'accept req/s',
      'p99 ms',
      'delivered items/s',
      'CPU ms/item',
      'floor ms',
      'CPU/floor',
    ],
    results.map((result) => [
      'send + deliver',
      String(result.load.requests),
      String(result.load.errors + (result.items.ERROR ?? 0)),
      String(result.concurrency),
      fixed(result.load.throughputPerSecond, 1),
      fixed(result.load.latencyMs.p99, 1),
      fixed(result.sustainedItemsPerSecond, 1),
      fixed(result.cpu.perRequestMs, 2),
      fixed(result.cpu.floorMs, 2),
      `${fixed(result.cpu.ratioToFloor, 2)}x`,
    ]),
  );
}

function largeRows(results: LargeDocumentResult[]): string {
  return table(
    [
      'large document',
      'status',
      'time s',
      'MiB/s',
      'idle RSS MiB',
      'peak RSS MiB',
      'growth MiB',
      'CPU ms',
      'floor ms',
      'CPU/floor',
    ],
    results.map((result) => [
      `${fixed(result.sizeBytes / MiB, result.sizeBytes % MiB === 0 ? 0 : 2)} MiB`,
      result.ok ? 'ok' : `failed (${result.status})`,
      fixed(result.durationMs / 1000, 2),
      fixed(result.mibPerSecond, 1),
      fixed(result.idleRssBytes / MiB, 1),
      fixed(result.peakRssBytes / MiB, 1),
      fixed(result.peakRssGrowthBytes / MiB, 1),
      fixed(result.cpu.totalMs, 0),
      fixed(result.cpu.floorMs, 1),
      `${fixed(result.cpu.ratioToFloor, 2)}x`,
    ]),
  );
}

/**
 * One row per measurement run several times: the median of each figure over its runs (delivered items
 * per second only when end-to-end runs are among them).
 */
function medianRows(medians: MedianFigures[]): string {
  const delivered = medians.some((figures) => figures.sustainedItemsPerSecond !== undefined);
  return table(
    ['median of runs', 'requests', 'errors', ...FIGURE_COLUMNS, ...(delivered ? ['delivered items/s'] : [])],
    medians.map((figures) => [
      figures.label,
      `${figures.runs} x ${figures.requestsPerRun}`,
      String(figures.errors),
      ...figureCells({
        perSecond: figures.throughputPerSecond,
        latencyMs: { p50: figures.p50Ms, p95: figures.p95Ms, p99: figures.p99Ms },
        cpuMs: figures.cpuPerRequestMs,
        floorMs: figures.floorMs,
        ratio: figures.ratioToFloor,
      }),
      ...(delivered ? [fixed(figures.sustainedItemsPerSecond ?? Number.NaN, 1)] : []),
    ]),
  );
}

/** The load generator's CPU per request of each measured phase (it shares the vCPUs with the service). */
function generatorNotes(results: BenchResult[]): string[] {
  const phases = results.filter(
    (result): result is RequestPathResult | EndToEndResult => result.mode !== 'large',
  );
  if (phases.length === 0) return [];
  const perRequest = phases.map((result) =>
    fixed(result.load.generatorCpuMs / Math.max(1, result.load.requests), 2),
  );
  return [`load generator (autocannon, this process) CPU ms/request: ${perRequest.join(', ')}`];
}

/** How each request-path phase's database writes were grouped (from the service's /metrics). */
function writePathNotes(results: readonly RequestPathResult[]): string[] {
  return results.flatMap(({ operation, writePath }) =>
    writePath === undefined
      ? []
      : [
          `database writes of ${operation}: ${fixed(writePath.transactionsPerRequest, 2)} transactions per request, ` +
            `${fixed(writePath.writesPerTransaction, 2)} writes per transaction` +
            (writePath.walFsyncsPerRequest === undefined
              ? ''
              : `, ${fixed(writePath.walFsyncsPerRequest, 2)} WAL fsyncs per request`),
        ],
  );
}

/** The report as text: one table per kind of mode, then how the figures were made. */
export function formatReport(report: BenchReport): string {
  const requestPath = report.results.filter(
    (result): result is RequestPathResult => result.mode === 'send' || result.mode === 'status',
  );
  const endToEnd = report.results.filter((result): result is EndToEndResult => result.mode === 'e2e');
  const large = report.results.filter((result): result is LargeDocumentResult => result.mode === 'large');
  const sections: string[] = [];
  if (requestPath.length > 0)
    sections.push(`Request path (delivery paused)\n${requestPathRows(requestPath)}`);
  if (requestPath.some((result) => result.seed !== undefined)) {
    sections.push(`Seeded database against an empty one\n${seededComparisonRows(requestPath)}`);
  }
  if (endToEnd.length > 0)
    sections.push(`End to end (delivery running, embedded e-Box simulator)\n${endToEndRows(endToEnd)}`);
  if (large.length > 0) sections.push(`One large document (streamed; delivery paused)\n${largeRows(large)}`);
  if (report.medians.length > 0) {
    sections.push(
      `Medians over the runs (each figure's own median; each run on its own service)\n${medianRows(report.medians)}`,
    );
  }
  const first = report.results[0];
  const floor = first?.cryptoFloor.primitivesMs;
  const notes = [
    `machine: ${report.machine.cpus} x ${report.machine.cpuModel}, Node ${report.machine.node}`,
    floor
      ? `crypto floor primitives (median, ms): RSA-2048 verify ${fixed(floor.verify, 3)}, signer sign ${fixed(floor.signerSign, 3)}, TSA sign ${fixed(floor.tsaSign, 3)}`
      : '',
    first
      ? `settings: RM_TIMESTAMP_MAX_AGE_SECONDS=${first.settings.RM_TIMESTAMP_MAX_AGE_SECONDS} (requests are signed before the load), RM_LOG_LEVEL=${first.settings.RM_LOG_LEVEL}`
      : '',
    ...generatorNotes(report.results),
    ...writePathNotes(requestPath),
    ...seedNotes(requestPath),
    `command: ${report.command}`,
  ].filter((line) => line !== '');
  return `${sections.join('\n\n')}\n\n${notes.join('\n')}\n`;
}

/** Writes the report as JSON (directories created as needed). */
export function writeReportJson(file: string, report: BenchReport): void {
  mkdirSync(path.dirname(file), { recursive: true });
  // Three decimals are more than any of these figures can tell apart.
  const rounded = (_key: string, value: unknown) =>
    typeof value === 'number' && !Number.isInteger(value) ? Math.round(value * 1000) / 1000 : value;
  writeFileSync(file, `${JSON.stringify(report, rounded, 2)}\n`);
}
