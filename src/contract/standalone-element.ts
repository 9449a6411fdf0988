import { XMLSerializer, type Element, type Node } from '@xmldom/xmldom';

const XMLNS_NAMESPACE = 'http://www.w3.org/2000/xmlns/';
const ELEMENT_NODE = 1;

/**
 * The namespace declarations in scope at `element` that it inherits from its ancestors (nearest
 * declaration wins), as prefix → URI; the default namespace has the prefix ''. An undeclared default
 * namespace (`xmlns=""`) maps to ''.
 */
function inheritedDeclarations(element: Element): Map<string, string> {
  const found = new Map<string, string>();
  for (let node: Node | null = element.parentNode; node !== null; node = node.parentNode) {
    if (node.nodeType !== ELEMENT_NODE) continue;
    const attributes = (node as Element).attributes;
    for (let i = 0; i < attributes.length; i++) {
      const attribute = attributes.item(i);
      if (attribute === null || attribute.namespaceURI !== XMLNS_NAMESPACE) continue;
      const prefix = attribute.prefix === 'xmlns' ? (attribute.localName ?? '') : '';
      if (!found.has(prefix)) found.set(prefix, attribute.value ?? '');
    }
  }
  return found;
}

/**
 * Serialises one element of a larger document as a document of its own.
 *
 * A serialiser declares the namespaces of element and attribute *names* it writes, but not those used
 * in attribute *values*: `xsi:type="types:Citizen"` on a Body payload usually relies on a prefix declared
 * on the Envelope. So every namespace declaration in scope on the ancestors that the element does not
 * redeclare itself is copied onto the serialised root, and the result means exactly what the element
 * means in place. The original document is left untouched (a detached copy is serialised).
 */
export function serializeStandalone(element: Element): string {
  const copy = element.cloneNode(true) as Element;
  for (const [prefix, uri] of inheritedDeclarations(element)) {
    if (prefix === 'xml' || prefix === 'xmlns') continue;
    const qualifiedName = prefix === '' ? 'xmlns' : `xmlns:${prefix}`;
    if (copy.hasAttributeNS(XMLNS_NAMESPACE, prefix === '' ? 'xmlns' : prefix)) continue;
    // An inherited `xmlns=""` on a root is the same as no declaration; an undeclared prefix cannot be.
    if (uri === '') continue;
    copy.setAttributeNS(XMLNS_NAMESPACE, qualifiedName, uri);
  }
  return new XMLSerializer().serializeToString(copy);
}
