import type { Attr, Comment, Element, Node, ProcessingInstruction, Text } from '@xmldom/xmldom';
import { escapeXmlAttribute, escapeXmlText, isNamespaceDeclaration } from '../xml/xml-escape';

const XMLNS_NAMESPACE = 'http://www.w3.org/2000/xmlns/';
const XML_NAMESPACE = 'http://www.w3.org/XML/1998/namespace';
const ELEMENT_NODE = 1;
const TEXT_NODE = 3;
const CDATA_SECTION_NODE = 4;
const PROCESSING_INSTRUCTION_NODE = 7;
const COMMENT_NODE = 8;

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
 * Writes a subtree as it is in the DOM, namespace declarations as written, and declares whatever an
 * element or attribute name needs that is not declared in scope with the right URI (a node built with
 * `createElementNS` carries no `xmlns` attribute). `scope` is prefix → URI of the declarations written
 * above; it is copied only by an element that changes it.
 */
class StandaloneWriter {
  output = '';

  element(element: Element, scope: ReadonlyMap<string, string>, extra: ReadonlyMap<string, string>): void {
    let inScope = scope;
    let declarations = '';
    const declare = (prefix: string, namespaceURI: string): void => {
      if (inScope === scope) inScope = new Map(scope);
      (inScope as Map<string, string>).set(prefix, namespaceURI);
      declarations +=
        prefix === ''
          ? ` xmlns="${escapeXmlAttribute(namespaceURI)}"`
          : ` xmlns:${prefix}="${escapeXmlAttribute(namespaceURI)}"`;
    };
    const attributes = element.attributes;
    const plain: Attr[] = [];
    for (let i = 0; i < attributes.length; i += 1) {
      const attribute = attributes.item(i) as Attr;
      if (isNamespaceDeclaration(attribute)) {
        declare(attribute.prefix === 'xmlns' ? (attribute.localName ?? '') : '', attribute.value);
      } else plain.push(attribute);
    }
    for (const [prefix, namespaceURI] of extra) if (!inScope.has(prefix)) declare(prefix, namespaceURI);
    const ensure = (prefix: string, namespaceURI: string): void => {
      if (prefix === 'xml' || namespaceURI === XML_NAMESPACE) return;
      if ((inScope.get(prefix) ?? '') !== namespaceURI) declare(prefix, namespaceURI);
    };
    ensure(element.prefix ?? '', element.namespaceURI ?? '');
    for (const attribute of plain)
      if (attribute.prefix) ensure(attribute.prefix, attribute.namespaceURI ?? '');

    const tagName = element.tagName;
    this.output += `<${tagName}${declarations}`;
    for (const attribute of plain)
      this.output += ` ${attribute.name}="${escapeXmlAttribute(attribute.value)}"`;
    if (element.firstChild === null) {
      this.output += '/>';
      return;
    }
    this.output += '>';
    for (let child: Node | null = element.firstChild; child !== null; child = child.nextSibling) {
      if (child.nodeType === ELEMENT_NODE) this.element(child as Element, inScope, NONE);
      else if (child.nodeType === TEXT_NODE || child.nodeType === CDATA_SECTION_NODE) {
        this.output += escapeXmlText((child as Text).data);
      } else if (child.nodeType === PROCESSING_INSTRUCTION_NODE) {
        const instruction = child as ProcessingInstruction;
        this.output += `<?${instruction.target}${instruction.data ? ` ${instruction.data}` : ''}?>`;
      } else if (child.nodeType === COMMENT_NODE) {
        this.output += `<!--${(child as Comment).data}-->`;
      }
    }
    this.output += `</${tagName}>`;
  }
}

const NONE: ReadonlyMap<string, string> = new Map();

/**
 * Serialises one element of a larger document as a document of its own.
 *
 * A serialiser declares the namespaces of element and attribute *names* it writes, but not those used
 * in attribute *values*: `xsi:type="types:Citizen"` on a Body payload usually relies on a prefix declared
 * on the Envelope. So every namespace declaration in scope on the ancestors that the element does not
 * redeclare itself is written on the serialised root, and the result means exactly what the element
 * means in place: same names, same namespace bindings at every element, same attribute values and
 * character data (escaped so that a parser reads back exactly the same characters), comments and
 * processing instructions. The document is only read: nothing is cloned or changed.
 */
export function serializeStandalone(element: Element): string {
  const inherited = new Map<string, string>();
  for (const [prefix, uri] of inheritedDeclarations(element)) {
    if (prefix === 'xml' || prefix === 'xmlns') continue;
    // An inherited `xmlns=""` on a root is the same as no declaration; an undeclared prefix cannot be.
    if (uri === '') continue;
    inherited.set(prefix, uri);
  }
  const writer = new StandaloneWriter();
  writer.element(element, NONE, inherited);
  return writer.output;
}
