import type { Document, Element, Node } from '@xmldom/xmldom';
import { MalformedMessageError, MissingBodyError, NotSoapError } from '../errors/faults';
import { createDomParser } from '../xml/dom-parser';
import { NS } from '../xml/namespaces';
import { preflightXml, type XmlPreflightLimits } from './xml-preflight';

/**
 * A SOAP 1.1 envelope parsed once. Every later step (WS-Security, policy, XSD validation, mapping) works
 * on these very nodes; nothing parses the request bytes again.
 */
export interface ParsedEnvelope {
  document: Document;
  envelope: Element;
  header: Element | undefined;
  body: Element;
  /** The Body's single child element: the operation's payload. */
  payload: Element;
}

const ELEMENT_NODE = 1;
const TEXT_NODE = 3;
const CDATA_SECTION_NODE = 4;
const PROCESSING_INSTRUCTION_NODE = 7;
const COMMENT_NODE = 8;

const utf8 = new TextDecoder('utf-8', { fatal: true });

function decode(bytes: Buffer): string {
  const declaration = /^(?:\uFEFF)?<\?xml[^>]*encoding\s*=\s*["']([^"']+)["']/.exec(
    bytes.toString('latin1', 0, 200),
  );
  if (declaration && !/^utf-?8$/i.test(declaration[1])) {
    throw new MalformedMessageError(`encoding ${declaration[1]} is not supported: use UTF-8`);
  }
  try {
    return utf8.decode(bytes);
  } catch {
    throw new MalformedMessageError('the envelope is not valid UTF-8');
  }
}

/**
 * The first refusal of the parse under way, with xmldom's reason: xmldom reports a fatal error through
 * onError and then throws its own ParseError, which carries what onError threw in its message only, not
 * as its cause. Parsing is synchronous, so one variable serves every parse.
 */
let refusal: MalformedMessageError | undefined;

/** One parser for every envelope (making one per request was a few percent of a parse). */
const envelopeParser = createDomParser({
  // No line and column on every node: nothing reads them, and tracking them is a tenth of a parse.
  locator: false,
  onError: (_level, message) => {
    // Every warning of xmldom that reaches here is a well-formedness or namespace problem (U+FFFD's is
    // not passed on, see createDomParser): refuse them all.
    refusal ??= new MalformedMessageError(`not well-formed XML (${String(message).slice(0, 200)})`);
    throw refusal;
  },
});

function parseXml(text: string): Document {
  refusal = undefined;
  try {
    return envelopeParser.parseFromString(text, 'text/xml');
  } catch (error) {
    if (error instanceof MalformedMessageError) throw error;
    throw refusal ?? new MalformedMessageError('not well-formed XML');
  } finally {
    refusal = undefined;
  }
}

/** Refuses document-level nodes other than the XML declaration and the root element. */
function assertPlainDocument(document: Document): Element {
  let root: Element | undefined;
  for (let node = document.firstChild; node; node = node.nextSibling) {
    if (node.nodeType === ELEMENT_NODE) root = node as Element;
    else if (node.nodeType === PROCESSING_INSTRUCTION_NODE && node.nodeName === 'xml' && !root) continue;
    else if (node.nodeType === COMMENT_NODE || isIgnorable(node)) continue;
    else throw new MalformedMessageError('DOCTYPE and processing instructions are not allowed');
  }
  if (!root) throw new MalformedMessageError('no root element');
  return root;
}

/** Refuses processing instructions anywhere inside the root element (iteratively: no recursion). */
function assertNoProcessingInstructions(root: Element): void {
  const stack: Node[] = [root];
  while (stack.length > 0) {
    const node = stack.pop() as Node;
    for (let child = node.firstChild; child; child = child.nextSibling) {
      if (child.nodeType === PROCESSING_INSTRUCTION_NODE) {
        throw new MalformedMessageError('processing instructions are not allowed');
      }
      if (child.nodeType === ELEMENT_NODE) stack.push(child);
    }
  }
}

function isElement(node: Node, namespace: string, localName: string): boolean {
  return (
    node.nodeType === ELEMENT_NODE &&
    (node as Element).namespaceURI === namespace &&
    (node as Element).localName === localName
  );
}

function isIgnorable(node: Node): boolean {
  if (node.nodeType === COMMENT_NODE) return true;
  return (
    (node.nodeType === TEXT_NODE || node.nodeType === CDATA_SECTION_NODE) && !/\S/.test(node.nodeValue ?? '')
  );
}

/**
 * Parses the envelope bytes into a {@link ParsedEnvelope}: limits and forbidden constructs are checked on
 * the bytes first, then the DOM is built and the SOAP 1.1 structure is checked (Header?, Body with exactly
 * one child element).
 */
export function parseEnvelope(bytes: Buffer, limits: XmlPreflightLimits): ParsedEnvelope {
  preflightXml(bytes, limits);
  const document = parseXml(decode(bytes));
  const root = assertPlainDocument(document);
  assertNoProcessingInstructions(root);

  if (isElement(root, NS.soap12, 'Envelope'))
    throw new NotSoapError('SOAP 1.2 is not supported: use SOAP 1.1');
  if (!isElement(root, NS.soap11, 'Envelope'))
    throw new NotSoapError('the root element is not a SOAP 1.1 Envelope');

  let header: Element | undefined;
  let body: Element | undefined;
  for (let child = root.firstChild; child; child = child.nextSibling) {
    if (isIgnorable(child)) continue;
    if (!header && !body && isElement(child, NS.soap11, 'Header')) header = child as Element;
    else if (!body && isElement(child, NS.soap11, 'Body')) body = child as Element;
    else if (isElement(child, NS.soap11, 'Body')) {
      throw new MissingBodyError('the envelope has more than one Body');
    } else throw new NotSoapError(`unexpected ${child.nodeName} in the Envelope`);
  }
  if (!body) throw new MissingBodyError('the envelope has no Body');

  let payload: Element | undefined;
  for (let child = body.firstChild; child; child = child.nextSibling) {
    if (isIgnorable(child)) continue;
    if (child.nodeType !== ELEMENT_NODE || payload) {
      throw new MissingBodyError('the Body must contain exactly one element');
    }
    payload = child as Element;
  }
  if (!payload) throw new MissingBodyError('the Body is empty');
  return { document, envelope: root, header, body, payload };
}
