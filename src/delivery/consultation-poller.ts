import type { Clock } from '../clock/clock';
import type { AwaitingConsultation, OutboxStore } from '../domain/outbox';
import type { EvidenceEventFacts } from '../evidence/evidence-content';
import type { IssuedEvidence } from '../evidence/evidence-issuer';
import type { EboxMessageStatus } from './ebox-message-status-client';
import { itemEvidenceFacts, storedProofOf } from './item-evidence-facts';
import { PermanentPublicationError } from './publication-errors';

/** How often and how much the poller checks. */
export interface ConsultationPollerSettings {
  /** Time between the end of one round and the start of the next. */
  intervalMs: number;
  /** Items checked per round at most. */
  batchSize: number;
  /** Status calls in flight at once within a round (default 4). */
  concurrency?: number;
}

/** Where the read status comes from (`EboxMessageStatusClient` is one). */
export interface MessageStatusSource {
  /** @throws TransientPublicationError or PermanentPublicationError when the status cannot be read */
  status(messageId: string): Promise<Pick<EboxMessageStatus, 'readStatus' | 'readAt'>>;
}

/** Issues the ContentHandover evidence (`EvidenceIssuer` is one). */
export interface ConsultationEvidenceIssuer {
  issue(facts: EvidenceEventFacts): Promise<IssuedEvidence>;
}

/** What the poller logs through (the application's winston `Logger` fits). */
export interface ConsultationPollerLog {
  info(message: string, meta?: Record<string, unknown>): unknown;
  warn(message: string, meta?: Record<string, unknown>): unknown;
  error(message: string, meta?: Record<string, unknown>): unknown;
}

/** What a {@link ConsultationPoller} works with. */
export interface ConsultationPollerOptions {
  store: Pick<OutboxStore, 'listAwaitingConsultation' | 'recordConsulted'>;
  statuses: MessageStatusSource;
  evidence: ConsultationEvidenceIssuer;
  clock: Clock;
  log: ConsultationPollerLog;
  settings: ConsultationPollerSettings;
}

const DEFAULT_CONCURRENCY = 4;

function messageOf(error: unknown): string {
  return error instanceof Error ? error.message : String(error);
}

/**
 * Watches SENT items until their recipient opens them in the e-Box: each round takes a batch of items
 * whose consultation has not been seen (those checked longest ago first), asks the e-Box their read
 * status a few at a time, and for each one read issues the ContentHandover evidence (EventTime = the
 * e-Box's read time) and records the consultation with it. A failure for one item is logged and the item
 * is checked again in a later round; it never stops the others. Rounds never overlap.
 */
export class ConsultationPoller {
  private readonly concurrency: number;
  /** The last round started (resolved when none runs): rounds are chained on it so they never overlap. */
  private lastRound: Promise<unknown> = Promise.resolve();
  private timer: NodeJS.Timeout | undefined;
  private running = false;

  constructor(private readonly options: ConsultationPollerOptions) {
    const { intervalMs, batchSize, concurrency = DEFAULT_CONCURRENCY } = options.settings;
    if (!Number.isSafeInteger(intervalMs) || intervalMs <= 0) throw new RangeError('intervalMs must be > 0');
    if (!Number.isSafeInteger(batchSize) || batchSize <= 0) throw new RangeError('batchSize must be > 0');
    if (!Number.isSafeInteger(concurrency) || concurrency <= 0)
      throw new RangeError('concurrency must be > 0');
    this.concurrency = concurrency;
  }

  /**
   * Runs one round (after the one in progress, if any).
   * @returns how many consultations this round recorded
   * @throws whatever the store throws when listing the batch (per-item failures are only logged)
   */
  pollOnce(): Promise<number> {
    const round = this.lastRound.then(() => this.round());
    // The chain never rejects: a failed round does not prevent the next.
    this.lastRound = round.catch(() => undefined);
    return round;
  }

  /** Polls every `intervalMs` until {@link stop}; the timer does not keep the process alive. */
  start(): void {
    if (this.running) return;
    this.running = true;
    this.schedule();
  }

  /** Stops polling; resolves once the round in progress (if any) has ended. */
  async stop(): Promise<void> {
    this.running = false;
    if (this.timer !== undefined) clearTimeout(this.timer);
    this.timer = undefined;
    await this.lastRound;
  }

  private schedule(): void {
    if (!this.running || this.timer !== undefined) return;
    this.timer = setTimeout(() => {
      this.timer = undefined;
      this.pollOnce()
        .catch((error: unknown) =>
          this.options.log.error('consultation polling round failed', { error: messageOf(error) }),
        )
        .finally(() => this.schedule());
    }, this.options.settings.intervalMs);
    this.timer.unref();
  }

  private async round(): Promise<number> {
    const { store, clock, settings } = this.options;
    const items = await store.listAwaitingConsultation(settings.batchSize, clock.now());
    let recorded = 0;
    let next = 0;
    const worker = async () => {
      while (next < items.length) {
        const item = items[next++];
        if (await this.check(item)) recorded += 1;
      }
    };
    await Promise.all(Array.from({ length: Math.min(this.concurrency, items.length) }, worker));
    return recorded;
  }

  /** Checks one item; true when its consultation was recorded now. Never throws. */
  private async check(item: AwaitingConsultation): Promise<boolean> {
    const { statuses, log } = this.options;
    const context = { ticket: item.ticket, eboxMessageId: item.eboxMessageId };
    let status: Pick<EboxMessageStatus, 'readStatus' | 'readAt'>;
    try {
      status = await statuses.status(item.eboxMessageId);
    } catch (error) {
      if (error instanceof PermanentPublicationError && error.status === 404) {
        log.error('the e-Box does not know the message of a sent item', context);
      } else {
        log.warn('consultation status not available, checked again later', {
          ...context,
          error: messageOf(error),
        });
      }
      return false;
    }
    if (status.readStatus !== 'READ') return false;
    try {
      return await this.recordConsultation(item, status.readAt);
    } catch (error) {
      log.error('consultation seen but not recorded, checked again later', {
        ...context,
        error: messageOf(error),
      });
      return false;
    }
  }

  private async recordConsultation(
    item: AwaitingConsultation,
    eboxReadAt: Date | undefined,
  ): Promise<boolean> {
    const { store, evidence, clock, log } = this.options;
    // Without a readDate the time we saw it read is the best we know. A read time before the publication
    // can only be clock skew between the e-Box and us: the message cannot be read before it was deposited
    // (and the evidence may not state an event before its SubmissionTime), so the history stays in order.
    const seenAt = eboxReadAt ?? clock.now();
    const earliest = Math.max(item.acceptedAt.getTime(), item.publishedAt.getTime());
    const readAt = seenAt.getTime() < earliest ? new Date(earliest) : seenAt;
    const issued = await evidence.issue(
      itemEvidenceFacts(item, 'ContentHandover', readAt, item.eboxMessageId),
    );
    const proof = storedProofOf('CONSULTATION', issued);
    const recorded = await store.recordConsulted({ ticket: item.ticket, readAt, proof });
    if (recorded) {
      log.info('consultation recorded', {
        ticket: item.ticket,
        eboxMessageId: item.eboxMessageId,
        readAt: readAt.toISOString(),
        evidenceId: issued.evidenceId,
      });
    }
    return recorded;
  }
}
