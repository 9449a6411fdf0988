import { compareByCodePoint } from '../../src/xml/code-point-order';

/** The order by Unicode code point, spelled out: each string as its code points, compared one by one. */
function byCodePoints(left: string, right: string): number {
  const a = Array.from(left, (character) => character.codePointAt(0) as number);
  const b = Array.from(right, (character) => character.codePointAt(0) as number);
  for (let i = 0; i < Math.min(a.length, b.length); i += 1) if (a[i] !== b[i]) return a[i] - b[i];
  return a.length - b.length;
}

describe('compareByCodePoint', () => {
  test('orders as the code points do, astral characters after U+E000-U+FFFF (unlike UTF-16 units)', () => {
    const strings = ['', 'a', 'ab', 'B', 'S', 'ds', 'é', '\uE000', '\uFFFD', '𝄞', '𝄞a', 'a𝄞', 'a\uFFFF', 'ä'];
    for (const left of strings) {
      for (const right of strings) {
        expect([left, right, Math.sign(compareByCodePoint(left, right))]).toEqual([
          left,
          right,
          Math.sign(byCodePoints(left, right)),
        ]);
      }
    }
    // Where UTF-16 code units disagree with code points: U+1D11E against U+FFFD.
    expect('𝄞' < '\uFFFD').toBe(true);
    expect(compareByCodePoint('𝄞', '\uFFFD')).toBeGreaterThan(0);
  });
});
