import os from 'node:os';
import path from 'node:path';
import { Command, InvalidArgumentError, Option } from 'commander';
import {
  runEndToEndMode,
  runLargeMode,
  runSendMode,
  runStatusMode,
  type BenchEnvironment,
  type BenchResult,
  type LoadModeOptions,
} from './lib/modes';
import { medianFigures } from './lib/medians';
import { formatReport, machineFacts, writeReportJson, type BenchReport } from './lib/report';
import { parseSize } from './lib/sizes';
import { projectRoot } from '../src/app/project-paths';

/*
 * `npm run bench`: builds the service and the harness, then measures the service as a user runs it (see
 * bench/README.md). The harness runs compiled, not through ts-node: the TypeScript compiler in its heap
 * (41.7 MB after a full collection, 17.7 MB compiled) made every major collection of the load generator
 * mark 24 MB more, on the vCPUs the service under measure shares with it.
 */

const ROOT = projectRoot();

type Mode = 'send' | 'status' | 'large' | 'e2e' | 'all';

interface CliOptions {
  mode: Mode;
  requests: number;
  concurrency: number;
  warmup: number;
  documentSize: number;
  size: number[];
  floorRepetitions: number;
  json?: string;
  workDir: string;
  keepData: boolean;
  serviceEntry: string;
  profileDir?: string;
  nodeOption: string[];
  seedItems: number;
  workers?: number;
  runs: number;
}

function positiveInteger(value: string): number {
  const number = Number(value);
  if (!Number.isSafeInteger(number) || number < 1) throw new InvalidArgumentError('a positive integer');
  return number;
}

function nonNegativeInteger(value: string): number {
  const number = Number(value);
  if (!Number.isSafeInteger(number) || number < 0) throw new InvalidArgumentError('a non-negative integer');
  return number;
}

function size(value: string): number {
  try {
    return parseSize(value);
  } catch (error) {
    throw new InvalidArgumentError((error as Error).message);
  }
}

function sizes(value: string): number[] {
  return value.split(',').map(size);
}

/** `2025-01-31T10-15-00Z`: a timestamp usable in a file name. */
function fileTimestamp(date: Date): string {
  return date
    .toISOString()
    .replace(/\.\d+Z$/, 'Z')
    .replace(/:/g, '-');
}

async function main(): Promise<void> {
  const program = new Command()
    .name('npm run bench --')
    .description('Benchmark of the RegisteredMail service (see bench/README.md)')
    .addOption(
      new Option('--mode <mode>', 'what to measure')
        .choices(['send', 'status', 'large', 'e2e', 'all'])
        .default('all'),
    )
    .option('--requests <n>', 'measured requests (send, status, e2e)', positiveInteger, 2000)
    .option('--concurrency <c>', 'connections in parallel', positiveInteger, 16)
    .option(
      '--warmup <n>',
      'requests before the measured phase (status: also the items asked about)',
      nonNegativeInteger,
      10_000,
    )
    .option('--document-size <size>', 'document of each sendDocument (send, e2e)', size, 1024)
    .option('--size <sizes>', 'large mode: comma-separated document sizes', sizes, sizes('10MiB,100MiB,1GiB'))
    .option(
      '--seed-items <n>',
      'send and status: run each twice, on an empty database and on one seeded with n items',
      nonNegativeInteger,
      0,
    )
    .option(
      '--runs <n>',
      'send, status, e2e: run each n times, each on its own service, and report the medians',
      positiveInteger,
      1,
    )
    .option('--workers <n>', "the service's RM_WORKERS (default: its own, one per CPU)", positiveInteger)
    .option('--floor-repetitions <n>', 'repetitions per crypto primitive of the floor', positiveInteger, 200)
    .option('--json <file>', 'where to write the JSON results (default bench/results/<time>-<mode>.json)')
    .option('--work-dir <dir>', 'parent of the temporary data directories and large files', os.tmpdir())
    .option('--keep-data', 'keep the data directories', false)
    .option(
      '--profile-dir <dir>',
      'run the service with --cpu-prof, writing its profiles there (figures are then slower)',
    )
    .option(
      '--node-option <flag>',
      "an option for the service's node (repeatable), e.g. --node-option=--max-semi-space-size=64",
      (value: string, previous: string[]) => [...previous, value],
      [] as string[],
    )
    .option(
      '--service-entry <file>',
      'the built service entry point',
      path.join(ROOT, 'dist', 'src', 'cli', 'main.js'),
    );
  program.parse(process.argv);
  const options = program.opts<CliOptions>();

  const environment: BenchEnvironment = {
    serviceEntry: options.serviceEntry,
    projectRoot: ROOT,
    workDir: options.workDir,
    keepData: options.keepData,
    workers: options.workers,
    serviceNodeArgs: [
      ...options.nodeOption,
      ...(options.profileDir ? ['--cpu-prof', '--cpu-prof-dir', path.resolve(options.profileDir)] : []),
    ],
    log: (line) => process.stderr.write(`[bench] ${line}\n`),
  };
  const loadOptions: LoadModeOptions = {
    requests: options.requests,
    concurrency: options.concurrency,
    warmup: options.warmup,
    documentBytes: options.documentSize,
    floorRepetitions: options.floorRepetitions,
  };
  const startedAt = new Date();
  const modes: Exclude<Mode, 'all'>[] =
    options.mode === 'all' ? ['send', 'status', 'large', 'e2e'] : [options.mode];
  const results: BenchResult[] = [];
  for (const mode of modes) {
    environment.log(`mode ${mode}`);
    if (mode === 'large') {
      // One upload per size: --runs is for the load modes.
      for (const sizeBytes of options.size) {
        results.push(
          await runLargeMode(environment, { sizeBytes, floorRepetitions: options.floorRepetitions }),
        );
      }
      continue;
    }
    // With --seed-items: first on an empty database, then on a seeded one (compared in the report).
    const databases = options.seedItems > 0 ? [0, options.seedItems] : [0];
    for (let run = 1; run <= options.runs; run += 1) {
      if (options.runs > 1) environment.log(`run ${run} of ${options.runs}`);
      if (mode === 'e2e') {
        results.push(await runEndToEndMode(environment, loadOptions));
        continue;
      }
      for (const seedItems of databases) {
        const modeOptions = { ...loadOptions, seedItems };
        results.push(
          await (mode === 'send'
            ? runSendMode(environment, modeOptions)
            : runStatusMode(environment, modeOptions)),
        );
      }
    }
  }

  const report: BenchReport = {
    command: ['npm run bench --', ...process.argv.slice(2)].join(' '),
    startedAt: startedAt.toISOString(),
    machine: machineFacts(),
    results,
    medians: medianFigures(results),
  };
  process.stdout.write(formatReport(report));
  const jsonFile =
    options.json ?? path.join(ROOT, 'bench', 'results', `${fileTimestamp(startedAt)}-${options.mode}.json`);
  writeReportJson(jsonFile, report);
  const shown = path.relative(process.cwd(), jsonFile);
  process.stdout.write(`JSON: ${shown.startsWith('..') ? jsonFile : shown}\n`);
}

main().catch((error: unknown) => {
  process.stderr.write(`bench: ${error instanceof Error ? (error.stack ?? error.message) : String(error)}\n`);
  process.exit(1);
});
