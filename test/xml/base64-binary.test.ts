import { decodeBase64Binary } from '../../src/xml/base64-binary';

/*
 * The strict xs:base64Binary reading: it completes libxml2's validation of inline Content and reads
 * WS-Security's tokens, digests and signature values.
 */

describe('decodeBase64Binary', () => {
  it.each([
    ['no padding', 'QUJD', 'ABC'],
    ['one =', 'QUI=', 'AB'],
    ['two =', 'QQ==', 'A'],
    ['the empty text', '', ''],
    ['line breaks and spaces between characters', ' QU\r\nJD\tQU\n  I= ', 'ABCAB'],
    ['a space between the two =', 'QQ= =', 'A'],
    ['a line-wrapped value ending in a line break', 'AAEC\r\nAwQ=\n', '\u0000\u0001\u0002\u0003\u0004'],
    ['+ and /', '+/+/', Buffer.from('fbffbf', 'hex').toString('latin1')],
  ])('reads %s', (_name, text, expected) => {
    expect(decodeBase64Binary(text)?.toString('latin1')).toBe(expected);
  });

  it.each([
    ['a character outside the alphabet', 'QU!D'],
    ['URL-safe base64', 'QU-_'],
    ['a length that is not a multiple of four', 'QUJDQ'],
    ['missing padding', 'QQ'],
    ['padding in the middle', 'QQ==QUJD'],
    ['three =', 'Q==='],
    ['nothing but padding', '===='],
    ['non-zero bits before = (not in the lexical space)', 'QUJ='],
    ['non-zero bits before ==', 'QR=='],
    ['a non-breaking space (not XML whitespace)', 'QUJD\u00a0'],
    ['a cid: URL', 'cid:document@example'],
    ['= inside a group', 'AA=E'],
    ['a character outside the alphabet after a space', 'AA E*'],
    ['at signs', '@@@@'],
  ])('refuses %s', (_name, text) => {
    expect(decodeBase64Binary(text)).toBeUndefined();
  });

  it('decodes a large text to the same bytes as Node does', () => {
    const bytes = Buffer.alloc(3 * 1024 * 1024 + 1, 0x5a);
    const text = bytes.toString('base64').replace(/.{76}/g, '$&\r\n');
    expect(decodeBase64Binary(text)?.equals(bytes)).toBe(true);
  });
});
