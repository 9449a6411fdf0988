import {
  DOMImplementation,
  XMLSerializer,
  type Document,
  type Element,
  type Node,
  type XMLSerializerOptions,
} from '@xmldom/xmldom';
import { XML_DECLARATION } from './markup';

/** Child content of {@link appendElement}: text, or a function that fills the new element. */
export type ElementContent = string | ((element: Element) => void) | undefined;

/** Creates an empty document whose root element is `qualifiedName` in `namespace`. */
export function createDocument(namespace: string, qualifiedName: string): Document {
  return new DOMImplementation().createDocument(namespace, qualifiedName, null);
}

/**
 * Appends `<qualifiedName>` in `namespace` to `parent` and fills it. Values always go through the DOM, so
 * they are escaped by the serialiser, never concatenated into markup.
 */
export function appendElement(
  parent: Element,
  namespace: string,
  qualifiedName: string,
  content?: ElementContent,
  attributes: Record<string, string> = {},
): Element {
  const document = parent.ownerDocument as Document;
  const element = document.createElementNS(namespace, qualifiedName);
  for (const [name, value] of Object.entries(attributes)) element.setAttribute(name, value);
  if (typeof content === 'string') element.appendChild(document.createTextNode(content));
  else if (content) content(element);
  parent.appendChild(element);
  return element;
}

const TEXT_NODE = 3;
const CDATA_SECTION_NODE = 4;
const TEXT_ESCAPES: Readonly<Record<string, string>> = {
  '<': '&lt;',
  '>': '&gt;',
  '&': '&amp;',
  '\r': '&#13;',
};

/**
 * xmldom writes a carriage return in text (or CDATA) as is, and every XML parser reads it back as a line
 * feed: a signed element would no longer canonicalize to what was digested. Such text is written escaped
 * (xmldom writes a string returned by a node filter as it is; its typings only admit nodes). A CDATA
 * section and its escaped text are the same characters to a parser and to canonicalization.
 */
function carriageReturnSafe(node: Node): Node | string {
  if (node.nodeType !== TEXT_NODE && node.nodeType !== CDATA_SECTION_NODE) return node;
  const data = (node as Node & { data: string }).data;
  return data.includes('\r') ? data.replace(/[<>&\r]/g, (character) => TEXT_ESCAPES[character]) : node;
}

const SERIALIZER_OPTIONS: XMLSerializerOptions = {
  nodeFilter: carriageReturnSafe as unknown as XMLSerializerOptions['nodeFilter'],
};

/**
 * Serialises an element as markup without an XML declaration (declaring the namespaces its names use
 * that its ancestors would otherwise provide), so that parsing the text gives back the same characters
 * (carriage returns included).
 */
export function serializeElement(element: Element): string {
  return new XMLSerializer().serializeToString(element, SERIALIZER_OPTIONS);
}

/**
 * Serialises a document (or element) to UTF-8 bytes with an XML declaration, so that parsing the bytes
 * gives back the same characters (carriage returns included): what a receiver canonicalizes is what was
 * signed.
 */
export function serialize(node: Document | Element): Buffer {
  return Buffer.from(
    XML_DECLARATION + new XMLSerializer().serializeToString(node, SERIALIZER_OPTIONS),
    'utf8',
  );
}
