import type { Element, Node } from '@xmldom/xmldom';

/*
 * The few DOM operations the WS-Security processing needs, on @xmldom/xmldom nodes. Nothing here
 * searches by Id or XPath: elements are found by walking their parents' children.
 */

/** DOM node type of an element. */
export const ELEMENT_NODE = 1;
/** DOM node type of a text node. */
export const TEXT_NODE = 3;
/** DOM node type of a CDATA section. */
export const CDATA_SECTION_NODE = 4;
/** DOM node type of a comment. */
export const COMMENT_NODE = 8;

/** A namespace-qualified element name, as seen in the document. */
export interface ElementName {
  namespaceURI: string | null;
  localName: string;
}

/** Whether a node is an element. */
export function isElement(node: Node | null | undefined): node is Element {
  return node !== null && node !== undefined && node.nodeType === ELEMENT_NODE;
}

/** Whether a node is the element `{namespace}localName`. */
export function isElementNamed(
  node: Node | null | undefined,
  namespace: string,
  localName: string,
): node is Element {
  return isElement(node) && node.namespaceURI === namespace && node.localName === localName;
}

/** The element children of a node, in document order. */
export function childElements(parent: Node): Element[] {
  const children: Element[] = [];
  for (let child = parent.firstChild; child; child = child.nextSibling) {
    if (isElement(child)) children.push(child);
  }
  return children;
}

/** The name of an element, for facts and messages. */
export function nameOf(element: Element): ElementName {
  return { namespaceURI: element.namespaceURI, localName: element.localName ?? element.nodeName };
}

/** `{namespace}localName` or `localName`, for messages. */
export function describe(element: Element): string {
  return element.namespaceURI ? `{${element.namespaceURI}}${element.localName}` : String(element.localName);
}

/** An attribute's value, or undefined when the element has no such attribute. */
export function attributeValue(
  element: Element,
  namespace: string | null,
  localName: string,
): string | undefined {
  const attribute = element.getAttributeNodeNS(namespace, localName);
  return attribute === null ? undefined : attribute.value;
}

/** Whether a node has a text or CDATA child that is not only whitespace. */
export function hasNonWhitespaceText(parent: Node): boolean {
  for (let child = parent.firstChild; child; child = child.nextSibling) {
    if (
      (child.nodeType === TEXT_NODE || child.nodeType === CDATA_SECTION_NODE) &&
      /\S/.test(child.nodeValue ?? '')
    ) {
      return true;
    }
  }
  return false;
}

/** Whether every child of a node is text or CDATA (no element, no comment). */
export function hasOnlyTextChildren(parent: Node): boolean {
  for (let child = parent.firstChild; child; child = child.nextSibling) {
    if (child.nodeType !== TEXT_NODE && child.nodeType !== CDATA_SECTION_NODE) return false;
  }
  return true;
}

/** The concatenated text and CDATA children of a node (not descendants). */
export function directText(parent: Node): string {
  let text = '';
  for (let child = parent.firstChild; child; child = child.nextSibling) {
    if (child.nodeType === TEXT_NODE || child.nodeType === CDATA_SECTION_NODE) text += child.nodeValue ?? '';
  }
  return text;
}

/** Number of comment nodes inside an element (iterative: deep documents cannot overflow the stack). */
export function countComments(root: Element): number {
  let comments = 0;
  const stack: Node[] = [root];
  while (stack.length > 0) {
    const node = stack.pop() as Node;
    for (let child = node.firstChild; child; child = child.nextSibling) {
      if (child.nodeType === COMMENT_NODE) comments += 1;
      else if (child.nodeType === ELEMENT_NODE) stack.push(child);
    }
  }
  return comments;
}

/**
 * Calls `visit` for every element of a subtree, the root included, in document order. It walks the
 * sibling and parent links (iteratively, allocating nothing): deep documents cannot overflow the stack.
 */
export function forEachElement(root: Element, visit: (element: Element) => void): void {
  let element: Element | undefined = root;
  while (element !== undefined) {
    visit(element);
    element = firstChildElement(element) ?? nextElementAfter(element, root);
  }
}

/** The first child of `parent` that is an element. */
function firstChildElement(parent: Element): Element | undefined {
  for (let child = parent.firstChild; child; child = child.nextSibling) {
    if (isElement(child)) return child;
  }
  return undefined;
}

/** The element that follows `element`'s subtree in document order, within `root`'s subtree. */
function nextElementAfter(element: Element, root: Element): Element | undefined {
  for (let node: Element = element; node !== root; node = node.parentNode as Element) {
    for (let sibling = node.nextSibling; sibling; sibling = sibling.nextSibling) {
      if (isElement(sibling)) return sibling;
    }
  }
  return undefined;
}
