import { createHash } from 'node:crypto';
import { NotAuthenticatedError } from '../errors/faults';

/** What the replay check remembers of an accepted message, and until when. */
export interface ReplayEntry {
  /** {@link replayKey} of the message: hex SHA-256, 64 characters. */
  key: string;
  /** After this instant the entry no longer counts (the policy refuses the message by its Timestamp anyway). */
  expiresAt: Date;
}

/**
 * Remembers the messages the policy accepted, so that the same message is accepted once only.
 * Implemented by `src/storage/typeorm-replay-store.ts` (shared by every process on one database).
 */
export interface ReplayGuard {
  /**
   * Records `entry` unless an unexpired entry with the same key exists. Atomic: of two callers racing with
   * one key (in one process or on two nodes), exactly one gets `true`.
   * @returns `true` when the message is seen for the first time, `false` when it is a replay
   * @throws ServiceError when the record cannot be written (an unavailable database is SOA-02002)
   */
  recordFirstSighting(entry: ReplayEntry): Promise<boolean>;
}

/**
 * The identity of a message for the replay check: SHA-256 over its Timestamp Created (as an instant,
 * ISO-8601 UTC with milliseconds) and its SignatureValue bytes. Both are signed, so a replay cannot
 * change either without breaking the signature; RSA PKCS#1 v1.5 signatures are deterministic, so a
 * message signed anew has a new SignatureValue only with a new Timestamp.
 */
export function replayKey(created: Date, signatureValue: Buffer): string {
  return createHash('sha256')
    .update(created.toISOString(), 'latin1')
    .update('\n', 'latin1')
    .update(signatureValue)
    .digest('hex');
}

/**
 * The replay rule of the policy: records the accepted message and refuses it when it was already seen.
 * @throws NotAuthenticatedError (SOA-01001, reason "replayed: ...") for a message seen before
 */
export async function refuseReplay(
  guard: ReplayGuard,
  message: { created: Date; signatureValue: Buffer; acceptableUntil: Date },
): Promise<void> {
  const key = replayKey(message.created, message.signatureValue);
  const firstSighting = await guard.recordFirstSighting({ key, expiresAt: message.acceptableUntil });
  if (!firstSighting) {
    throw new NotAuthenticatedError(
      `replayed: a message with Timestamp Created ${message.created.toISOString()} and this SignatureValue was already accepted`,
    );
  }
}
