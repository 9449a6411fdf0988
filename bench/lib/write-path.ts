/*
 * How the service's database writes were grouped during a measured phase, from its own /metrics (the
 * counters of the group commit and of the SQLite WAL's fsyncs, summed over its workers): a transaction
 * costs its pages written and a turn at the cluster's lock file, an fsync a trip to the disk, so these
 * ratios explain much of the CPU per request that is not cryptography.
 */

import { parseScrape, type Scrape } from '../../test/metrics/prometheus-text';

/** The write-path counters at one moment. */
export interface WritePathCounters {
  transactions: number;
  writes: number;
  /** Undefined on PostgreSQL (no such series). */
  walFsyncs: number | undefined;
}

/** What a phase's requests cost the database's write path. */
export interface WritePathUse {
  transactionsPerRequest: number;
  writesPerTransaction: number;
  /** Undefined on PostgreSQL. */
  walFsyncsPerRequest: number | undefined;
}

const SERIES = {
  transactions: 'registered_mail_database_write_transactions_total',
  writes: 'registered_mail_database_grouped_writes_total',
  walFsyncs: 'registered_mail_sqlite_wal_fsyncs_total',
} as const;

/** The value of an unlabelled series, undefined when the scrape has none. */
function seriesValue(metrics: Scrape, name: string): number | undefined {
  const value = metrics.sample(name)?.value;
  return value === undefined ? undefined : Number(value);
}

/**
 * Reads the counters from the service's `/metrics` (on the port of `serviceUrl`).
 * @returns undefined when /metrics does not answer them (an older service, RM_METRICS=false)
 */
export async function readWritePathCounters(serviceUrl: string): Promise<WritePathCounters | undefined> {
  let metrics: Scrape;
  try {
    const response = await fetch(new URL('/metrics', serviceUrl));
    if (!response.ok) return undefined;
    metrics = parseScrape(await response.text());
  } catch {
    return undefined;
  }
  const transactions = seriesValue(metrics, SERIES.transactions);
  const writes = seriesValue(metrics, SERIES.writes);
  if (transactions === undefined || writes === undefined) return undefined;
  return { transactions, writes, walFsyncs: seriesValue(metrics, SERIES.walFsyncs) };
}

/** The phase's use of the write path, from the counters before and after it and its request count. */
export function writePathUse(
  before: WritePathCounters | undefined,
  after: WritePathCounters | undefined,
  requests: number,
): WritePathUse | undefined {
  if (before === undefined || after === undefined || requests <= 0) return undefined;
  const transactions = after.transactions - before.transactions;
  const walFsyncs =
    before.walFsyncs === undefined || after.walFsyncs === undefined
      ? undefined
      : after.walFsyncs - before.walFsyncs;
  return {
    transactionsPerRequest: transactions / requests,
    writesPerTransaction: transactions > 0 ? (after.writes - before.writes) / transactions : 0,
    walFsyncsPerRequest: walFsyncs === undefined ? undefined : walFsyncs / requests,
  };
}
