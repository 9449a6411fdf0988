import type { IncomingMessage, ServerResponse } from 'node:http';
import type { Logger } from '../logging/logger';
import type { MetricsText } from './metrics-exposition';

/** The path Prometheus scrapes. */
export const METRICS_PATH = '/metrics';

/**
 * `GET /metrics`: the Prometheus text exposition `render` gives. When it cannot be had (a gauge's
 * database read failed, the cluster's primary did not answer) the scrape gets 503 with a one-line text
 * and the reason goes to the log, so that Prometheus records a failed scrape rather than wrong values.
 */
export function createMetricsHandler(
  render: () => Promise<MetricsText>,
  log: Logger,
): (request: IncomingMessage, response: ServerResponse) => Promise<void> {
  return async (request, response) => {
    request.resume();
    let metrics: MetricsText;
    try {
      metrics = await render();
    } catch (error) {
      log.warn('metrics scrape failed', { error: error instanceof Error ? error.message : String(error) });
      response
        .writeHead(503, { 'Content-Type': 'text/plain; charset=utf-8', 'Cache-Control': 'no-store' })
        .end('Metrics unavailable\n');
      return;
    }
    response
      .writeHead(200, { 'Content-Type': metrics.contentType, 'Cache-Control': 'no-store' })
      .end(metrics.body);
  };
}
