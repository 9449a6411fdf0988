import type { Element } from '@xmldom/xmldom';

const ELEMENT_NODE = 1;

/** The child elements of `parent` named `localName` in `namespace`, in document order. */
export function childElements(parent: Element, namespace: string, localName: string): Element[] {
  const found: Element[] = [];
  for (let child = parent.firstChild; child; child = child.nextSibling) {
    if (
      child.nodeType === ELEMENT_NODE &&
      (child as Element).localName === localName &&
      (child as Element).namespaceURI === namespace
    ) {
      found.push(child as Element);
    }
  }
  return found;
}

/** The single child element `localName`; throws when absent (callers run after XSD validation). */
export function requiredChild(parent: Element, namespace: string, localName: string): Element {
  const [child] = childElements(parent, namespace, localName);
  if (!child) throw new Error(`missing ${localName} in ${parent.localName}`);
  return child;
}

/** The optional child element `localName`. */
export function optionalChild(parent: Element, namespace: string, localName: string): Element | undefined {
  return childElements(parent, namespace, localName)[0];
}

/** The text content of an element. */
export function textOf(element: Element): string {
  return element.textContent ?? '';
}

/** The text of the child `localName`, or undefined when absent. */
export function optionalText(parent: Element, namespace: string, localName: string): string | undefined {
  const child = optionalChild(parent, namespace, localName);
  return child ? textOf(child) : undefined;
}

/** The text of the required child `localName`. */
export function requiredText(parent: Element, namespace: string, localName: string): string {
  return textOf(requiredChild(parent, namespace, localName));
}

/** Resolves an `xsi:type` QName value to its namespace and local name in the element's scope. */
export function resolveQName(
  element: Element,
  qname: string,
): { namespace: string | null; localName: string } {
  const trimmed = qname.trim();
  const colon = trimmed.indexOf(':');
  const prefix = colon >= 0 ? trimmed.slice(0, colon) : null;
  const localName = colon >= 0 ? trimmed.slice(colon + 1) : trimmed;
  return { namespace: element.lookupNamespaceURI(prefix), localName };
}
