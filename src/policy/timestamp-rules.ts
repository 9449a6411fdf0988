import type { Clock } from '../clock/clock';
import type { SecuritySettings } from '../config/config';
import { NotAuthenticatedError } from '../errors/faults';
import { WSU_NS } from '../wssecurity/namespaces';
import type { SecurityHeaderFacts, TimestampFacts, TimestampValueFacts } from '../wssecurity/security-facts';

/** The Timestamp the policy accepted, with its instants. */
export interface AcceptedTimestamp {
  facts: TimestampFacts;
  created: Date;
  expires: Date | undefined;
}

function refuse(reason: string): never {
  throw new NotAuthenticatedError(reason);
}

function utcInstant(value: TimestampValueFacts, name: string): Date {
  if (!value.textOnly) refuse(`Timestamp ${name} holds markup or comments`);
  if (value.timeZone !== 'utc') {
    refuse(`Timestamp ${name} '${value.raw.slice(0, 40)}' is not a UTC xs:dateTime ending in Z`);
  }
  if (value.date === undefined)
    refuse(`Timestamp ${name} '${value.raw.slice(0, 40)}' is not a valid xs:dateTime`);
  return value.date;
}

function describeChildren(timestamp: TimestampFacts): string {
  return timestamp.children
    .map((child) =>
      child.namespaceURI === WSU_NS
        ? `wsu:${child.localName}`
        : `{${child.namespaceURI ?? ''}}${child.localName}`,
    )
    .join(', ');
}

/**
 * The Timestamp rules of the v1 policy: the Security header holds exactly one `wsu:Timestamp`, made of
 * exactly one `wsu:Created` and at most one `wsu:Expires` after it (nothing else), both UTC; Created is
 * at most `clockSkewSeconds` in the future and at most `timestampMaxAgeSeconds` old; Expires, when
 * present, is after Created and not passed.
 * @throws NotAuthenticatedError (SOA-01001) with the precise reason
 */
export function checkTimestamp(
  header: SecurityHeaderFacts,
  clock: Clock,
  settings: SecuritySettings,
): AcceptedTimestamp {
  if (header.timestamps.length !== 1) {
    refuse(`the Security header holds ${header.timestamps.length} Timestamps, exactly one is required`);
  }
  const timestamp = header.timestamps[0];
  const names = timestamp.children.map((child) =>
    child.namespaceURI === WSU_NS ? child.localName : undefined,
  );
  const wellFormed =
    (names.length === 1 && names[0] === 'Created') ||
    (names.length === 2 && names[0] === 'Created' && names[1] === 'Expires');
  if (!wellFormed || timestamp.hasText) {
    refuse(
      `the Timestamp must hold one Created and at most one Expires, holds: ${describeChildren(timestamp) || 'nothing'}`,
    );
  }

  const created = utcInstant(timestamp.created[0], 'Created');
  const expires = timestamp.expires.length === 1 ? utcInstant(timestamp.expires[0], 'Expires') : undefined;
  const now = clock.now().getTime();
  if (created.getTime() > now + settings.clockSkewSeconds * 1000) {
    refuse(
      `Timestamp Created ${created.toISOString()} is more than ${settings.clockSkewSeconds} s in the future`,
    );
  }
  if (created.getTime() < now - settings.timestampMaxAgeSeconds * 1000) {
    refuse(`Timestamp Created ${created.toISOString()} is older than ${settings.timestampMaxAgeSeconds} s`);
  }
  if (expires !== undefined) {
    if (expires.getTime() <= created.getTime()) refuse('Timestamp Expires is not after Created');
    if (now > expires.getTime()) refuse(`Timestamp expired at ${expires.toISOString()}`);
  }
  return { facts: timestamp, created, expires };
}
