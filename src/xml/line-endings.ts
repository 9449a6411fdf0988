const CARRIAGE_RETURNS = /\r\n?/g;

/**
 * End-of-line handling of XML 1.0 (section 2.11): CR LF and a lone CR become LF, nothing else changes.
 * Meant as xmldom's `normalizeLineEndings` option: xmldom's default also turns NEL (U+0085) and LINE
 * SEPARATOR (U+2028) into LF, as XML 1.1 does, so a text holding them would canonicalize differently from
 * what an XML 1.0 signer (WSS4J, xmlsec1) digested, and its signature would not verify.
 */
export function normalizeXml10LineEndings(text: string): string {
  return text.includes('\r') ? text.replace(CARRIAGE_RETURNS, '\n') : text;
}
