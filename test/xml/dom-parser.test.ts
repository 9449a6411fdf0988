import { createDomParser } from '../../src/xml/dom-parser';

describe('createDomParser', () => {
  function heard(xml: string): string[] {
    const messages: string[] = [];
    try {
      createDomParser({
        onError: (level, message) => {
          messages.push(`${level}: ${String(message)}`);
        },
      }).parseFromString(xml, 'text/xml');
    } catch {
      // xmldom throws after a fatal error; what onError heard is the point here.
    }
    return messages;
  }

  it('keeps U+FFFD as a character and does not pass on xmldom warning of it', () => {
    expect(heard('<a b="\uFFFD">\uFFFD</a>')).toEqual([]);
    const document = createDomParser().parseFromString('<a>x\uFFFDy</a>', 'text/xml');
    expect(document.documentElement?.textContent).toBe('x\uFFFDy');
  });

  it('passes on every other complaint', () => {
    expect(heard('<a><b></a>')).toEqual([expect.stringMatching(/^fatalError: /)]);
  });
});
