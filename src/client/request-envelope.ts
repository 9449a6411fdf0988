import type { Document, Element } from '@xmldom/xmldom';
import { appendElement, createDocument } from '../xml/element-builder';
import { NS } from '../xml/namespaces';
import { SERVICE_NAMESPACE } from './service-endpoint';

/** A request envelope being built: the document and its payload (the Body's one element). */
export interface RequestEnvelope {
  document: Document;
  payload: Element;
}

/** Prefix of RegisteredMailService's elements in requests. */
const PREFIX = 'rms';

/**
 * A SOAP 1.1 envelope with an empty Header and a Body holding `<rms:{payloadName}>`. Every namespace is
 * declared on the element that first uses it, so the serialised envelope canonicalizes as the DOM does
 * (what the WS-Security signature covers).
 */
export function createRequestEnvelope(payloadName: string): RequestEnvelope {
  const document = createDocument(NS.soap11, 'soapenv:Envelope');
  const envelope = document.documentElement as Element;
  envelope.setAttributeNS(NS.xmlns, 'xmlns:soapenv', NS.soap11);
  appendElement(envelope, NS.soap11, 'soapenv:Header');
  const body = appendElement(envelope, NS.soap11, 'soapenv:Body');
  const payload = appendElement(body, SERVICE_NAMESPACE, `${PREFIX}:${payloadName}`);
  payload.setAttributeNS(NS.xmlns, `xmlns:${PREFIX}`, SERVICE_NAMESPACE);
  payload.setAttributeNS(NS.xmlns, 'xmlns:types', NS.types);
  return { document, payload };
}

/** Appends `<rms:{localName}>` (text, or filled by a function) to a payload element. */
export function appendServiceElement(
  parent: Element,
  localName: string,
  content?: Parameters<typeof appendElement>[3],
): Element {
  return appendElement(parent, SERVICE_NAMESPACE, `${PREFIX}:${localName}`, content);
}

/** Appends `<types:{localName}>` (a child of a v1 type: INSS, DigestValue...) to an element. */
export function appendTypesElement(parent: Element, localName: string, text: string): Element {
  return appendElement(parent, NS.types, `types:${localName}`, text);
}
