import { Counter, Histogram, Registry } from 'prom-client';
import type { SoapRequestObserver } from '../app/soap-endpoint';
import type { OutboxWorkerObserver, PublicationAttemptOutcome } from '../delivery/outbox-worker';
import type { WalCheckpointObserver } from '../storage/wal-checkpointer';
import type { TimeStampObserver } from './timed-time-stamp-authority';

/** Every metric name of the service starts with this. */
export const METRIC_PREFIX = 'registered_mail_';

/** SOAP request latency: from a handful of milliseconds (a refusal) to seconds (a large signed send). */
const SOAP_DURATION_BUCKETS = [0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30];
/** Time-stamp latency: about a millisecond for the embedded TSA, up to RM_TSA_TIMEOUT_MS for a remote one. */
const TIME_STAMP_DURATION_BUCKETS = [0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10];

/** WAL sizes in frames (pages): a round every 64 commits, the WAL started over from 4096 frames on. */
const WAL_FRAME_BUCKETS = [64, 256, 1024, 4096, 16384, 65536, 262144];

const PUBLICATION_OUTCOMES: readonly PublicationAttemptOutcome[] = [
  'published',
  'transient',
  'permanent',
  'lost',
];

/** What {@link ServiceMetrics.registerWritePath} reads at each scrape: counts since the process started. */
export interface WritePathCounts {
  transactions: () => number;
  writes: () => number;
  /** With SQLite only. */
  walFsyncs?: () => number;
}

/**
 * One process's counters and histograms, in a registry of its own (never prom-client's global one, so
 * that several services in one process count apart). What a scrape shows is these summed over every
 * process of the service (see `metrics-exposition.ts`), plus the gauges read once at scrape time.
 * Whoever records gets an observer from here; nothing else holds the metrics.
 */
export class ServiceMetrics {
  /** This process's counters and histograms. */
  readonly registry = new Registry();
  private readonly soapRequests: Counter<'port' | 'operation' | 'outcome'>;
  private readonly soapDuration: Histogram<'port' | 'operation' | 'result'>;
  private readonly publicationAttempts: Counter<'outcome'>;
  private readonly timeStampDuration: Histogram<'tsa' | 'result'>;
  private walCheckpointMetrics: WalCheckpointObserver | undefined;

  constructor() {
    const registers = [this.registry];
    this.soapRequests = new Counter({
      name: `${METRIC_PREFIX}soap_requests_total`,
      help: 'SOAP requests answered, by port (service path), operation and outcome (ok or the fault code)',
      labelNames: ['port', 'operation', 'outcome'],
      registers,
    });
    this.soapDuration = new Histogram({
      name: `${METRIC_PREFIX}soap_request_duration_seconds`,
      help: 'Time from receiving a SOAP request to writing its answer, by port, operation and result (ok or fault)',
      labelNames: ['port', 'operation', 'result'],
      buckets: SOAP_DURATION_BUCKETS,
      registers,
    });
    this.publicationAttempts = new Counter({
      name: `${METRIC_PREFIX}publication_attempts_total`,
      help:
        'Attempts to publish an item into the e-Box, by outcome: published, transient (deferred or, past ' +
        'the retry period, failed), permanent (refused) or lost (another worker took the claim over)',
      labelNames: ['outcome'],
      registers,
    });
    // Every outcome shows from the start (at 0), so that rate() and alerts see the series before the first.
    for (const outcome of PUBLICATION_OUTCOMES) this.publicationAttempts.inc({ outcome }, 0);
    this.timeStampDuration = new Histogram({
      name: `${METRIC_PREFIX}time_stamp_duration_seconds`,
      help: 'Time to obtain a checked RFC 3161 time-stamp token for a proof, by TSA (embedded or external) and result (ok or failed)',
      labelNames: ['tsa', 'result'],
      buckets: TIME_STAMP_DURATION_BUCKETS,
      registers,
    });
  }

  /** What the SOAP endpoint of the port at `port` (its service path) reports each answer to. */
  soapRequestObserver(port: string): SoapRequestObserver {
    return {
      requestAnswered: ({ operation, faultCode, seconds }) => {
        const named = operation ?? 'unknown';
        this.soapRequests.inc({ port, operation: named, outcome: faultCode ?? 'ok' });
        this.soapDuration.observe(
          { port, operation: named, result: faultCode === undefined ? 'ok' : 'fault' },
          seconds,
        );
      },
    };
  }

  /** What the outbox worker reports each publication attempt to. */
  publicationObserver(): OutboxWorkerObserver {
    return {
      publicationAttempted: (outcome) => this.publicationAttempts.inc({ outcome }),
    };
  }

  /**
   * What the SQLite WAL checkpoint thread reports each checkpoint and its failure to. Its series exist
   * once this is asked for (a service on SQLite), the failures and both kinds of checkpoint at 0.
   */
  walCheckpointObserver(): WalCheckpointObserver {
    if (this.walCheckpointMetrics !== undefined) return this.walCheckpointMetrics;
    const registers = [this.registry];
    const checkpoints = new Counter({
      name: `${METRIC_PREFIX}sqlite_wal_checkpoints_total`,
      help:
        'SQLite WAL checkpoints run by the checkpoint thread, by writers_held: false while the writers go ' +
        'on, true for the second checkpoint of a round that lets a large WAL start over',
      labelNames: ['writers_held'],
      registers,
    });
    for (const writersHeld of ['false', 'true']) checkpoints.inc({ writers_held: writersHeld }, 0);
    const frames = new Histogram({
      name: `${METRIC_PREFIX}sqlite_wal_frames`,
      help: 'Frames (pages) in the SQLite WAL when the checkpoint thread checkpointed it',
      buckets: WAL_FRAME_BUCKETS,
      registers,
    });
    const failures = new Counter({
      name: `${METRIC_PREFIX}sqlite_wal_checkpoint_thread_failures_total`,
      help: 'Checkpoint threads that failed (SQLite then checkpoints inside commits again, on the event loop)',
      registers,
    });
    this.walCheckpointMetrics = {
      onCheckpoint: (outcome, writersHeld) => {
        checkpoints.inc({ writers_held: String(writersHeld) });
        frames.observe(outcome.walFrames);
      },
      onFailure: () => failures.inc(),
    };
    return this.walCheckpointMetrics;
  }

  /**
   * Counts of the database's write path, read at each scrape: the group commit's transactions and the
   * writes they held (their ratio says how well writes are grouped; each transaction costs its pages
   * written and, with SQLite, a turn at the cluster's lock file) and, with SQLite, the WAL fsyncs that
   * made them durable (no such series on PostgreSQL).
   */
  registerWritePath(counts: WritePathCounts): void {
    const registers = [this.registry];
    const counter = (name: string, help: string, read: () => number) =>
      new Counter({
        name: `${METRIC_PREFIX}${name}`,
        help,
        registers,
        collect() {
          this.reset();
          this.inc(read());
        },
      });
    counter(
      'database_write_transactions_total',
      'Transactions of the group commit (one per group of writes that arrived together)',
      counts.transactions,
    );
    counter(
      'database_grouped_writes_total',
      'Writes (accepted items, replay-cache entries, delivery records) in those transactions',
      counts.writes,
    );
    if (counts.walFsyncs !== undefined) {
      counter(
        'sqlite_wal_fsyncs_total',
        'fsyncs of the SQLite WAL that made committed writes durable',
        counts.walFsyncs,
      );
    }
  }

  /** What the time-stamp authority of kind `tsa` reports each token it was asked for to. */
  timeStampObserver(tsa: 'embedded' | 'external'): TimeStampObserver {
    return {
      timeStampObtained: ({ seconds, ok }) =>
        this.timeStampDuration.observe({ tsa, result: ok ? 'ok' : 'failed' }, seconds),
    };
  }
}
