import { DOMImplementation, XMLSerializer, type Document, type Element } from '@xmldom/xmldom';

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

/** Serialises a document (or element) to UTF-8 bytes with an XML declaration. */
export function serialize(node: Document | Element): Buffer {
  return Buffer.from(
    `<?xml version="1.0" encoding="UTF-8"?>\n${new XMLSerializer().serializeToString(node)}`,
    'utf8',
  );
}
