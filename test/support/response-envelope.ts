import type { Document, Element } from '@xmldom/xmldom';
import { appendElement, createDocument } from '../../src/xml/element-builder';
import { NS } from '../../src/xml/namespaces';

/**
 * Wraps a payload element (built in any document) in a SOAP 1.1 envelope, as a DOM, for the tests of
 * `EnvelopeSigner.sign` (the service signs fault documents that way; its responses go through
 * `signPayload`, which builds no DOM).
 */
export function buildResponseEnvelope(payload: Element): Document {
  const document = createDocument(NS.soap11, 'soapenv:Envelope');
  const body = appendElement(document.documentElement as Element, NS.soap11, 'soapenv:Body');
  body.appendChild(document.importNode(payload, true));
  return document;
}
