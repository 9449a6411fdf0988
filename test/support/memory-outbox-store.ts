import type {
  AwaitingConsultation,
  ConsultedItem,
  DeferredItem,
  FailedItem,
  ItemFacts,
  OutboxStore,
  PublishedItem,
} from '../../src/domain/outbox';

/** One outbox entry as the memory store keeps it. */
export interface MemoryOutboxEntry {
  facts: ItemFacts;
  nextAttemptAt: Date;
  attempts: number;
  leaseOwner: string | undefined;
  leaseExpiresAt: Date | undefined;
  lastError: string | undefined;
}

/** A SENT item as the memory store keeps it. */
interface SentItem {
  facts: ItemFacts;
  publication: PublishedItem;
  consultedAt: Date | undefined;
  consultationCheckedAt: Date | undefined;
  consultation: ConsultedItem | undefined;
}

const time = (at: Date | undefined) => at?.getTime() ?? Number.NEGATIVE_INFINITY;

/**
 * An {@link OutboxStore} in memory for tests of delivery's logic: claims are leases with owners as in the
 * real store (a live lease is never claimed twice, an expired one is taken over, every write after the
 * claim needs the claim's owner), and what was recorded can be read back.
 */
export class MemoryOutboxStore implements OutboxStore {
  /** The entries still in the outbox, by ticket. */
  readonly entries = new Map<string, MemoryOutboxEntry>();
  /** SENT items, by ticket. */
  readonly sent = new Map<string, SentItem>();
  /** ERROR items, by ticket. */
  readonly failed = new Map<string, FailedItem>();
  /** Every deferral recorded, in order. */
  readonly deferrals: DeferredItem[] = [];
  /** Every lease renewal asked for, in order, and whether it held. */
  readonly renewals: { ticket: string; owner: string; leaseExpiresAt: Date; held: boolean }[] = [];

  /** Puts an accepted item in the outbox, due at its acceptance (what the item store does on accept). */
  add(facts: ItemFacts): void {
    this.entries.set(facts.ticket, {
      facts,
      nextAttemptAt: facts.acceptedAt,
      attempts: 0,
      leaseOwner: undefined,
      leaseExpiresAt: undefined,
      lastError: undefined,
    });
  }

  claimDue(owner: string, now: Date, leaseExpiresAt: Date, limit: number) {
    const due = [...this.entries.values()]
      .filter((entry) => entry.nextAttemptAt <= now)
      .filter((entry) => entry.leaseOwner === undefined || time(entry.leaseExpiresAt) <= now.getTime())
      .sort(
        (a, b) =>
          a.facts.acceptedAt.getTime() - b.facts.acceptedAt.getTime() ||
          a.facts.ticket.localeCompare(b.facts.ticket),
      )
      .slice(0, limit);
    return Promise.resolve(
      due.map((entry) => {
        entry.leaseOwner = owner;
        entry.leaseExpiresAt = leaseExpiresAt;
        return { ...entry.facts, attempts: entry.attempts, owner, leaseExpiresAt };
      }),
    );
  }

  renewLease(ticket: string, owner: string, leaseExpiresAt: Date) {
    const entry = this.heldBy(ticket, owner);
    if (entry) entry.leaseExpiresAt = leaseExpiresAt;
    this.renewals.push({ ticket, owner, leaseExpiresAt, held: entry !== undefined });
    return Promise.resolve(entry !== undefined);
  }

  releaseClaim(ticket: string, owner: string) {
    const entry = this.heldBy(ticket, owner);
    if (entry) {
      entry.leaseOwner = undefined;
      entry.leaseExpiresAt = undefined;
    }
    return Promise.resolve();
  }

  recordPublished(outcome: PublishedItem) {
    const entry = this.heldBy(outcome.ticket, outcome.owner);
    if (!entry) return Promise.resolve(false);
    this.entries.delete(outcome.ticket);
    this.sent.set(outcome.ticket, {
      facts: entry.facts,
      publication: outcome,
      consultedAt: undefined,
      consultationCheckedAt: undefined,
      consultation: undefined,
    });
    return Promise.resolve(true);
  }

  recordDeferred(outcome: DeferredItem) {
    const entry = this.heldBy(outcome.ticket, outcome.owner);
    if (!entry) return Promise.resolve(false);
    entry.attempts += 1;
    entry.nextAttemptAt = outcome.nextAttemptAt;
    entry.lastError = outcome.reason;
    entry.leaseOwner = undefined;
    entry.leaseExpiresAt = undefined;
    this.deferrals.push(outcome);
    return Promise.resolve(true);
  }

  recordFailed(outcome: FailedItem) {
    if (!this.heldBy(outcome.ticket, outcome.owner)) return Promise.resolve(false);
    this.entries.delete(outcome.ticket);
    this.failed.set(outcome.ticket, outcome);
    return Promise.resolve(true);
  }

  listAwaitingConsultation(limit: number, now: Date) {
    const awaiting = [...this.sent.values()]
      .filter((item) => item.consultedAt === undefined)
      .sort((a, b) => time(a.consultationCheckedAt) - time(b.consultationCheckedAt))
      .slice(0, limit);
    for (const item of awaiting) item.consultationCheckedAt = now;
    return Promise.resolve(
      awaiting.map((item): AwaitingConsultation => ({
        ...item.facts,
        eboxMessageId: item.publication.eboxMessageId,
        publishedAt: item.publication.publishedAt,
      })),
    );
  }

  recordConsulted(outcome: ConsultedItem) {
    const item = this.sent.get(outcome.ticket);
    if (!item || item.consultedAt !== undefined) return Promise.resolve(false);
    item.consultedAt = outcome.readAt;
    item.consultation = outcome;
    return Promise.resolve(true);
  }

  depth() {
    const acceptedAt = [...this.entries.values()].map((entry) => entry.facts.acceptedAt.getTime());
    return Promise.resolve({
      count: acceptedAt.length,
      oldestAcceptedAt: acceptedAt.length > 0 ? new Date(Math.min(...acceptedAt)) : undefined,
    });
  }

  private heldBy(ticket: string, owner: string): MemoryOutboxEntry | undefined {
    const entry = this.entries.get(ticket);
    return entry?.leaseOwner === owner ? entry : undefined;
  }
}
