import type { Document, Element } from '@xmldom/xmldom';
import { appendElement, createDocument } from '../xml/element-builder';
import { NS } from '../xml/namespaces';

/**
 * Wraps a response payload element (built in any document) in a SOAP 1.1 envelope, as a DOM: the endpoint
 * adds the signed Security header to it and then serialises it once.
 */
export function buildResponseEnvelope(payload: Element): Document {
  const document = createDocument(NS.soap11, 'soapenv:Envelope');
  const body = appendElement(document.documentElement as Element, NS.soap11, 'soapenv:Body');
  body.appendChild(document.importNode(payload, true));
  return document;
}
