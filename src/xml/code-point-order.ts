/**
 * Compares two strings by Unicode code point without allocating, as C14N orders namespace declarations
 * and attributes: UTF-16 code units compare in code point order except that surrogates (U+10000 and
 * above) must sort after U+E000–U+FFFF; the usual fix-up moves them there.
 */
export function compareByCodePoint(left: string, right: string): number {
  if (left === right) return 0;
  const length = Math.min(left.length, right.length);
  for (let i = 0; i < length; i += 1) {
    let a = left.charCodeAt(i);
    let b = right.charCodeAt(i);
    if (a === b) continue;
    if (a >= 0xd800 && b >= 0xd800) {
      a += a >= 0xe000 ? -0x800 : 0x2000;
      b += b >= 0xe000 ? -0x800 : 0x2000;
    }
    return a - b;
  }
  return left.length - right.length;
}
