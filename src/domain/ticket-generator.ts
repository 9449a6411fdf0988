import type { Clock } from '../clock/clock';
import { pooledRandomBytes } from '../random/random-bytes-pool';

/** The ticket alphabet: digits and capitals without I and O (34 symbols), as the contract's pattern. */
export const TICKET_ALPHABET = '0123456789ABCDEFGHJKLMNPQRSTUVWXYZ';

/** Length of a ticket. */
export const TICKET_LENGTH = 13;

/** The contract's `Ticket` pattern. */
export const TICKET_PATTERN = /^[0-9A-HJ-NP-Z]{13}$/;

/** Makes a new candidate ticket; uniqueness is the database's job (the ticket is the primary key). */
export type TicketGenerator = () => string;

/** Symbols of a time-ordered ticket that state its time; the rest are random. */
export const TICKET_TIME_SYMBOLS = 8;

/** The instant the time symbols count milliseconds from (2025-01-01T00:00:00Z). */
export const TICKET_EPOCH_MS = Date.UTC(2025, 0, 1);

/** 34^8 milliseconds, about 56.7 years: the time symbols start again from zero in 2081. */
const TIME_MODULUS = TICKET_ALPHABET.length ** TICKET_TIME_SYMBOLS;

/** The largest multiple of 34 that fits in a byte: bytes at or above it are rejected, so no bias. */
const UNBIASED_LIMIT = 256 - (256 % TICKET_ALPHABET.length);

/** `length` symbols drawn uniformly from {@link TICKET_ALPHABET} with crypto randomness (rejection sampling). */
function randomSymbols(length: number): string {
  let symbols = '';
  while (symbols.length < length) {
    for (const byte of pooledRandomBytes(length)) {
      if (byte >= UNBIASED_LIMIT) continue;
      symbols += TICKET_ALPHABET[byte % TICKET_ALPHABET.length];
      if (symbols.length === length) break;
    }
  }
  return symbols;
}

/** The {@link TICKET_TIME_SYMBOLS} symbols of an instant: milliseconds since {@link TICKET_EPOCH_MS}, base 34. */
export function ticketTimeSymbols(at: Date): string {
  let value = (((at.getTime() - TICKET_EPOCH_MS) % TIME_MODULUS) + TIME_MODULUS) % TIME_MODULUS;
  let symbols = '';
  for (let i = 0; i < TICKET_TIME_SYMBOLS; i += 1) {
    symbols = TICKET_ALPHABET[value % TICKET_ALPHABET.length] + symbols;
    value = Math.floor(value / TICKET_ALPHABET.length);
  }
  return symbols;
}

/**
 * Time-ordered tickets, as ULIDs are: the acceptance time in the first {@link TICKET_TIME_SYMBOLS}
 * symbols (milliseconds, base 34 in alphabet order, so that tickets sort by time), then 5 random symbols
 * (about 25 bits: tickets of the same millisecond, on any node, rarely meet, and a collision is retried).
 * Every index keyed by ticket (the item, its files, history, receipt and outbox entry) then grows at its
 * end instead of at a random page: a group of accepts writes about a quarter fewer database pages, and a
 * large database needs its recent pages only. A ticket is no secret: another sender's ticket reveals
 * nothing (REPO_B01), and its time is the acceptance time the receipt states.
 * @param clock gives the time of each ticket
 */
export function timeOrderedTickets(clock: Clock): TicketGenerator {
  return () => ticketTimeSymbols(clock.now()) + randomSymbols(TICKET_LENGTH - TICKET_TIME_SYMBOLS);
}
