import type { AnnexDescription, DocumentDescription, Recipient, Sender, StoredProof } from './model';

/*
 * The outbox: accepted items waiting to be published into the e-Box. The item store puts an entry in it
 * in the same transaction that accepts the item, so an accepted item can never be forgotten; the entry
 * leaves it in the same transaction that records the item's final state (SENT or ERROR).
 *
 * Workers claim entries with a lease: a claim is a compare-and-set in the database, so of several worker
 * processes (or nodes) exactly one holds an entry at a time, and a dead worker's claim is taken over once
 * its lease has expired. Every write after the claim names the claim's owner and does nothing when that
 * owner no longer holds it (its lease expired and another worker took over): the loser's work is
 * discarded, so an item is recorded SENT once, with one ProofOfDispatch.
 */

/** The history event (the `event` of a status history row) written when an item is accepted (PENDING). */
export const ACCEPTED_EVENT = 'ACCEPTED';

/** History events (the `event` of a status history row) written by delivery. */
export const DELIVERY_EVENTS = {
  /** The item lies in the recipient's e-Box (status SENT); detail names the e-Box message id. */
  published: 'PUBLISHED',
  /** The e-Box accepted the item with `NO_DIGITAL_USER`: the recipient never opened an e-Box (SENT). */
  noDigitalUser: 'NO_DIGITAL_USER',
  /** Publication failed for good (status ERROR); detail holds the reason. */
  publicationFailed: 'PUBLICATION_FAILED',
  /** The recipient opened the message in the e-Box (status stays SENT); the time is the e-Box's. */
  consulted: 'CONSULTED',
} as const;

/** The name of a history event this version writes (`ItemEvent.name` in `model.ts`). */
export type ItemEventName = typeof ACCEPTED_EVENT | (typeof DELIVERY_EVENTS)[keyof typeof DELIVERY_EVENTS];

/** Every history event this version writes, in no particular order. */
export const ITEM_EVENT_NAMES: readonly ItemEventName[] = [ACCEPTED_EVENT, ...Object.values(DELIVERY_EVENTS)];

/**
 * Whether a stored `event` is one this version knows. A later version may write events this one does not
 * know (a database shared across a rolling upgrade); readers skip those instead of failing.
 */
export function isItemEventName(event: string): event is ItemEventName {
  return (ITEM_EVENT_NAMES as readonly string[]).includes(event);
}

/** A stored file of an item: where its bytes are, and how many there are. */
export interface StoredFileRef {
  /** Hex SHA-256 of the content: its address in the blob store. */
  blobSha256: string;
  size: number;
}

/** What delivery and its evidence need to know of an accepted item. */
export interface ItemFacts {
  ticket: string;
  token: string;
  sender: Sender;
  recipient: Recipient;
  document: DocumentDescription & StoredFileRef;
  annexes: (AnnexDescription & StoredFileRef)[];
  /** When the item was accepted (its receipt's time): the evidence's SubmissionTime. */
  acceptedAt: Date;
}

/** An outbox entry as claimed by one worker. */
export interface ClaimedItem extends ItemFacts {
  /** Failed attempts before this claim. */
  attempts: number;
  /** The claim's owner (the worker's id) and until when it holds the claim. */
  owner: string;
  leaseExpiresAt: Date;
}

/** What a publication that the e-Box accepted comes to: recorded all at once with its proof. */
export interface PublishedItem {
  ticket: string;
  /** The claim's owner: nothing is recorded unless it still holds the claim. */
  owner: string;
  eboxMessageId: string;
  /** When the e-Box accepted the message. */
  publishedAt: Date;
  /** The e-Box answered `NO_DIGITAL_USER` (a publication all the same). */
  noDigitalUser: boolean;
  /** The ProofOfDispatch (kind `DISPATCH`), already signed. */
  proof: StoredProof;
  /** When the outcome is recorded (the history rows' time). */
  recordedAt: Date;
}

/** A transient failure: the entry stays in the outbox, released, until `nextAttemptAt`. */
export interface DeferredItem {
  ticket: string;
  owner: string;
  nextAttemptAt: Date;
  /** Why (for operators; never document content). */
  reason: string;
  recordedAt: Date;
}

/** A permanent failure (or retries exhausted): the item becomes ERROR with the reason. */
export interface FailedItem {
  ticket: string;
  owner: string;
  reason: string;
  recordedAt: Date;
}

/** A SENT item whose consultation by the recipient has not been seen yet. */
export interface AwaitingConsultation extends ItemFacts {
  eboxMessageId: string;
  publishedAt: Date;
}

/** The recipient opened the message: recorded once, with the ContentHandover evidence. */
export interface ConsultedItem {
  ticket: string;
  /** When the recipient opened it, as the e-Box says. */
  readAt: Date;
  /** The consultation proof (kind `CONSULTATION`), already signed. */
  proof: StoredProof;
}

/** The outbox and what delivery records (implemented in `src/storage/typeorm-outbox-store.ts`). */
export interface OutboxStore {
  /**
   * Claims up to `limit` entries that are due (`nextAttemptAt <= now`) and not held by a live lease, in
   * acceptance order, for `owner` until `leaseExpiresAt`. Each claim is a compare-and-set: an entry
   * another worker claimed in the meantime is skipped.
   */
  claimDue(owner: string, now: Date, leaseExpiresAt: Date, limit: number): Promise<ClaimedItem[]>;

  /** Extends a claim still held by `owner`; false when it was lost. */
  renewLease(ticket: string, owner: string, leaseExpiresAt: Date): Promise<boolean>;

  /** Gives up a claim without an attempt (shutting down): the entry is due again at once. */
  releaseClaim(ticket: string, owner: string): Promise<void>;

  /**
   * In one transaction, only while `owner` holds the claim: the item becomes SENT, the publication (e-Box
   * message id, time, NO_DIGITAL_USER) and the proof are stored, history rows PUBLISHED (and
   * NO_DIGITAL_USER) are written, the entry leaves the outbox. False (nothing written) when the claim was
   * lost.
   */
  recordPublished(outcome: PublishedItem): Promise<boolean>;

  /** Counts a failed attempt and releases the claim until `nextAttemptAt`; false when the claim was lost. */
  recordDeferred(outcome: DeferredItem): Promise<boolean>;

  /** The item becomes ERROR with a PUBLICATION_FAILED history row; false when the claim was lost. */
  recordFailed(outcome: FailedItem): Promise<boolean>;

  /**
   * Up to `limit` SENT items whose consultation has not been seen yet, those checked longest ago (or
   * never) first, and marks them checked at `now` so that the next call (of any node) moves on.
   */
  listAwaitingConsultation(limit: number, now: Date): Promise<AwaitingConsultation[]>;

  /**
   * Records the consultation once (a CONSULTED history row at `readAt`, the proof); false when it was
   * already recorded (another poller was first).
   */
  recordConsulted(outcome: ConsultedItem): Promise<boolean>;

  /** The entries still waiting (for health and metrics): how many, and the oldest acceptance time. */
  depth(): Promise<{ count: number; oldestAcceptedAt: Date | undefined }>;
}
