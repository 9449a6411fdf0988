import type { ItemStatus } from '../domain/model';
import { childElements, optionalText, requiredText } from '../xml/element-reader';
import type { ClientContext } from './client-context';
import { appendServiceElement, createRequestEnvelope } from './request-envelope';
import { SERVICE_NAMESPACE } from './service-endpoint';
import { exchange, readPayload } from './soap-exchange';
import { checkTicket } from './ticket';

/** One event of an item's history, as answered. */
export interface StatusEvent {
  /** ACCEPTED, PUBLISHED, NO_DIGITAL_USER, PUBLICATION_FAILED, CONSULTED. */
  name: string;
  /** xs:dateTime in UTC, as answered. */
  time: string;
  /** The item's status after the event. */
  status: ItemStatus;
  eboxMessageId?: string;
  detail?: string;
}

/** GetStatus's answer: the current status and the whole history, oldest first. */
export interface ItemStatusResult {
  ticket: string;
  token: string;
  status: ItemStatus;
  events: StatusEvent[];
}

/**
 * GetStatus: the status and history of an item this sender sent (through either port).
 * @throws ClientUsageError for a malformed ticket; ServiceFaultError (REPO_B01 for an unknown ticket or
 *   another sender's), ClientError, UntrustedAnswerError (see `exchange`)
 */
export async function getStatus(context: ClientContext, ticket: string): Promise<ItemStatusResult> {
  checkTicket(ticket);
  const { document, payload } = createRequestEnvelope('GetStatusRequest');
  appendServiceElement(payload, 'Ticket', ticket);
  const answer = await exchange(context, { operation: 'GetStatus', envelope: document });
  return readPayload(answer, (element) => ({
    ticket: requiredText(element, SERVICE_NAMESPACE, 'Ticket').trim(),
    token: requiredText(element, SERVICE_NAMESPACE, 'Token'),
    status: requiredText(element, SERVICE_NAMESPACE, 'Status').trim() as ItemStatus,
    events: childElements(element, SERVICE_NAMESPACE, 'Event').map((event) => {
      const read: StatusEvent = {
        name: requiredText(event, SERVICE_NAMESPACE, 'Name').trim(),
        time: requiredText(event, SERVICE_NAMESPACE, 'Time').trim(),
        status: requiredText(event, SERVICE_NAMESPACE, 'Status').trim() as ItemStatus,
      };
      const eboxMessageId = optionalText(event, SERVICE_NAMESPACE, 'EboxMessageId');
      if (eboxMessageId !== undefined) read.eboxMessageId = eboxMessageId;
      const detail = optionalText(event, SERVICE_NAMESPACE, 'Detail');
      if (detail !== undefined) read.detail = detail;
      return read;
    }),
  }));
}
