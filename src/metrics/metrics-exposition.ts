import { AggregatorRegistry, Gauge, Registry, type PrometheusContentType } from 'prom-client';
import { METRIC_PREFIX } from './service-metrics';

/** One process's counters and histograms as `Registry.getMetricsAsJSON()` gives them (IPC-safe JSON). */
export type ProcessMetricsSnapshot = Awaited<ReturnType<Registry['getMetricsAsJSON']>>;

/** Where a scrape gets the counters and histograms of every process that serves. */
export interface ProcessMetricsSource {
  /**
   * One snapshot per process (one alone when the service runs in one process).
   * @throws Error when they cannot be had (a cluster whose primary does not answer)
   */
  snapshots(): Promise<ProcessMetricsSnapshot[]>;
}

/** The snapshots of a process that serves alone: its own registry. */
export function singleProcessSource(registry: Registry): ProcessMetricsSource {
  return { snapshots: async () => [await registry.getMetricsAsJSON()] };
}

/** A scrape's answer. */
export interface MetricsText {
  contentType: string;
  body: string;
}

/**
 * What `GET /metrics` answers: the processes' counters and histograms merged (counters and every
 * histogram bucket, sum and count summed over the processes, as prom-client's cluster aggregation does),
 * plus `registered_mail_processes_reporting` (how many processes they come from), plus the gauges of
 * `scrapeGauges`, which are read once, here, because they are the same for every process (database-wide
 * or about the key material).
 * @throws what the source or a gauge's read throws
 */
export async function renderMetrics(
  processes: ProcessMetricsSource,
  scrapeGauges: Registry,
): Promise<MetricsText> {
  const snapshots = await processes.snapshots();
  const summed = AggregatorRegistry.aggregate<PrometheusContentType>(snapshots);
  const reporting = new Registry();
  new Gauge({
    name: `${METRIC_PREFIX}processes_reporting`,
    help: 'Processes whose counters and histograms this scrape sums (RM_WORKERS when every worker answered)',
    registers: [reporting],
  }).set(snapshots.length);
  const merged = Registry.merge([summed, reporting, scrapeGauges]);
  return { contentType: merged.contentType, body: await merged.metrics() };
}
