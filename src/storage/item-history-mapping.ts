import type { ItemEvent } from '../domain/model';
import { DELIVERY_EVENTS, isItemEventName } from '../domain/outbox';
import { RepositoryError } from '../errors/faults';
import type { ItemPublicationEntity, ItemStatusHistoryEntity } from './entities';

/*
 * Status history rows back to the domain's events. The `event` column is free text so that a later
 * version can add events without a migration; this version leaves out the rows it does not know rather
 * than failing (or answering a name its own contract does not allow), so a database shared during a
 * rolling upgrade never breaks GetStatus.
 */

/** The events that name the e-Box message: the item was published (NO_DIGITAL_USER is a publication). */
const EVENTS_WITH_MESSAGE_ID: ReadonlySet<string> = new Set([
  DELIVERY_EVENTS.published,
  DELIVERY_EVENTS.noDigitalUser,
]);

/**
 * The events of one item from its history rows (already in order) and its publication, if any. A
 * PUBLISHED row without a publication is an inconsistent database (both are written in one
 * transaction): REPO_T01.
 */
export function historyOf(
  ticket: string,
  rows: readonly ItemStatusHistoryEntity[],
  publication: Pick<ItemPublicationEntity, 'eboxMessageId'> | undefined,
): ItemEvent[] {
  const events: ItemEvent[] = [];
  for (const row of rows) {
    if (!isItemEventName(row.event)) continue;
    const event: ItemEvent = { name: row.event, time: row.occurredAt, status: row.status };
    if (EVENTS_WITH_MESSAGE_ID.has(row.event)) {
      if (!publication) {
        throw new RepositoryError({
          cause: new Error(`Item ${ticket} has a ${row.event} event without a publication`),
        });
      }
      event.eboxMessageId = publication.eboxMessageId;
    }
    if (row.detail !== null) event.detail = row.detail;
    events.push(event);
  }
  return events;
}
