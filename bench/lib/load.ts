import { performance } from 'node:perf_hooks';
import autocannon from 'autocannon';
import { SOAP_ACTION, type PreparedRequest } from './signed-requests';

/*
 * Drives pre-signed requests over loopback with autocannon: `concurrency` keep-alive connections, each
 * sending its next request as soon as the previous answer is in, every request body sent exactly once.
 */

/** Latency percentiles in milliseconds (nearest rank over every answered request). */
export interface LatencyPercentiles {
  p50: number;
  p95: number;
  p99: number;
  max: number;
  mean: number;
}

/** What one load phase measured. */
export interface LoadResult {
  /** Requests sent (answered or failed). */
  requests: number;
  /** Answers with a 2xx status. */
  ok: number;
  /** Non-2xx answers (SOAP faults are 500) plus socket errors plus timeouts. */
  errors: number;
  errorDetail: { non2xx: number; socketErrors: number; timeouts: number };
  /** HTTP statuses seen, e.g. `{ "200": 1998, "500": 2 }`. */
  statuses: Record<string, number>;
  durationMs: number;
  /** Answered requests per second over the phase. */
  throughputPerSecond: number;
  latencyMs: LatencyPercentiles;
  /** Requests the phase asked for beyond the prepared ones (a reconnect replays nothing; should stay 0). */
  spareRequestsUsed: number;
  /**
   * CPU milliseconds this process (the load generator) spent over the phase: not part of the server's
   * figure, but taken from the same vCPUs.
   */
  generatorCpuMs: number;
}

export interface LoadOptions {
  /** The endpoint. */
  url: string;
  /** Sent in this order, each once; their number is the phase's amount. */
  requests: readonly PreparedRequest[];
  concurrency: number;
  /** Seconds without an answer before a request counts as timed out (autocannon's default is 10). */
  timeoutSeconds?: number;
  /** Called with every answer's status and body (for a warm-up that needs the tickets). */
  onAnswer?: (status: number, body: string) => void;
}

/**
 * Collects the harness's own garbage (what signing the requests and the phases before left) before a
 * measured phase, when node runs with `--expose-gc` (`npm run bench` does; elsewhere it does nothing):
 * otherwise the load generator collects it during the phase, on the vCPUs the service shares with it.
 */
export function collectHarnessGarbage(): void {
  (globalThis as { gc?: () => void }).gc?.();
}

/** The value at percentile `p` (0-100) of ascending `sorted`: the nearest-rank method. */
export function percentile(sorted: readonly number[], p: number): number {
  if (sorted.length === 0) return NaN;
  const rank = Math.ceil((p / 100) * sorted.length);
  return sorted[Math.min(sorted.length, Math.max(1, rank)) - 1];
}

/** p50, p95, p99, max and mean of `samples` (milliseconds). */
export function latencyPercentiles(samples: readonly number[]): LatencyPercentiles {
  const sorted = [...samples].sort((a, b) => a - b);
  const mean = sorted.reduce((sum, value) => sum + value, 0) / (sorted.length || NaN);
  return {
    p50: percentile(sorted, 50),
    p95: percentile(sorted, 95),
    p99: percentile(sorted, 99),
    max: sorted[sorted.length - 1] ?? NaN,
    mean,
  };
}

/** Sends every request of `options.requests` once, `options.concurrency` at a time. */
export async function driveLoad(options: LoadOptions): Promise<LoadResult> {
  const amount = options.requests.length;
  if (amount === 0) throw new Error('driveLoad: no requests');
  const connections = Math.max(1, Math.min(options.concurrency, amount));
  const target = new URL(options.url);
  let next = 0;
  let spareRequestsUsed = 0;
  const latencies: number[] = [];
  const statuses: Record<string, number> = {};

  const started = performance.now();
  const generatorCpuBefore = process.cpuUsage();
  let lastAnswerAt: number | undefined;
  const result = await new Promise<autocannon.Result>((resolve, reject) => {
    const instance = autocannon(
      {
        url: target.origin,
        connections,
        amount,
        timeout: options.timeoutSeconds ?? 30,
        requests: [
          {
            // autocannon builds each connection's next request when the previous one is answered (and
            // one per connection up front): each build takes the next prepared body.
            onResponse: options.onAnswer ? (status, body) => options.onAnswer?.(status, body) : undefined,
            setupRequest: (request) => {
              const prepared = options.requests[next];
              next += 1;
              if (prepared === undefined) {
                // Never sent once `amount` is reached; a harmless request all the same.
                spareRequestsUsed += 1;
                return { ...request, method: 'GET', path: `${target.pathname}?wsdl`, body: undefined };
              }
              return {
                ...request,
                method: 'POST',
                path: target.pathname,
                headers: { 'Content-Type': prepared.contentType, SOAPAction: SOAP_ACTION },
                body: prepared.body,
              };
            },
          },
        ],
      },
      (error, finished) => (error ? reject(error) : resolve(finished)),
    );
    instance.on('response', (_client, statusCode, _bytes, responseTime) => {
      statuses[statusCode] = (statuses[statusCode] ?? 0) + 1;
      latencies.push(responseTime);
      lastAnswerAt = performance.now();
    });
  });
  // Up to the last answer: autocannon reports the end of an `amount` run only at its next one-second
  // tick, which would add up to a second of idle time to the phase.
  const durationMs = (lastAnswerAt ?? performance.now()) - started;
  const generatorCpu = process.cpuUsage(generatorCpuBefore);

  const ok = Object.entries(statuses)
    .filter(([status]) => status.startsWith('2'))
    .reduce((sum, [, count]) => sum + count, 0);
  const answered = latencies.length;
  const socketErrors = result.errors - result.timeouts;
  const non2xx = answered - ok;
  return {
    requests: answered + result.errors,
    ok,
    errors: non2xx + result.errors,
    errorDetail: { non2xx, socketErrors, timeouts: result.timeouts },
    statuses,
    durationMs,
    throughputPerSecond: (answered * 1000) / durationMs,
    latencyMs: latencyPercentiles(latencies),
    // Builds past the prepared ones happen only if autocannon asks for more than `amount`.
    spareRequestsUsed: Math.max(0, spareRequestsUsed),
    generatorCpuMs: (generatorCpu.user + generatorCpu.system) / 1000,
  };
}
