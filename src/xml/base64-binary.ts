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

/**
 * The bytes of an xs:base64Binary text (XML Schema 1.0 Part 2, 3.2.16): the base64 alphabet in groups
 * of four, `=` padding only at the end and only as much as the length calls for, unused bits zero,
 * XML whitespace anywhere. Undefined when the text is not in that lexical space.
 */
export function decodeBase64Binary(text: string): Buffer | undefined {
  const compact = text.replace(XML_WHITESPACE, '');
  if (compact.length % 4 !== 0) return undefined;
  const bytes = Buffer.from(compact, 'base64');
  // Without its whitespace, a text of the lexical space is the one canonical encoding of its bytes, and
  // any other text is not: Node's decoder skips what it does not know, takes the URL-safe alphabet and
  // ignores unused bits, so the text is compared with the encoding of what it decoded to (simdutf both
  // ways: a fraction of what a regular expression over the text costs).
  return bytes.toString('base64') === compact ? bytes : undefined;
}
