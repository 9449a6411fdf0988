const BASE64 = /^(?:[A-Za-z0-9+/]{4})*(?:[A-Za-z0-9+/]{2}==|[A-Za-z0-9+/]{3}=)?$/;

/**
 * Decodes xs:base64Binary strictly: whitespace between characters is allowed (as in line-wrapped
 * values), anything outside the alphabet or a misplaced padding is refused. Node's own decoder skips
 * invalid characters silently, which would let two different texts stand for the same bytes.
 * @returns the bytes, or undefined when the text is not base64
 */
export function decodeBase64(text: string): Buffer | undefined {
  const compact = text.replace(/[ \t\r\n]+/g, '');
  if (!BASE64.test(compact)) return undefined;
  return Buffer.from(compact, 'base64');
}
