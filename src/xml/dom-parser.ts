import { DOMParser, type DOMParserOptions } from '@xmldom/xmldom';

const CARRIAGE_RETURNS = /\r\n?/g;

/**
 * End-of-line handling of XML 1.0 (section 2.11): CR LF and a lone CR become LF, nothing else changes.
 * xmldom's default also turns NEL (U+0085) and LINE SEPARATOR (U+2028) into LF, as XML 1.1 does, so a
 * text holding them would canonicalize differently from what an XML 1.0 signer (WSS4J, xmlsec1) digested,
 * and its signature would not verify.
 */
function normalizeXml10LineEndings(text: string): string {
  return text.includes('\r') ? text.replace(CARRIAGE_RETURNS, '\n') : text;
}

/**
 * xmldom's DOMParser with `options`, reading documents as XML 1.0 ends their lines. Every parser of the
 * service, its client and its proof checker is made here, so none reads XML 1.1's line endings.
 */
export function createDomParser(options: Omit<DOMParserOptions, 'normalizeLineEndings'> = {}): DOMParser {
  return new DOMParser({ ...options, normalizeLineEndings: normalizeXml10LineEndings });
}
