import type { IncomingMessage, ServerResponse } from 'node:http';
import type { HealthCheckService, HealthLevel, HealthReport } from '../domain/health-check-service';
import type { Logger } from '../logging/logger';

/** The path of the plain health check (load balancers, orchestrators). */
export const HEALTH_PATH = '/health';

/** Levels under which the service still serves: `GET /health` answers 200. */
const SERVING_LEVELS: ReadonlySet<HealthLevel> = new Set(['OK', 'WARNING']);

/** One sanity check as `GET /health` shows it. */
export interface HealthCheckView {
  id: string;
  resource: string;
  type: string;
  level: HealthLevel;
  timeInMillis: number;
}

/** The JSON body of `GET /health`. */
export interface HealthView {
  /** The worst level of the checks. */
  level: HealthLevel;
  at: string;
  /** The resources whose check is CRITICAL or FATAL (empty when the answer is 200). */
  failed: string[];
  checks: HealthCheckView[];
}

/** The unauthenticated view of a report: which resource is in which state, never why (see the log). */
export function healthViewOf(report: HealthReport): HealthView {
  return {
    level: report.level,
    at: report.at.toISOString(),
    failed: report.checks
      .filter((check) => !SERVING_LEVELS.has(check.level))
      .map((check) => check.resource.name),
    checks: report.checks.map((check) => ({
      id: check.id,
      resource: check.resource.name,
      type: check.resource.type,
      level: check.level,
      timeInMillis: check.timeInMillis,
    })),
  };
}

/**
 * `GET /health`: the sanity checks of healthCheck DEEP (database, blob store, signer, TSA, e-Box), as
 * JSON; 200 while the worst level is OK or WARNING, 503 otherwise, naming the failed resources. The path
 * is not authenticated, so the checks' messages (addresses, driver errors) go to the log, not the body;
 * the signed healthCheck DEEP operation gives them to a client.
 */
export function createHealthHandler(
  health: Pick<HealthCheckService, 'run'>,
  log: Logger,
): (request: IncomingMessage, response: ServerResponse) => Promise<void> {
  return async (request, response) => {
    request.resume();
    const headers = { 'Content-Type': 'application/json; charset=utf-8', 'Cache-Control': 'no-store' };
    let report: HealthReport;
    try {
      report = await health.run('DEEP');
    } catch (error) {
      // run() reports failing checks itself; this is a failure of the health check as such.
      log.error('health check failed', { error: error instanceof Error ? error.message : String(error) });
      response
        .writeHead(503, headers)
        .end(`${JSON.stringify({ level: 'FATAL', failed: ['health-check'] })}\n`);
      return;
    }
    const view = healthViewOf(report);
    const failing = report.checks.filter((check) => !SERVING_LEVELS.has(check.level));
    if (failing.length > 0) {
      log.warn('GET /health', {
        level: report.level,
        checks: failing.map((check) => ({
          resource: check.resource.name,
          level: check.level,
          message: check.message,
        })),
      });
    }
    response.writeHead(view.failed.length === 0 ? 200 : 503, headers).end(`${JSON.stringify(view)}\n`);
  };
}
