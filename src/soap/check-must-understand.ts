import type { Element } from '@xmldom/xmldom';
import { MustUnderstandError } from '../errors/faults';
import { NS } from '../xml/namespaces';
import type { ParsedEnvelope } from './parse-envelope';

/** Header blocks this service processes (WS-Security's is the only one). */
const UNDERSTOOD = new Set([
  '{http://docs.oasis-open.org/wss/2004/01/oasis-200401-wss-wssecurity-secext-1.0.xsd}Security',
]);
const NEXT_ACTOR = 'http://schemas.xmlsoap.org/soap/actor/next';

/**
 * Refuses a header block addressed to this node (no actor, or the `next` actor) that is marked
 * `mustUnderstand="1"` and that the service does not process, as SOAP 1.1 §4.2.3 requires: otherwise a
 * client would believe a mandatory extension was honoured.
 */
export function checkMustUnderstand(envelope: ParsedEnvelope): void {
  if (!envelope.header) return;
  for (let child = envelope.header.firstChild; child; child = child.nextSibling) {
    if (child.nodeType !== 1) continue;
    const block = child as Element;
    const mustUnderstand = block.getAttributeNS(NS.soap11, 'mustUnderstand')?.trim();
    if (mustUnderstand !== '1' && mustUnderstand !== 'true') continue;
    const actor = block.getAttributeNS(NS.soap11, 'actor');
    if (actor && actor !== NEXT_ACTOR) continue;
    const name = `{${block.namespaceURI ?? ''}}${block.localName}`;
    if (!UNDERSTOOD.has(name)) throw new MustUnderstandError(name);
  }
}
