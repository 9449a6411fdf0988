import { randomBytes } from 'node:crypto';

/** The ticket alphabet: digits and capitals without I and O (34 symbols), as the contract's pattern. */
export const TICKET_ALPHABET = '0123456789ABCDEFGHJKLMNPQRSTUVWXYZ';

/** Length of a ticket. */
export const TICKET_LENGTH = 13;

/** The contract's `Ticket` pattern. */
export const TICKET_PATTERN = /^[0-9A-HJ-NP-Z]{13}$/;

/** Makes a new candidate ticket; uniqueness is the database's job (the ticket is the primary key). */
export type TicketGenerator = () => string;

/** The largest multiple of 34 that fits in a byte: bytes at or above it are rejected, so no bias. */
const UNBIASED_LIMIT = 256 - (256 % TICKET_ALPHABET.length);

/**
 * A random ticket: 13 symbols drawn uniformly from {@link TICKET_ALPHABET} with crypto randomness
 * (rejection sampling, about 66 bits). Collisions are not prevented here: an insert that hits an
 * existing ticket is retried with a new one (see `SendDocumentService`).
 */
export const generateTicket: TicketGenerator = () => {
  let ticket = '';
  while (ticket.length < TICKET_LENGTH) {
    for (const byte of randomBytes(TICKET_LENGTH)) {
      if (byte >= UNBIASED_LIMIT) continue;
      ticket += TICKET_ALPHABET[byte % TICKET_ALPHABET.length];
      if (ticket.length === TICKET_LENGTH) break;
    }
  }
  return ticket;
};
