import { generateTicket, TICKET_ALPHABET, TICKET_PATTERN } from '../../src/domain/ticket-generator';

describe('ticket generator', () => {
  it('uses the 34 symbols of the contract: digits and capitals without I and O', () => {
    expect(TICKET_ALPHABET).toHaveLength(34);
    expect(TICKET_ALPHABET).not.toMatch(/[IO]/);
    expect(new Set(TICKET_ALPHABET).size).toBe(34);
  });

  it('makes 13-character tickets that match the contract pattern', () => {
    for (let i = 0; i < 1000; i += 1) expect(generateTicket()).toMatch(TICKET_PATTERN);
  });

  it('uses every symbol of the alphabet at every position, and does not repeat tickets', () => {
    const tickets = Array.from({ length: 5000 }, () => generateTicket());
    expect(new Set(tickets).size).toBe(tickets.length);
    for (let position = 0; position < 13; position += 1) {
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
