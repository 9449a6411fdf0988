import { ManualClock } from '../../src/clock/clock';
import {
  TICKET_ALPHABET,
  TICKET_EPOCH_MS,
  TICKET_PATTERN,
  TICKET_TIME_SYMBOLS,
  ticketTimeSymbols,
  timeOrderedTickets,
} from '../../src/domain/ticket-generator';

describe('ticket generator', () => {
  it('uses the 34 symbols of the contract: digits and capitals without I and O, in ASCII order', () => {
    expect(TICKET_ALPHABET).toHaveLength(34);
    expect(TICKET_ALPHABET).not.toMatch(/[IO]/);
    expect(new Set(TICKET_ALPHABET).size).toBe(34);
    expect([...TICKET_ALPHABET].sort().join('')).toBe(TICKET_ALPHABET);
  });

  it('makes 13-character tickets that match the contract pattern', () => {
    const next = timeOrderedTickets(new ManualClock('2026-11-29T12:00:00Z'));
    for (let i = 0; i < 1000; i += 1) expect(next()).toMatch(TICKET_PATTERN);
  });

  it('starts each ticket with its time in milliseconds since 2025, base 34, so tickets sort by time', () => {
    expect(ticketTimeSymbols(new Date(TICKET_EPOCH_MS))).toBe('00000000');
    expect(ticketTimeSymbols(new Date(TICKET_EPOCH_MS + 35))).toBe('00000011');
    expect(ticketTimeSymbols(new Date(TICKET_EPOCH_MS + 34 ** 8 - 1))).toBe('ZZZZZZZZ');
    // After about 56.7 years the time symbols start again (order is lost once; uniqueness never relied on it).
    expect(ticketTimeSymbols(new Date(TICKET_EPOCH_MS + 34 ** 8))).toBe('00000000');
    const clock = new ManualClock('2026-11-29T12:00:00.000Z');
    const next = timeOrderedTickets(clock);
    const tickets: string[] = [];
    for (let i = 0; i < 200; i += 1) {
      tickets.push(next());
      clock.advance(1);
    }
    expect([...tickets].sort()).toEqual(tickets);
    expect(tickets[0].slice(0, TICKET_TIME_SYMBOLS)).toBe(
      ticketTimeSymbols(new Date('2026-11-29T12:00:00Z')),
    );
  });

  it('draws the other symbols at random: every symbol at every random position', () => {
    const next = timeOrderedTickets(new ManualClock('2026-11-29T12:00:00Z'));
    // 5000 tickets of one millisecond: about 25 random bits make a repeat among them possible (a
    // collision is retried by the service), among the few of a real millisecond unlikely.
    const tickets = Array.from({ length: 5000 }, () => next());
    expect(new Set(tickets).size).toBeGreaterThan(4990);
    for (let position = TICKET_TIME_SYMBOLS; position < 13; position += 1) {
      const seen = new Set(tickets.map((ticket) => ticket[position]));
      expect(seen.size).toBe(34);
    }
  });

  it('the pattern refuses I, O, lowercase and other lengths', () => {
    for (const bad of ['ABCDEFGHI2345', 'ABCDEFGHO2345', 'abcdefgh23456', 'ABCDEFGH2345', 'ABCDEFGH234567']) {
      expect(bad).not.toMatch(TICKET_PATTERN);
    }
  });
});
