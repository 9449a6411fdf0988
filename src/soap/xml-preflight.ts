import { MalformedMessageError } from '../errors/faults';

/** Limits checked on the raw envelope bytes before any DOM is built. */
export interface XmlPreflightLimits {
  maxDepth: number;
  maxElements: number;
}

const LT = 0x3c; // <
const GT = 0x3e; // >
const SLASH = 0x2f;
const QUESTION = 0x3f;
const BANG = 0x21;
const DQUOTE = 0x22;
const SQUOTE = 0x27;

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
 * only matters outside quotes.
 */
export function preflightXml(bytes: Buffer, limits: XmlPreflightLimits): void {
  let depth = 0;
  let elements = 0;
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
      const end = endOfTag(bytes, at + 1);
      if (bytes[end - 1] !== SLASH) depth += 1;
      elements += 1;
      if (depth > limits.maxDepth) {
        throw new MalformedMessageError(`element nesting deeper than the limit of ${limits.maxDepth}`);
      }
      if (elements > limits.maxElements) {
        throw new MalformedMessageError(`more elements than the limit of ${limits.maxElements}`);
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

/** Index of the `>` that closes the start tag beginning at `from`, skipping quoted attribute values. */
function endOfTag(bytes: Buffer, from: number): number {
  let quote = 0;
  for (let i = from; i < bytes.length; i += 1) {
    const byte = bytes[i];
    if (quote !== 0) {
      if (byte === quote) quote = 0;
    } else if (byte === DQUOTE || byte === SQUOTE) {
      quote = byte;
    } else if (byte === GT) {
      return i;
    }
  }
  throw new MalformedMessageError('unterminated start tag');
}
