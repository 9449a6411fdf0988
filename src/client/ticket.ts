import { ClientUsageError } from './client-errors';

/** A ticket as the contract writes it (`types:Ticket`): 13 of the digits and capitals but I and O. */
const TICKET = /^[0-9A-HJ-NP-Z]{13}$/;

/**
 * Refuses a malformed ticket before anything is sent (the service would answer SOA-03006).
 * @throws ClientUsageError
 */
export function checkTicket(ticket: string): void {
  if (!TICKET.test(ticket)) {
    throw new ClientUsageError(`${ticket}: not a ticket (13 characters, digits and capitals except I and O)`);
  }
}
