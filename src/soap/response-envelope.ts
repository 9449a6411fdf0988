import type { Element } from '@xmldom/xmldom';
import { appendElement, createDocument, serialize } from '../xml/element-builder';
import { NS } from '../xml/namespaces';

/** Wraps a response payload element (built in any document) in a SOAP 1.1 envelope and serialises it. */
export function serializeResponseEnvelope(payload: Element): Buffer {
  const document = createDocument(NS.soap11, 'soapenv:Envelope');
  const body = appendElement(document.documentElement as Element, NS.soap11, 'soapenv:Body');
  body.appendChild(document.importNode(payload, true));
  return serialize(document);
}
