import type { Element } from '@xmldom/xmldom';
import { childElements as namedChildren } from '../xml/element-reader';
import { NS } from '../xml/namespaces';
import type { ServiceFault } from './client-errors';

const ELEMENT_NODE = 1;

function elementChildren(parent: Element): Element[] {
  const children: Element[] = [];
  for (let child = parent.firstChild; child; child = child.nextSibling) {
    if (child.nodeType === ELEMENT_NODE) children.push(child as Element);
  }
  return children;
}

/** The unqualified child `localName` of a SOAP 1.1 Fault (faultcode, faultstring, detail). */
function faultChild(fault: Element, localName: string): Element | undefined {
  return elementChildren(fault).find((child) => !child.namespaceURI && child.localName === localName);
}

/** The English Message when there is one, else the first. */
function messageOf(error: Element, namespace: string): string | undefined {
  const messages = namedChildren(error, namespace, 'Message');
  const english = messages.find((message) => message.getAttributeNS(NS.xml, 'lang') === 'en');
  return (english ?? messages[0])?.textContent?.trim() || undefined;
}

/**
 * The fault a payload is, or undefined when it is no SOAP 1.1 Fault: the `BusinessError` or
 * `SystemError` of its detail (in the consumer or the provider errors namespace) with its Code, Message,
 * Retry and Id; a fault without such a detail is described by its faultstring.
 */
export function readFault(payload: Element): ServiceFault | undefined {
  if (payload.namespaceURI !== NS.soap11 || payload.localName !== 'Fault') return undefined;
  const faultstring = faultChild(payload, 'faultstring')?.textContent?.trim() ?? '';
  const detail = faultChild(payload, 'detail');
  const error = (detail ? elementChildren(detail) : []).find(
    (child) =>
      (child.namespaceURI === NS.errors || child.namespaceURI === NS.providerErrors) &&
      (child.localName === 'BusinessError' || child.localName === 'SystemError'),
  );
  if (error === undefined) {
    const faultcode = faultChild(payload, 'faultcode')?.textContent?.trim() ?? '';
    return {
      kind: 'Fault',
      code: faultstring || 'unknown',
      message: `(a fault without detail, faultcode ${faultcode || 'missing'})`,
      retry: false,
      id: undefined,
    };
  }
  const namespace = error.namespaceURI as string;
  const code = namedChildren(error, namespace, 'Code')[0]?.textContent?.trim() || faultstring;
  const retry = namedChildren(error, namespace, 'Retry')[0]?.textContent?.trim();
  return {
    kind: error.localName as string,
    code,
    message: messageOf(error, namespace) ?? faultstring,
    retry: retry === 'true' || retry === '1',
    id: error.getAttribute('Id') || undefined,
  };
}
