import cluster from 'node:cluster';
import fs from 'node:fs/promises';
import { systemClock, type Clock } from '../clock/clock';
import { databaseSettingsOf, loadConfig, type Config } from '../config/config';
import type { EboxSimulator } from '../ebox-simulator';
import { createLogger, type Logger } from '../logging/logger';
import { ClusterMetricsRelay } from '../metrics/cluster-metrics-relay';
import type { DevPki } from '../pki/dev-pki';
import { openDatabase } from '../storage/data-source';
import { startEmbeddedEboxSimulator, usesEmbeddedEboxSimulator } from './ebox-connection';
import { loadKeyMaterial } from './key-material';
import { createTimeStampAuthority } from './time-stamping';
import { workerExecArgv } from './worker-exec-argv';
import { WorkerSupervisor } from './worker-supervisor';

/** The service as several processes: this primary and its workers. */
export interface RunningCluster {
  /** The URL the workers answer on (its public URL when RM_PUBLIC_URL is set). */
  baseUrl: string;
  config: Config;
  /** The development PKI, when the service runs on one. */
  pki: DevPki | undefined;
  /** The one embedded e-Box simulator every worker publishes to, when RM_EBOX_URL is not set. */
  eboxSimulator: EboxSimulator | undefined;
  /** The process ids of the workers now running. */
  workerPids(): number[];
  /**
   * Stops the workers (each finishes its requests and publications under way), then the simulator.
   * @returns true when every worker exited cleanly (code 0)
   */
  close(): Promise<boolean>;
  /** Ends the workers at once (SIGKILL), e.g. on a second interrupt while {@link close} waits. */
  kill(): void;
}

export interface ClusterOptions {
  clock?: Clock;
  /** The primary's logger (default: RM_LOG_LEVEL's, each line with `role: primary` and its pid). */
  logger?: Logger;
}

/**
 * The work done once, before any worker starts, so that workers never race over it: the data
 * directory, the key material (generating the development PKI when that is what runs), the TSA's
 * key and certificate checks, and the database migrations. A configuration error stops the start here,
 * with its message, rather than in every worker again and again.
 */
async function prepareDataDirectory(config: Config, clock: Clock, log: Logger): Promise<DevPki | undefined> {
  await fs.mkdir(config.dataDir, { recursive: true });
  const keys = await loadKeyMaterial(config, clock);
  await createTimeStampAuthority(config, keys, clock, log);
  const dataSource = await openDatabase(config.dataDir, databaseSettingsOf(config));
  await dataSource.destroy();
  return keys.devPki;
}

/**
 * Starts the service as RM_WORKERS processes (node:cluster; call it in the primary, with the entry
 * point that runs {@link runClusterWorker} in a worker): does the one-time work, starts the embedded
 * e-Box simulator when RM_EBOX_URL is unset (one for all: the workers get its URL as RM_EBOX_URL), forks
 * the workers and resolves once every one serves. Each worker runs the whole service (`startService`) on
 * the shared port, with its own delivery worker (outbox claims are leased, so workers never publish one
 * item twice) and its own embedded TSA over the same key (serial numbers are random, 160 bits). SQLite
 * in WAL mode lets the processes share the database: readers never wait, and writers take turns at the
 * database's lock file (`storage/lock-file-write-lock.ts`), with SQLite's busy timeout as the fallback.
 * @throws ConfigError and the like from the one-time work; Error when a worker fails to start (the
 *   others and the simulator are stopped again)
 */
export async function startServiceCluster(options: ClusterOptions = {}): Promise<RunningCluster> {
  if (!cluster.isPrimary) throw new Error('startServiceCluster runs in the primary process only');
  const env = process.env;
  const config = loadConfig(env);
  const clock = options.clock ?? systemClock;
  const log =
    options.logger ?? createLogger({ level: config.logLevel }).child({ role: 'primary', pid: process.pid });

  const pki = await prepareDataDirectory(config, clock, log);
  const eboxSimulator = usesEmbeddedEboxSimulator(env)
    ? await startEmbeddedEboxSimulator(clock, config.dataDir)
    : undefined;
  const workerEnv: Record<string, string> = eboxSimulator ? { RM_EBOX_URL: eboxSimulator.url } : {};
  // On top of what the workers would start with (a caller may have set up the cluster already).
  const execArgv = cluster.settings.execArgv ?? process.execArgv;
  cluster.setupPrimary({ execArgv: workerExecArgv(execArgv, env.NODE_OPTIONS, config.workerV8PoolSize) });
  const supervisor = new WorkerSupervisor(config.workers, workerEnv, clock, log);
  // The primary serves no HTTP: a worker's /metrics gathers every worker's counters through it.
  const metricsRelay = new ClusterMetricsRelay();
  metricsRelay.start();
  let baseUrl: string;
  try {
    baseUrl = await supervisor.start();
  } catch (error) {
    metricsRelay.stop();
    await supervisor.stop();
    await eboxSimulator?.close();
    throw error;
  }

  let closing: Promise<boolean> | undefined;
  return {
    baseUrl,
    config,
    pki,
    eboxSimulator,
    workerPids: () => supervisor.pids(),
    close() {
      closing ??= supervisor.stop().then(async (clean) => {
        metricsRelay.stop();
        await eboxSimulator?.close();
        return clean;
      });
      return closing;
    },
    kill: () => supervisor.kill(),
  };
}
