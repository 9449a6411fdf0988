import { mkdtempSync, rmSync } from 'node:fs';
import path from 'node:path';
import { performance } from 'node:perf_hooks';
import { averageCryptoFloors, measureCryptoFloor, type CryptoFloor } from './crypto-floor';
import { uploadLargeDocument, writeLargeDocument } from './large-document';
import { collectHarnessGarbage, driveLoad, type LoadResult } from './load';
import { packBodies } from './pack-bodies';
import { processTreeCpuMs } from './process-stats';
import {
  countItemsByStatus,
  signedContentSizes,
  waitUntilDelivered,
  type StatusCounts,
} from './service-database';
import { seedItems, seedSenderOf, type SeedResult } from './seed-items';
import { startBenchEbox, type BenchEbox } from './ebox-process';
import { startBenchService, type BenchService } from './service-process';
import { readWritePathCounters, writePathUse, type WritePathUse } from './write-path';
import {
  benchRecipientInss,
  signedGetStatus,
  signedSendDocument,
  signedStreamedSendDocument,
  ticketOf,
  uniqueDocument,
  type PreparedRequest,
} from './signed-requests';

/*
 * The benchmark's modes. Each starts its own service on a fresh data directory, signs every request
 * before its clock starts, warms the service up, then measures one phase: the answers (autocannon), the
 * server's CPU time over the phase (its own accounting) and, in the same run, the crypto floor (measured
 * just before and just after the phase, averaged).
 */

/** Where and how the benchmark runs. */
export interface BenchEnvironment {
  /** The service's JavaScript entry point (`dist/src/cli/main.js`, or transpiled sources in the smoke test). */
  serviceEntry: string;
  /** The e-Box simulator's entry point; default: `ebox-simulator/main.js` beside the service's `cli/`. */
  eboxEntry?: string;
  projectRoot: string;
  /** Parent of the data directories and the large documents (os.tmpdir() by default). */
  workDir: string;
  /** Progress lines (stderr in the CLI). */
  log: (line: string) => void;
  /** Keep the data directories for inspection. */
  keepData?: boolean;
  /** Options for the service's node (e.g. `--cpu-prof`, to profile it). */
  serviceNodeArgs?: string[];
  /** RM_WORKERS of every service (unset: the service's default, one per CPU). */
  workers?: number;
}

/** Options of the request-path and end-to-end modes. */
export interface LoadModeOptions {
  /** Measured requests. */
  requests: number;
  /** Connections in parallel. */
  concurrency: number;
  /** Requests sent before the measured phase (not measured). */
  warmup: number;
  /** Size of each sendDocument's document. */
  documentBytes: number;
  /** Repetitions per crypto primitive for the floor. */
  floorRepetitions: number;
  /**
   * Items seeded into the database before the measured service starts (send and status only; 0 or
   * undefined: an empty database).
   */
  seedItems?: number;
}

/** Seconds a pre-signed request stays acceptable (its Expires, and the service's maximum Timestamp age). */
export const PRESIGNED_VALIDITY_SECONDS = 3600;

/** Settings every benchmark service gets. */
function baseSettings(deliveryPaused: boolean): Record<string, string> {
  return {
    RM_LOG_LEVEL: 'warn',
    RM_DELIVERY_PAUSED: String(deliveryPaused),
    // Requests are signed before the load: their Timestamps grow older than the default 300 s allows.
    RM_TIMESTAMP_MAX_AGE_SECONDS: String(PRESIGNED_VALIDITY_SECONDS),
  };
}

/** The server's CPU over a phase. */
export interface ServerCpu {
  /** CPU milliseconds of the server process tree over the measured phase. */
  totalMs: number;
  /** Per measured request (or item). */
  perRequestMs: number;
  /** The crypto floor of one request (or item), milliseconds. */
  floorMs: number;
  /** perRequestMs / floorMs. */
  ratioToFloor: number;
}

/** The result of `send` or `status`: the request path with delivery paused. */
export interface RequestPathResult {
  mode: 'send' | 'status';
  operation: 'sendDocument' | 'getStatus';
  concurrency: number;
  warmup: number;
  documentBytes: number;
  /** Milliseconds spent signing the requests (before the clock). */
  presignMs: number;
  load: LoadResult;
  cpu: ServerCpu;
  /** How the phase's database writes were grouped (undefined when /metrics did not tell). */
  writePath?: WritePathUse;
  cryptoFloor: CryptoFloor;
  /** Items in the database afterwards, by status. */
  items: StatusCounts;
  /** The items seeded before the service started, when there were any. */
  seed?: SeedResult;
  settings: Record<string, string>;
}

/** The result of `e2e`: accepted and delivered (ProofOfDispatch issued) with delivery running. */
export interface EndToEndResult {
  mode: 'e2e';
  concurrency: number;
  warmup: number;
  documentBytes: number;
  presignMs: number;
  /** The request phase (delivery runs beside it). */
  load: LoadResult;
  /** From the first measured request until every measured item was SENT (or ERROR). */
  deliveredMs: number;
  /** Measured items delivered per second over {@link deliveredMs}. */
  sustainedItemsPerSecond: number;
  /** CPU per item: request, receipt, publication to the simulator, ProofOfDispatch, simulator's work. */
  cpu: ServerCpu;
  /** Of {@link cpu}'s total, the milliseconds the e-Box simulator's process spent. */
  eboxCpuMs: number;
  cryptoFloor: CryptoFloor;
  items: StatusCounts;
  settings: Record<string, string>;
}

/** The result of one `large` upload. */
export interface LargeDocumentResult {
  mode: 'large';
  sizeBytes: number;
  status: number;
  ok: boolean;
  durationMs: number;
  mibPerSecond: number;
  idleRssBytes: number;
  peakRssBytes: number;
  peakRssGrowthBytes: number;
  peakSource: 'vmhwm' | 'sampled';
  /** CPU milliseconds of the server over the upload, and the floor of one sendDocument of this size. */
  cpu: Omit<ServerCpu, 'perRequestMs'>;
  cryptoFloor: CryptoFloor;
  settings: Record<string, string>;
}

export type BenchResult = RequestPathResult | EndToEndResult | LargeDocumentResult;

/** The e-Box simulator's entry point of `environment`. */
function eboxEntryOf(environment: BenchEnvironment): string {
  return (
    environment.eboxEntry ??
    path.join(path.dirname(path.dirname(environment.serviceEntry)), 'ebox-simulator', 'main.js')
  );
}

/**
 * Starts an e-Box simulator and a service using it on a fresh data directory, runs `body`, stops both and
 * removes the directory. With `seedItems`, a first start creates the directory's development PKI and
 * database, the service stops, the items are seeded (for the PKI's senders), and the measured service
 * starts on that database.
 */
async function withService<T>(
  environment: BenchEnvironment,
  settings: Record<string, string>,
  body: (service: BenchService, seed: SeedResult | undefined, ebox: BenchEbox) => Promise<T>,
  seedItemCount = 0,
): Promise<T> {
  const dataDir = mkdtempSync(path.join(environment.workDir, 'rm-bench-data-'));
  let ebox: BenchEbox | undefined;
  let service: BenchService | undefined;
  try {
    ebox = await startBenchEbox({ entry: eboxEntryOf(environment), cwd: environment.projectRoot });
    const serviceSettings = { ...settings, RM_EBOX_URL: ebox.url };
    const start = () =>
      startBenchService({
        entry: environment.serviceEntry,
        cwd: environment.projectRoot,
        dataDir,
        settings:
          environment.workers === undefined
            ? serviceSettings
            : { ...serviceSettings, RM_WORKERS: String(environment.workers) },
        nodeArgs: environment.serviceNodeArgs,
      });
    environment.log(`starting the service (data ${dataDir}; e-Box simulator ${ebox.url})`);
    service = await start();
    let seed: SeedResult | undefined;
    if (seedItemCount > 0) {
      const senders = service.senders.map(seedSenderOf);
      await service.stop();
      environment.log(`seeding ${seedItemCount} items`);
      seed = await seedItems(dataDir, { items: seedItemCount, senders, log: environment.log });
      environment.log(
        `seeded ${seed.rows} rows in ${(seed.durationMs / 1000).toFixed(1)} s (${Math.round(seed.rowsPerSecond)} rows/s); starting the service again`,
      );
      service = await start();
    }
    return await body(service, seed, ebox);
  } finally {
    await service?.stop();
    await ebox?.stop();
    if (!environment.keepData) rmSync(dataDir, { recursive: true, force: true });
  }
}

/**
 * Signs `count` sendDocument requests, the `first`th onwards of the run (each its own token and
 * recipient: tokens name the range's start time and the index), their bodies packed into one buffer
 * ({@link packBodies}).
 */
function presignSends(
  service: BenchService,
  range: { first: number; count: number },
  documentBytes: number,
  label: string,
): PreparedRequest[] {
  const runId = Date.now().toString(36);
  const sender = service.senders[0];
  const requests: PreparedRequest[] = [];
  for (let i = range.first; i < range.first + range.count; i += 1) {
    const token = `bench-${label}-${runId}-${i}`;
    requests.push(
      signedSendDocument(
        sender,
        token,
        uniqueDocument(documentBytes, token),
        PRESIGNED_VALIDITY_SECONDS,
        benchRecipientInss(i),
      ),
    );
  }
  return packBodies(requests);
}

/**
 * The requests of a warm-up and of the measured phase after it, signed before either starts. The
 * warm-up's are dropped once sent ({@link warmUpWith}), so the load generator does not carry them
 * through the measured phase.
 */
interface PresignedPhases {
  warmup: PreparedRequest[] | undefined;
  measured: PreparedRequest[];
}

/**
 * Signs a warm-up's requests and the measured phase's after them, before either starts; `sign(first,
 * count)` signs `count` requests from the `first`th of the run on.
 */
function presignPhases(
  options: LoadModeOptions,
  sign: (first: number, count: number) => PreparedRequest[],
): { value: PresignedPhases; ms: number } {
  return timed(() => ({
    warmup: options.warmup > 0 ? sign(0, options.warmup) : undefined,
    measured: sign(options.warmup, options.requests),
  }));
}

/** The sendDocument requests of a mode's phases, labelled `label`. */
function sendSigner(
  service: BenchService,
  options: LoadModeOptions,
  label: string,
): (first: number, count: number) => PreparedRequest[] {
  return (first, count) => presignSends(service, { first, count }, options.documentBytes, label);
}

/** Sends the warm-up's requests, if any, taking them out of `phases` first: nothing holds them afterwards. */
async function warmUpWith(
  service: BenchService,
  phases: PresignedPhases,
  concurrency: number,
  phase: string,
): Promise<void> {
  const requests = phases.warmup;
  phases.warmup = undefined;
  if (requests) await warmUp(service, requests, concurrency, phase);
}

function timed<T>(work: () => T): { value: T; ms: number } {
  const started = performance.now();
  const value = work();
  return { value, ms: performance.now() - started };
}

function serverCpu(totalMs: number, count: number, floorMs: number): ServerCpu {
  const perRequestMs = totalMs / Math.max(1, count);
  return { totalMs, perRequestMs, floorMs, ratioToFloor: perRequestMs / floorMs };
}

function floorFor(service: BenchService, sizes: FloorSizes, repetitions: number): CryptoFloor {
  const sender = service.senders[0];
  return measureCryptoFloor({
    senderCertPem: sender.certPem,
    senderKeyPem: sender.keyPem,
    signerKeyPem: service.keys.signerKeyPem,
    tsaKeyPem: service.keys.tsaKeyPem,
    ...sizes,
    repetitions,
  });
}

/** The sizes a crypto floor is measured for. */
type FloorSizes = { documentBytes: number; receiptBytes: number; evidenceBytes: number };

/**
 * Runs a measured phase between two measures of the crypto floor (the first only when `before`, i.e. when
 * a warm-up left receipts to size it by) and returns the phase's result with their average
 * ({@link averageCryptoFloors}): the machine's speed drifts during a phase (other tenants), and a single
 * measure afterwards stood for all of it.
 */
async function withFloorAround<T>(
  service: BenchService,
  sizes: () => Promise<FloorSizes>,
  options: { repetitions: number; before: boolean },
  phase: () => Promise<T>,
): Promise<{ value: T; cryptoFloor: CryptoFloor }> {
  const measures: CryptoFloor[] = [];
  if (options.before) measures.push(floorFor(service, await sizes(), options.repetitions));
  const value = await phase();
  measures.push(floorFor(service, await sizes(), options.repetitions));
  return { value, cryptoFloor: averageCryptoFloors(measures) };
}

/** The sizes of a sendDocument's floor: `documentBytes`, and the receipts the service stored so far. */
function sendFloorSizes(service: BenchService, documentBytes: number): () => Promise<FloorSizes> {
  return async () => ({
    documentBytes,
    receiptBytes: (await signedContentSizes(service.dataDir)).receiptBytes,
    evidenceBytes: 0,
  });
}

/**
 * A warm-up is sent in this many rounds, each on new connections as the measured phase is, and /metrics
 * is read after each as the measured phase's write counters are (and as Prometheus would): a running
 * service has seen both many times, and V8's code for them is then settled (see bench/README.md).
 */
const WARM_UP_ROUNDS = 4;

/** Sends requests that are not measured (the JIT and the caches warm up); any failure stops the run. */
async function warmUp(
  service: BenchService,
  requests: PreparedRequest[],
  concurrency: number,
  phase: string,
  onAnswer?: (status: number, body: string) => void,
): Promise<void> {
  const roundSize = Math.ceil(requests.length / WARM_UP_ROUNDS);
  for (let first = 0; first < requests.length; first += roundSize) {
    const round = requests.slice(first, first + roundSize);
    const load = await driveLoad({ url: service.url, requests: round, concurrency, onAnswer });
    if (load.errors > 0) {
      throw new Error(
        `${phase}: ${load.errors} of ${load.requests} requests failed ${JSON.stringify(load.statuses)}`,
      );
    }
    await readWritePathCounters(service.url);
  }
}

/**
 * Drives the measured requests; `cpuTotal` is what the service's process tree spent meanwhile,
 * `writePath` how its database writes were grouped (from its /metrics, read just outside the CPU reading).
 */
async function measureLoad(
  service: BenchService,
  requests: PreparedRequest[],
  concurrency: number,
): Promise<{ load: LoadResult; cpuTotal: number; writePath: WritePathUse | undefined }> {
  const countersBefore = await readWritePathCounters(service.url);
  collectHarnessGarbage();
  const cpuBefore = processTreeCpuMs(service.pid);
  const load = await driveLoad({ url: service.url, requests, concurrency });
  const cpuTotal = processTreeCpuMs(service.pid) - cpuBefore;
  const countersAfter = await readWritePathCounters(service.url);
  return { load, cpuTotal, writePath: writePathUse(countersBefore, countersAfter, load.requests) };
}

/** `send`: sendDocument with a small document, delivery paused. */
export function runSendMode(
  environment: BenchEnvironment,
  options: LoadModeOptions,
): Promise<RequestPathResult> {
  return withService(
    environment,
    baseSettings(true),
    async (service, seed) => {
      environment.log(`signing ${options.warmup + options.requests} sendDocument requests`);
      const { value: phases, ms: presignMs } = presignPhases(options, sendSigner(service, options, 'send'));
      if (options.warmup > 0) environment.log(`warm-up: ${options.warmup} requests`);
      await warmUpWith(service, phases, options.concurrency, 'warm-up');
      environment.log(`measuring: ${options.requests} sendDocument at concurrency ${options.concurrency}`);
      const {
        value: { load, cpuTotal, writePath },
        cryptoFloor,
      } = await withFloorAround(
        service,
        sendFloorSizes(service, options.documentBytes),
        { repetitions: options.floorRepetitions, before: options.warmup > 0 },
        () => measureLoad(service, phases.measured, options.concurrency),
      );
      return {
        mode: 'send',
        operation: 'sendDocument',
        concurrency: options.concurrency,
        warmup: options.warmup,
        documentBytes: options.documentBytes,
        presignMs,
        load,
        cpu: serverCpu(cpuTotal, load.requests, cryptoFloor.floorMs.sendDocument),
        writePath,
        cryptoFloor,
        items: await countItemsByStatus(service.dataDir),
        seed,
        settings: service.settings,
      };
    },
    options.seedItems,
  );
}

/** `status`: getStatus of items created in the warm-up, delivery paused. */
export function runStatusMode(
  environment: BenchEnvironment,
  options: LoadModeOptions,
): Promise<RequestPathResult> {
  return withService(
    environment,
    baseSettings(true),
    async (service, seed) => {
      // The items asked about; at least one, so that getStatus always has a ticket to answer.
      const itemCount = Math.max(1, options.warmup);
      environment.log(`warm-up: ${itemCount} sendDocument (the items asked about)`);
      const tickets: string[] = [];
      await warmUp(
        service,
        presignSends(service, { first: 0, count: itemCount }, options.documentBytes, 'status'),
        options.concurrency,
        'warm-up sendDocument',
        (_status, body) => {
          const ticket = ticketOf(body);
          if (ticket) tickets.push(ticket);
        },
      );
      if (tickets.length === 0) throw new Error('warm-up: no ticket in the sendDocument answers');

      const sender = service.senders[0];
      environment.log(`signing ${options.warmup + options.requests} getStatus requests`);
      const signStatuses = (first: number, count: number) =>
        packBodies(
          Array.from({ length: count }, (_, i) =>
            signedGetStatus(sender, tickets[(first + i) % tickets.length], PRESIGNED_VALIDITY_SECONDS),
          ),
        );
      const { value: phases, ms: presignMs } = presignPhases(options, signStatuses);
      if (options.warmup > 0) environment.log(`warm-up: ${options.warmup} getStatus`);
      await warmUpWith(service, phases, options.concurrency, 'warm-up getStatus');
      environment.log(`measuring: ${options.requests} getStatus at concurrency ${options.concurrency}`);
      const {
        value: { load, cpuTotal, writePath },
        cryptoFloor,
      } = await withFloorAround(
        service,
        sendFloorSizes(service, options.documentBytes),
        // The sendDocument warm-up always leaves receipts.
        { repetitions: options.floorRepetitions, before: true },
        () => measureLoad(service, phases.measured, options.concurrency),
      );
      return {
        mode: 'status',
        operation: 'getStatus',
        concurrency: options.concurrency,
        warmup: options.warmup,
        documentBytes: options.documentBytes,
        presignMs,
        load,
        cpu: serverCpu(cpuTotal, load.requests, cryptoFloor.floorMs.getStatus),
        writePath,
        cryptoFloor,
        items: await countItemsByStatus(service.dataDir),
        seed,
        settings: service.settings,
      };
    },
    options.seedItems,
  );
}

/** How long delivery may take per item before the end-to-end mode gives up (generous: it is not a target). */
const DELIVERY_TIMEOUT_MS_PER_ITEM = 1_000;

/**
 * `e2e`: sendDocument with delivery running against the e-Box simulator, until every measured item is
 * SENT; the CPU figure is the service's and the simulator's together. The end is read from the service's
 * database by this process (read-only, every 50 ms), which costs the service nothing.
 */
export function runEndToEndMode(
  environment: BenchEnvironment,
  options: LoadModeOptions,
): Promise<EndToEndResult> {
  return withService(environment, baseSettings(false), async (service, _seed, ebox) => {
    environment.log(`signing ${options.warmup + options.requests} sendDocument requests`);
    const { value: phases, ms: presignMs } = presignPhases(options, sendSigner(service, options, 'e2e'));
    const timeoutFor = (items: number) => 60_000 + items * DELIVERY_TIMEOUT_MS_PER_ITEM;
    if (options.warmup > 0) {
      environment.log(`warm-up: ${options.warmup} items, sent and delivered`);
      await warmUpWith(service, phases, options.concurrency, 'warm-up');
      await waitUntilDelivered(service.dataDir, options.warmup, { timeoutMs: timeoutFor(options.warmup) });
    }
    environment.log(`measuring: ${options.requests} items at concurrency ${options.concurrency}, until SENT`);
    const {
      value: { load, delivered, deliveredMs, eboxCpuMs, cpuTotal },
      cryptoFloor,
    } = await withFloorAround(
      service,
      async () => {
        const sizes = await signedContentSizes(service.dataDir);
        return {
          documentBytes: options.documentBytes,
          receiptBytes: sizes.receiptBytes,
          evidenceBytes: sizes.dispatchEvidenceBytes,
        };
      },
      // The warm-up items were delivered: their evidence sizes the floor before the phase.
      { repetitions: options.floorRepetitions, before: options.warmup > 0 },
      async () => {
        collectHarnessGarbage();
        const cpuBefore = processTreeCpuMs(service.pid);
        const eboxCpuBefore = processTreeCpuMs(ebox.pid);
        const started = performance.now();
        const load = await driveLoad({
          url: service.url,
          requests: phases.measured,
          concurrency: options.concurrency,
        });
        const delivered = await waitUntilDelivered(service.dataDir, options.warmup + load.ok, {
          timeoutMs: timeoutFor(options.requests),
          intervalMs: 50,
        });
        const deliveredMs = performance.now() - started;
        const eboxCpuMs = processTreeCpuMs(ebox.pid) - eboxCpuBefore;
        const cpuTotal = processTreeCpuMs(service.pid) - cpuBefore + eboxCpuMs;
        return { load, delivered, deliveredMs, eboxCpuMs, cpuTotal };
      },
    );
    return {
      mode: 'e2e',
      concurrency: options.concurrency,
      warmup: options.warmup,
      documentBytes: options.documentBytes,
      presignMs,
      load,
      deliveredMs,
      sustainedItemsPerSecond: (load.ok * 1000) / deliveredMs,
      cpu: serverCpu(cpuTotal, load.ok, cryptoFloor.floorMs.endToEnd),
      eboxCpuMs,
      cryptoFloor,
      items: delivered.counts,
      settings: service.settings,
    };
  });
}

/** Small sendDocument requests before a large upload. */
const LARGE_MODE_WARMUP = 20;

/** `large`: one sendDocument whose document has `sizeBytes`, streamed from a file. */
export async function runLargeMode(
  environment: BenchEnvironment,
  options: { sizeBytes: number; floorRepetitions: number },
): Promise<LargeDocumentResult> {
  const fileDir = mkdtempSync(path.join(environment.workDir, 'rm-bench-large-'));
  try {
    const file = path.join(fileDir, 'document.pdf');
    environment.log(`writing a ${options.sizeBytes}-byte document`);
    const sha256Base64 = await writeLargeDocument(file, options.sizeBytes);
    const settings = {
      ...baseSettings(true),
      // Room for the document, the envelope and the MIME headers.
      RM_MAX_REQUEST_BYTES: String(options.sizeBytes + 1024 * 1024),
    };
    return await withService(environment, settings, async (service) => {
      const request = signedStreamedSendDocument(
        service.senders[0],
        `bench-large-${Date.now().toString(36)}`,
        sha256Base64,
        PRESIGNED_VALIDITY_SECONDS,
      );
      // A few small requests first, so that the upload does not pay for the service's first request.
      environment.log(`warm-up: ${LARGE_MODE_WARMUP} small sendDocument`);
      await warmUp(
        service,
        presignSends(service, { first: 0, count: LARGE_MODE_WARMUP }, 1024, 'large-warmup'),
        2,
        'warm-up',
      );
      environment.log(`uploading it`);
      const {
        value: { upload, cpuTotal },
        cryptoFloor,
      } = await withFloorAround(
        service,
        sendFloorSizes(service, options.sizeBytes),
        // The warm-up left receipts.
        { repetitions: options.floorRepetitions, before: true },
        async () => {
          const cpuBefore = processTreeCpuMs(service.pid);
          const upload = await uploadLargeDocument({
            url: service.url,
            request,
            file,
            size: options.sizeBytes,
            serverPid: service.pid,
          });
          return { upload, cpuTotal: processTreeCpuMs(service.pid) - cpuBefore };
        },
      );
      const ok = upload.status === 200 && ticketOf(upload.responseBody) !== undefined;
      const floorMs = cryptoFloor.floorMs.sendDocument;
      return {
        mode: 'large',
        sizeBytes: options.sizeBytes,
        status: upload.status,
        ok,
        durationMs: upload.durationMs,
        mibPerSecond: upload.mibPerSecond,
        idleRssBytes: upload.idleRssBytes,
        peakRssBytes: upload.peakRssBytes,
        peakRssGrowthBytes: upload.peakRssGrowthBytes,
        peakSource: upload.peakSource,
        cpu: { totalMs: cpuTotal, floorMs, ratioToFloor: cpuTotal / floorMs },
        cryptoFloor,
        settings: service.settings,
      };
    });
  } finally {
    rmSync(fileDir, { recursive: true, force: true });
  }
}
