/*
 * The one strict reading of xs:base64Binary, for every base64 value the service reads from XML: inline
 * Content, and WS-Security's BinarySecurityToken, KeyIdentifier, DigestValue and SignatureValue. Node's
 * base64 decoder skips any character it does not know, and libxml2's schema validation lets through
 * text outside the type's lexical space, so bytes would be taken from garbage; and a decoder that allowed
 * non-zero unused bits would let two different texts stand for the same bytes. A value that does not
 * decode exactly is refused instead.
 */

/** XML whitespace (XSD `collapse`): the only characters allowed between the base64 characters. */
const XML_WHITESPACE = /[ \t\r\n]+/g;
const BASE64_WITH_PADDING = /^[A-Za-z0-9+/]*(={0,2})$/;
/** Before `=`: the last character carries 2 significant bits, the 4 others must be zero (XSD B16). */
const BEFORE_ONE_PAD = 'AEIMQUYcgkosw048';
/** Before `==`: the last character carries 4 significant bits, the 2 others must be zero (XSD B04). */
const BEFORE_TWO_PADS = 'AQgw';

/**
 * The bytes of an xs:base64Binary text (XML Schema 1.0 Part 2, 3.2.16): the base64 alphabet in groups
 * of four, `=` padding only at the end and only as much as the length calls for, unused bits zero,
 * XML whitespace anywhere. Undefined when the text is not in that lexical space.
 */
export function decodeBase64Binary(text: string): Buffer | undefined {
  const compact = text.replace(XML_WHITESPACE, '');
  if (compact.length % 4 !== 0) return undefined;
  const match = BASE64_WITH_PADDING.exec(compact);
  if (!match) return undefined;
  const padding = match[1].length;
  if (padding > 0) {
    const last = compact[compact.length - padding - 1];
    const allowed = padding === 1 ? BEFORE_ONE_PAD : BEFORE_TWO_PADS;
    if (last === undefined || !allowed.includes(last)) return undefined;
  }
  return Buffer.from(compact, 'base64');
}
