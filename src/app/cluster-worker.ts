import cluster from 'node:cluster';
import { databaseSettingsOf, loadConfig, type Config } from '../config/config';
import { createLogger } from '../logging/logger';
import { WorkerMetricsChannel } from '../metrics/cluster-metrics';
import { DEFAULT_BUSY_TIMEOUT_MS, databaseOptionsIn, isPostgresOptions } from '../storage/data-source';
import { LockFileWriteLock } from '../storage/lock-file-write-lock';
import { useCrossProcessWriteLock } from '../storage/serial-access';
import { isWorkerShutdownMessage, type WorkerReadyMessage } from './cluster-messages';
import { startService, type RunningService } from './start-service';

/**
 * A cluster worker's part of `registered-mail serve` (see `startServiceCluster`): starts the whole
 * service on the shared port, tells the primary it is ready, and on the primary's shutdown message (or
 * SIGTERM/SIGINT, which a terminal sends the whole process group) closes it, letting requests and
 * publications under way finish, then exits 0 (1 when closing failed). Every log line names the worker
 * and its pid. Its writes to a shared SQLite database take the database's lock file first (see
 * `storage/lock-file-write-lock.ts`), so that it never sleeps in SQLite's busy handler. A start-up
 * failure rejects (the caller reports it and exits non-zero; the primary sees a worker that ended before
 * it was ready).
 */
export async function runClusterWorker(): Promise<void> {
  const config = loadConfig();
  const log = createLogger({ level: config.logLevel }).child({
    worker: cluster.worker?.id,
    pid: process.pid,
  });
  // Set once started; `stop` may run before that (a signal or the primary's message during start-up).
  const started: { service?: RunningService } = {};
  let stopRequested = false;
  let closing: Promise<void> | undefined;
  const stop = () => {
    stopRequested = true;
    if (started.service === undefined || closing !== undefined) return;
    closing = started.service.close().then(
      () => process.exit(0),
      (error: unknown) => {
        log.error('closing the service failed', {
          error: error instanceof Error ? error.message : String(error),
        });
        process.exit(1);
      },
    );
  };
  process.on('message', (message: unknown) => {
    if (isWorkerShutdownMessage(message)) stop();
  });
  process.on('SIGTERM', stop);
  process.on('SIGINT', stop);

  useSharedSqliteWriteLock(config);
  // Listening before the service starts: another worker's scrape may ask for this one's counters meanwhile.
  const metricsChannel = new WorkerMetricsChannel();
  started.service = await startService({ logger: log, metricsChannel });
  const ready: WorkerReadyMessage = { type: 'registered-mail:ready', baseUrl: started.service.baseUrl };
  process.send?.(ready);
  // Asked to stop while starting: stop now that there is something to close.
  if (stopRequested) stop();
}

/** With a SQLite database (shared by the workers), every write of this process takes its lock file. */
function useSharedSqliteWriteLock(config: Config): void {
  const database = databaseOptionsIn(config.dataDir, databaseSettingsOf(config));
  if (isPostgresOptions(database)) return;
  useCrossProcessWriteLock(
    new LockFileWriteLock(database.sqlitePath, {
      timeoutMs: database.busyTimeoutMs ?? DEFAULT_BUSY_TIMEOUT_MS,
    }),
  );
}
