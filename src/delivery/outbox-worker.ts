import { randomUUID } from 'node:crypto';
import os from 'node:os';
import type { Clock } from '../clock/clock';
import type { StoredProof } from '../domain/model';
import type { ClaimedItem, OutboxStore } from '../domain/outbox';
import type { EvidenceEventFacts } from '../evidence/evidence-content';
import type { IssuedEvidence } from '../evidence/evidence-issuer';
import type { Logger } from '../logging/logger';
import { itemEvidenceFacts, storedProofOf } from './item-evidence-facts';
import { eboxRecipientOf, publicationItemOf, type BlobSource } from './publication-item-of';
import type { EboxRecipient, PublicationItem, PublicationResult } from './publication-item';
import { PermanentPublicationError, TransientPublicationError } from './publication-errors';
import { afterTransientFailure, type RandomSource, type RetrySettings } from './retry-schedule';

/** How the worker paces itself; every duration in milliseconds. */
export interface OutboxWorkerSettings extends RetrySettings {
  /** How long a claim holds; it is renewed every third of it while a publication runs. */
  leaseMs: number;
  /** How many due entries one round claims at most. */
  batchSize: number;
  /** How many items of a round are published at the same time at most. */
  concurrency: number;
  /** How long the loop waits after a round that found nothing due (unless woken). */
  pollIntervalMs: number;
}

/** Publishes one item into the e-Box (`EboxPublicationClient` fits). */
export interface ItemPublisher {
  /** @throws TransientPublicationError or PermanentPublicationError */
  publish(item: PublicationItem): Promise<PublicationResult>;
}

/** Issues signed evidence (`EvidenceIssuer` fits). */
export interface EvidenceSource {
  issue(facts: EvidenceEventFacts): Promise<IssuedEvidence>;
}

/** Whether a recipient has an e-Box at all (`EboxProfileClient` fits). */
export interface RecipientProfiles {
  /** @throws TransientPublicationError or PermanentPublicationError */
  lookup(recipient: EboxRecipient): Promise<{ exists: boolean }>;
}

/** How one publication attempt ended (`lost`: published, but another worker had taken the claim over). */
export type PublicationAttemptOutcome = 'published' | 'transient' | 'permanent' | 'lost';

/** Told of every publication attempt (metrics). */
export interface OutboxWorkerObserver {
  publicationAttempted(outcome: PublicationAttemptOutcome): void;
}

/** What an {@link OutboxWorker} works with. */
export interface OutboxWorkerOptions {
  store: OutboxStore;
  publisher: ItemPublisher;
  /**
   * Asked when a publication is recovered through a 409: the e-Box's status answers do not repeat the
   * first answer's NO_DIGITAL_USER, the recipient's profile tells it (no e-Box = no digital user).
   */
  profiles?: RecipientProfiles;
  evidence: EvidenceSource;
  /** The stored files (`BlobStore` fits). */
  blobs: BlobSource;
  clock: Clock;
  log: Logger;
  settings: OutboxWorkerSettings;
  /** Jitter of the retry delays; default `Math.random`. */
  random?: RandomSource;
  /** The claims' owner; default `<hostname>:<pid>:<8 random hex digits>`, unique per worker. */
  owner?: string;
  /** Told how each attempt ended, before it is recorded. */
  observer?: OutboxWorkerObserver;
}

/** What one attempt came to, before it is recorded. */
type Attempt =
  | { kind: 'published'; result: PublicationResult; dispatchedAt: Date; proof: StoredProof }
  | { kind: 'transient'; error: string; retryAfterMs?: number; eboxMessageId?: string }
  | { kind: 'permanent'; reason: string }
  | { kind: 'lost' };

/** A running lease renewal for one claimed item. */
interface LeaseKeeper {
  /** The store said the claim is no longer ours. */
  readonly lost: boolean;
  /** Stops renewing and waits for a renewal under way. */
  stop(): Promise<void>;
}

function messageOf(error: unknown): string {
  return error instanceof Error ? `${error.name}: ${error.message}` : String(error);
}

/** Why the e-Box refused an item, in its own words. */
function refusalReason(error: PermanentPublicationError): string {
  const explanation = error.eboxMessage ? `: ${error.eboxMessage}` : '';
  return `the e-Box refused the publication: ${error.code}${explanation} (HTTP ${error.status})`;
}

function checkSettings(settings: OutboxWorkerSettings): void {
  const positive: (keyof OutboxWorkerSettings)[] = ['leaseMs', 'batchSize', 'concurrency', 'pollIntervalMs'];
  for (const name of positive) {
    if (!Number.isSafeInteger(settings[name]) || settings[name] <= 0)
      throw new RangeError(`OutboxWorker: ${name} must be a positive integer`);
  }
  for (const name of ['retryBaseMs', 'retryMaxMs', 'retryPeriodMs'] as const) {
    if (!Number.isSafeInteger(settings[name]) || settings[name] < 0)
      throw new RangeError(`OutboxWorker: ${name} must be an integer >= 0`);
  }
}

/**
 * Delivers accepted items into the e-Box. Each round claims the due outbox entries with a lease, publishes
 * them (files streamed from the blob store), issues their ProofOfDispatch (ContentConsignment evidence)
 * and records the outcome: published with its proof, deferred with exponential backoff after a transient
 * failure, or failed for good after a refusal or once the retry period is over. Every record names this
 * worker as the claim's owner, so a worker that lost its claim records nothing.
 *
 * An item is never lost: whatever goes wrong while it is processed leaves it in the outbox (deferred, or
 * at worst claimed until its lease expires), and a publication repeated after a crash is recognised by
 * the e-Box through the ticket (its Idempotency-Key), so the item still makes one e-Box message.
 */
export class OutboxWorker {
  /** The owner named in this worker's claims. */
  readonly owner: string;
  private readonly random: RandomSource;
  /** The last round: rounds never overlap, a new one waits for it. */
  private lastRound: Promise<unknown> = Promise.resolve();
  private stopping = false;
  private loop: Promise<void> | undefined;
  private wakeRequested = false;
  private cutPause: (() => void) | undefined;

  /** @throws RangeError when a setting is not a sensible number */
  constructor(private readonly options: OutboxWorkerOptions) {
    checkSettings(options.settings);
    this.random = options.random ?? Math.random;
    this.owner = options.owner ?? `${os.hostname()}:${process.pid}:${randomUUID().slice(0, 8)}`;
  }

  /**
   * One round: claims the entries due now (at most `batchSize`), processes them with at most
   * `concurrency` at a time in acceptance order, and resolves with how many were processed. A round
   * started while another runs waits for it. Once {@link stop} was called, claims nothing and gives 0.
   * @throws what the store throws when claiming (nothing was claimed then)
   */
  runOnce(): Promise<number> {
    const round = this.lastRound.then(() => this.round());
    this.lastRound = round.catch(() => undefined);
    return round;
  }

  /** Runs rounds until one finds nothing due (tests, shutdown). */
  async drain(): Promise<void> {
    while ((await this.runOnce()) > 0) {
      // another round: more may be due
    }
  }

  /**
   * Starts the loop: a round, then at once another when it processed something, else a pause of
   * `pollIntervalMs` (cut short by {@link wake}). Errors are logged, never thrown. Does nothing when
   * the loop already runs.
   */
  start(): void {
    if (this.loop !== undefined) return;
    this.stopping = false;
    this.loop = this.runLoop();
  }

  /** An item was just accepted: the loop's pause ends now (or the next one is skipped). */
  wake(): void {
    this.wakeRequested = true;
    this.cutPause?.();
  }

  /**
   * Stops claiming; publications under way finish and are recorded, claimed items not yet started are
   * released (due again at once, for any worker). Resolves when the loop and the round have ended.
   */
  async stop(): Promise<void> {
    this.stopping = true;
    this.cutPause?.();
    await this.loop;
    this.loop = undefined;
    await this.lastRound;
  }

  private async runLoop(): Promise<void> {
    while (!this.stopping) {
      this.wakeRequested = false;
      let processed = 0;
      try {
        processed = await this.runOnce();
      } catch (error) {
        // A store that fails to claim: try again after the pause, never crash the process.
        this.options.log.error('outbox round failed', { error: messageOf(error) });
      }
      if (processed === 0 && !this.stopping) await this.pause(this.options.settings.pollIntervalMs);
    }
  }

  private pause(milliseconds: number): Promise<void> {
    if (this.wakeRequested) return Promise.resolve();
    return new Promise((resolve) => {
      const done = () => {
        clearTimeout(timer);
        this.cutPause = undefined;
        resolve();
      };
      const timer = setTimeout(done, milliseconds);
      // The pause alone must not keep the process alive.
      timer.unref();
      this.cutPause = done;
    });
  }

  private async round(): Promise<number> {
    if (this.stopping) return 0;
    const { store, clock, settings } = this.options;
    const now = clock.now();
    const claimed = await store.claimDue(
      this.owner,
      now,
      new Date(now.getTime() + settings.leaseMs),
      settings.batchSize,
    );
    const waiting = [...claimed];
    let processed = 0;
    const lane = async () => {
      for (let item = waiting.shift(); item !== undefined; item = waiting.shift()) {
        if (this.stopping) {
          await this.release(item);
        } else {
          processed += 1;
          await this.process(item);
        }
      }
    };
    const lanes = Math.min(settings.concurrency, waiting.length);
    await Promise.all(Array.from({ length: lanes }, lane));
    return processed;
  }

  private async release(item: ClaimedItem): Promise<void> {
    try {
      await this.options.store.releaseClaim(item.ticket, this.owner);
    } catch (error) {
      // Its lease expires anyway: the entry is taken over then.
      this.options.log.warn('could not release a claim', { ticket: item.ticket, error: messageOf(error) });
    }
  }

  /** Publishes one claimed item and records the outcome; never throws. */
  private async process(item: ClaimedItem): Promise<void> {
    const log = this.options.log.child({ component: 'delivery', ticket: item.ticket });
    if (!(await this.claimStillHeld(item, log))) return;
    const lease = this.keepLease(item, log);
    let attempt: Attempt;
    try {
      attempt = await this.attempt(item, lease, log);
    } finally {
      await lease.stop();
    }
    this.options.observer?.publicationAttempted(attempt.kind);
    try {
      await this.record(item, attempt, log);
    } catch (error) {
      // The entry stays claimed until its lease expires, then it is tried again: not lost.
      log.error('could not record the outcome of a publication', { error: messageOf(error) });
    }
  }

  private async attempt(item: ClaimedItem, lease: LeaseKeeper, log: Logger): Promise<Attempt> {
    const { publisher, evidence, blobs } = this.options;
    let result: PublicationResult;
    try {
      result = await publisher.publish(publicationItemOf(item, blobs));
    } catch (error) {
      if (error instanceof PermanentPublicationError)
        return { kind: 'permanent', reason: refusalReason(error) };
      if (error instanceof TransientPublicationError)
        return { kind: 'transient', error: error.message, retryAfterMs: error.retryAfterMs };
      log.error('unexpected failure while publishing', { error: messageOf(error) });
      return { kind: 'transient', error: `unexpected failure: ${messageOf(error)}` };
    }
    if (lease.lost) return { kind: 'lost' };
    if (result.alreadyPublished && !result.noDigitalUser && this.options.profiles !== undefined) {
      try {
        const profile = await this.options.profiles.lookup(eboxRecipientOf(item.recipient));
        result = { ...result, noDigitalUser: !profile.exists };
      } catch (error) {
        // The history must say whether the recipient has an e-Box: ask again at the next attempt.
        return {
          kind: 'transient',
          error: `published as e-Box message ${result.messageId}, but the recipient's e-Box profile could not be read: ${messageOf(error)}`,
          eboxMessageId: result.messageId,
        };
      }
    }

    // The evidence cannot state a dispatch before the submission (the e-Box's clock may run behind ours).
    const dispatchedAt = new Date(Math.max(result.publishedAt.getTime(), item.acceptedAt.getTime()));
    try {
      const issued = await evidence.issue(
        itemEvidenceFacts(item, 'ContentConsignment', dispatchedAt, result.messageId),
      );
      const proof = storedProofOf('DISPATCH', issued);
      return { kind: 'published', result, dispatchedAt, proof };
    } catch (error) {
      // The next attempt gets a 409 from the e-Box, recovers the message id and issues the proof then.
      log.error('published, but the proof of dispatch could not be issued', {
        eboxMessageId: result.messageId,
        error: messageOf(error),
      });
      return {
        kind: 'transient',
        error: `published as e-Box message ${result.messageId}, but the proof of dispatch could not be issued: ${messageOf(error)}`,
        eboxMessageId: result.messageId,
      };
    }
  }

  private async record(item: ClaimedItem, attempt: Attempt, log: Logger): Promise<void> {
    const { store, clock, settings } = this.options;
    const base = { ticket: item.ticket, owner: this.owner, recordedAt: clock.now() };
    let recorded: boolean;
    switch (attempt.kind) {
      case 'lost':
        log.warn('claim lost during the publication: another worker took the item over; nothing recorded');
        return;
      case 'published':
        recorded = await store.recordPublished({
          ...base,
          eboxMessageId: attempt.result.messageId,
          publishedAt: attempt.dispatchedAt,
          noDigitalUser: attempt.result.noDigitalUser,
          proof: attempt.proof,
        });
        if (recorded)
          log.info('item published in the e-Box', {
            eboxMessageId: attempt.result.messageId,
            noDigitalUser: attempt.result.noDigitalUser,
            alreadyPublished: attempt.result.alreadyPublished,
            evidenceId: attempt.proof.evidenceId,
          });
        break;
      case 'permanent':
        recorded = await store.recordFailed({ ...base, reason: attempt.reason });
        if (recorded) log.warn('publication failed for good', { reason: attempt.reason });
        break;
      case 'transient': {
        const failedAttempts = item.attempts + 1;
        const decision = afterTransientFailure(
          {
            acceptedAt: item.acceptedAt,
            now: base.recordedAt,
            failedAttempts,
            error: attempt.error,
            retryAfterMs: attempt.retryAfterMs,
            delivered: attempt.eboxMessageId !== undefined,
          },
          settings,
          this.random,
        );
        if (decision.retry) {
          recorded = await store.recordDeferred({
            ...base,
            nextAttemptAt: decision.nextAttemptAt,
            reason: attempt.error,
          });
          if (recorded)
            log.warn('publication deferred', {
              failedAttempts,
              nextAttemptAt: decision.nextAttemptAt.toISOString(),
              error: attempt.error,
            });
        } else {
          recorded = await store.recordFailed({ ...base, reason: decision.reason });
          if (recorded) log.error('publication failed for good', { reason: decision.reason });
        }
        break;
      }
    }
    if (!recorded) log.warn('claim lost: another worker took the item over; this outcome is discarded');
  }

  /**
   * Whether the claim of an item about to be published still holds. Only the items being published have
   * their lease renewed (keepLease): one that waited in its batch while others were published may have
   * outlived its lease and been claimed by another worker, which then publishes it. So an item claimed
   * a third of a lease ago or more (keepLease's pace) has its lease renewed first, and is left alone
   * when that shows the claim lost; a fresh claim needs no round trip.
   */
  private async claimStillHeld(item: ClaimedItem, log: Logger): Promise<boolean> {
    const { store, clock, settings } = this.options;
    const now = clock.now().getTime();
    if (item.leaseExpiresAt.getTime() - now > settings.leaseMs - settings.leaseMs / 3) return true;
    try {
      if (await store.renewLease(item.ticket, this.owner, new Date(now + settings.leaseMs))) return true;
      log.warn('claim lost while the item waited in its batch: another worker took it over; not published');
    } catch (error) {
      // Not published now: the entry is claimed again once its lease expires.
      log.warn('could not renew the claim of an item before its publication', { error: messageOf(error) });
    }
    return false;
  }

  private keepLease(item: ClaimedItem, log: Logger): LeaseKeeper {
    const { store, clock, settings } = this.options;
    let lost = false;
    let stopped = false;
    let renewal: Promise<void> | undefined;
    const timer = setInterval(
      () => {
        if (renewal !== undefined || stopped) return;
        const until = new Date(clock.now().getTime() + settings.leaseMs);
        renewal = store
          .renewLease(item.ticket, this.owner, until)
          .then((held) => {
            if (held || stopped) return;
            lost = true;
            clearInterval(timer);
            log.warn('claim lost while publishing: its lease was taken over');
          })
          .catch((error: unknown) => {
            log.warn('could not renew a lease', { error: messageOf(error) });
          })
          .finally(() => {
            renewal = undefined;
          });
      },
      Math.max(1, Math.floor(settings.leaseMs / 3)),
    );
    timer.unref();
    return {
      get lost() {
        return lost;
      },
      async stop() {
        stopped = true;
        clearInterval(timer);
        await renewal;
      },
    };
  }
}
