import { Registry } from 'prom-client';
import type { DataSource } from 'typeorm';
import type { Clock } from '../clock/clock';
import type { HealthCheckService } from '../domain/health-check-service';
import type { MethodRoute } from '../http/server';
import type { Logger } from '../logging/logger';
import { registerCertificateExpiry, type WatchedCertificate } from './certificate-expiry';
import { createHealthHandler, HEALTH_PATH } from './health-endpoint';
import { createMetricsHandler, METRICS_PATH } from './metrics-endpoint';
import { renderMetrics, type ProcessMetricsSource } from './metrics-exposition';
import { registerOutboxGauges } from './outbox-metrics';

/** What the operations routes read. */
export interface OperationsRouteDependencies {
  /** RM_METRICS */
  metricsEnabled: boolean;
  /** The sanity checks of healthCheck (DEEP's run for `GET /health`). */
  health: Pick<HealthCheckService, 'run'>;
  /** The counters and histograms of every process that serves. */
  processes: ProcessMetricsSource;
  /** Where the outbox gauges are read. */
  dataSource: DataSource;
  /** The certificates whose days left are shown. */
  certificates: readonly WatchedCertificate[];
  clock: Clock;
  log: Logger;
}

/**
 * The operations routes: `GET /health` always, `GET /metrics` unless RM_METRICS is false. The gauges a
 * scrape reads at its time (outbox, certificates) live in a registry of their own: they are the same for
 * every process of a cluster, so the process answering the scrape reads them once.
 */
export function createOperationsRoutes(dependencies: OperationsRouteDependencies): MethodRoute[] {
  const { health, log, clock } = dependencies;
  const routes: MethodRoute[] = [
    { path: HEALTH_PATH, method: 'GET', handle: createHealthHandler(health, log) },
  ];
  if (!dependencies.metricsEnabled) return routes;
  const scrapeGauges = new Registry();
  registerOutboxGauges(scrapeGauges, dependencies.dataSource, clock);
  registerCertificateExpiry(scrapeGauges, dependencies.certificates, clock);
  const render = () => renderMetrics(dependencies.processes, scrapeGauges);
  routes.push({ path: METRICS_PATH, method: 'GET', handle: createMetricsHandler(render, log) });
  return routes;
}
