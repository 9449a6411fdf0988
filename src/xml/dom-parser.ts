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

/** What xmldom warns of, once per document, when the text holds U+FFFD. */
const REPLACEMENT_CHARACTER_WARNING = 'Unicode replacement character detected';

/**
 * xmldom's DOMParser with `options`, reading documents as XML 1.0 ends their lines. Every parser of the
 * service, its client and its proof checker is made here, so none reads XML 1.1's line endings.
 *
 * `onError` never hears xmldom's warning of U+FFFD in the text ("source encoding issues?"): U+FFFD is an
 * XML character like any other, and the text given is already decoded (the service decodes envelopes
 * as strict UTF-8), so it stands for no bytes that failed to decode. A parser that refuses every warning
 * would otherwise refuse a well-formed document for holding it.
 */
export function createDomParser(options: Omit<DOMParserOptions, 'normalizeLineEndings'> = {}): DOMParser {
  const { onError } = options;
  return new DOMParser({
    ...options,
    normalizeLineEndings: normalizeXml10LineEndings,
    ...(onError && {
      onError: (level, message, context) => {
        if (level === 'warning' && String(message).startsWith(REPLACEMENT_CHARACTER_WARNING)) return;
        onError(level, message, context);
      },
    }),
  });
}
