import { EboxNotActivatedError, EboxNotPreferredError, TemporarilyUnavailableError } from '../errors/faults';
import { ServiceError } from '../errors/service-error';
import { normaliseCbe } from './identifiers/cbe';
import type { CheckEboxStatus, Recipient } from './model';

/** What the e-Box says about one recipient's e-Box. */
export interface RecipientEboxProfile {
  /** The recipient has an e-Box. */
  exists: boolean;
  /** The recipient activated it. */
  activated: boolean;
  /** The e-Box is the recipient's preferred channel. */
  preferred: boolean;
}

/** The recipient as the e-Box knows it (the CBE in its 10-digit form). */
export type EboxLookupRecipient = { kind: 'citizen'; inss: string } | { kind: 'enterprise'; cbe: string };

/**
 * Port: looks up a recipient's e-Box profile. A failure to answer is thrown; a {@link ServiceError}
 * passes to the client as it is, anything else counts as the profile service being unavailable.
 */
export interface RecipientEboxProfiles {
  lookup(recipient: EboxLookupRecipient): Promise<RecipientEboxProfile>;
}

/**
 * Checks CheckEboxStatus against the recipient's profile: BYPASS looks nothing up; ACTIVATED needs an
 * existing, activated e-Box (EBOX_B01); PREFERRED also needs it to be the preferred channel (EBOX_B02).
 * Callers run it before reading the attachments, so a refusal stores nothing.
 *
 * When the lookup fails the item cannot be judged, so the request is refused with SOA-02002 (Retry
 * true) rather than accepted unchecked: the sender asked for the check, and a retry will make it.
 */
export async function assertEboxStatus(
  check: CheckEboxStatus,
  recipient: Recipient,
  profiles: RecipientEboxProfiles,
): Promise<void> {
  if (check === 'BYPASS') return;
  const target: EboxLookupRecipient =
    recipient.kind === 'citizen'
      ? { kind: 'citizen', inss: recipient.inss }
      : { kind: 'enterprise', cbe: normaliseCbe(recipient.cbe) };
  let profile: RecipientEboxProfile;
  try {
    profile = await profiles.lookup(target);
  } catch (error) {
    if (error instanceof ServiceError) throw error;
    throw new TemporarilyUnavailableError({ cause: error });
  }
  if (!profile.exists || !profile.activated) throw new EboxNotActivatedError();
  if (check === 'PREFERRED' && !profile.preferred) throw new EboxNotPreferredError();
}
