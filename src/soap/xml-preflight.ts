import { MalformedMessageError } from '../errors/faults';

/** Attributes allowed in a whole envelope when {@link XmlPreflightLimits.maxAttributes} is omitted. */
export const DEFAULT_MAX_XML_ATTRIBUTES = 20_000;
/** Attributes allowed on one element when {@link XmlPreflightLimits.maxAttributesPerElement} is omitted. */
export const DEFAULT_MAX_XML_ATTRIBUTES_PER_ELEMENT = 50;

/** Limits checked on the raw envelope bytes before any DOM is built. */
export interface XmlPreflightLimits {
  maxDepth: number;
  maxElements: number;
  /** Attributes in the document, namespace declarations included; default {@link DEFAULT_MAX_XML_ATTRIBUTES}. */
  maxAttributes?: number;
  /**
   * Attributes of one start tag, namespace declarations included; default
   * {@link DEFAULT_MAX_XML_ATTRIBUTES_PER_ELEMENT}.
   */
  maxAttributesPerElement?: number;
}

const LT = 0x3c; // <
const GT = 0x3e; // >
const SLASH = 0x2f;
const QUESTION = 0x3f;
const BANG = 0x21;
const DQUOTE = 0x22;
const SQUOTE = 0x27;
const EQUALS = 0x3d;

function startsWith(bytes: Buffer, at: number, text: string): boolean {
  return bytes.toString('latin1', at, at + text.length) === text;
}

function skipPast(bytes: Buffer, from: number, terminator: string): number {
  const end = bytes.indexOf(terminator, from, 'latin1');
  if (end < 0) throw new MalformedMessageError('unterminated markup');
  return end + terminator.length;
}

/**
 * A linear scan of the envelope bytes that refuses, before the DOM parser allocates anything, what the
 * service never accepts: a DOCTYPE (and so any entity declaration), processing instructions other than
 * the XML declaration, and documents deeper or larger than the limits. It only recognises markup
 * boundaries; well-formedness is the parser's job afterwards. A `<` outside comments, CDATA and
 * processing instructions always starts a tag (XML forbids it in attribute values), and `>` inside a tag
 * only matters outside quotes. Attributes are counted as the `=` of a start tag outside quoted values:
 * every attribute (namespace declarations included) has exactly one, and names cannot contain one.
 * Bounding them bounds the parser's work per element (its duplicate-attribute check is quadratic).
 */
export function preflightXml(bytes: Buffer, limits: XmlPreflightLimits): void {
  const maxAttributes = limits.maxAttributes ?? DEFAULT_MAX_XML_ATTRIBUTES;
  const maxAttributesPerElement = limits.maxAttributesPerElement ?? DEFAULT_MAX_XML_ATTRIBUTES_PER_ELEMENT;
  let depth = 0;
  let elements = 0;
  let attributes = 0;
  let at = bytes.indexOf(LT);
  while (at >= 0 && at < bytes.length) {
    const next = bytes[at + 1];
    if (next === QUESTION) {
      if (!(at === firstMarkup(bytes) && startsWith(bytes, at, '<?xml') && isSpace(bytes[at + 5]))) {
        throw new MalformedMessageError('processing instructions are not allowed');
      }
      at = skipPast(bytes, at, '?>');
    } else if (next === BANG) {
      if (startsWith(bytes, at, '<!--')) at = skipPast(bytes, at + 4, '-->');
      else if (startsWith(bytes, at, '<![CDATA[')) at = skipPast(bytes, at + 9, ']]>');
      else throw new MalformedMessageError('DOCTYPE and entity declarations are not allowed');
    } else if (next === SLASH) {
      depth -= 1;
      at = skipPast(bytes, at, '>');
    } else {
      const { end, attributeCount } = scanStartTag(bytes, at + 1, maxAttributesPerElement);
      if (bytes[end - 1] !== SLASH) depth += 1;
      elements += 1;
      attributes += attributeCount;
      if (depth > limits.maxDepth) {
        throw new MalformedMessageError(`element nesting deeper than the limit of ${limits.maxDepth}`);
      }
      if (elements > limits.maxElements) {
        throw new MalformedMessageError(`more elements than the limit of ${limits.maxElements}`);
      }
      if (attributes > maxAttributes) {
        throw new MalformedMessageError(`more attributes than the limit of ${maxAttributes}`);
      }
      at = end + 1;
    }
    at = bytes.indexOf(LT, at);
  }
}

function isSpace(byte: number | undefined): boolean {
  return byte === 0x20 || byte === 0x09 || byte === 0x0a || byte === 0x0d;
}

function firstMarkup(bytes: Buffer): number {
  // A UTF-8 byte order mark may precede the XML declaration.
  return bytes[0] === 0xef && bytes[1] === 0xbb && bytes[2] === 0xbf ? 3 : 0;
}

/**
 * The index of the `>` that closes the start tag beginning at `from`, skipping quoted attribute values,
 * and the tag's attribute count (its `=` outside quotes), refused as soon as it passes `maxAttributes`.
 */
function scanStartTag(
  bytes: Buffer,
  from: number,
  maxAttributes: number,
): { end: number; attributeCount: number } {
  let quote = 0;
  let attributeCount = 0;
  for (let i = from; i < bytes.length; i += 1) {
    const byte = bytes[i];
    if (quote !== 0) {
      if (byte === quote) quote = 0;
    } else if (byte === DQUOTE || byte === SQUOTE) {
      quote = byte;
    } else if (byte === EQUALS) {
      attributeCount += 1;
      if (attributeCount > maxAttributes) {
        throw new MalformedMessageError(`an element has more attributes than the limit of ${maxAttributes}`);
      }
    } else if (byte === GT) {
      return { end: i, attributeCount };
    }
  }
  throw new MalformedMessageError('unterminated start tag');
}
