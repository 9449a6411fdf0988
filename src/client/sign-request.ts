import type { Document } from '@xmldom/xmldom';
import type { Clock } from '../clock/clock';
import type { DocumentSigner } from '../evidence/document-signer';
import { EnvelopeSigner } from '../wssecurity/sign-envelope';
import { serialize } from '../xml/element-builder';
import { NS } from '../xml/namespaces';

/**
 * Signs a request envelope as a WSS4J client does with the "Timestamp Signature" actions and a direct
 * reference: a `wsse:Security` header (`mustUnderstand="1"`) with a `wsu:Timestamp` (Created = the clock's
 * time, Expires 300 s later), the sender's certificate as an X509v3 BinarySecurityToken and an RSA-SHA256
 * signature (exclusive c14n, SHA-256 digests) over the Body and the Timestamp. The service's own
 * {@link EnvelopeSigner} builds it; the Body is signed as it is, `xop:Include` elements in place.
 * @returns the envelope's bytes (UTF-8, with an XML declaration): exactly what was signed
 */
export async function signRequest(envelope: Document, signer: DocumentSigner, clock: Clock): Promise<Buffer> {
  const { security } = await new EnvelopeSigner({ signer, clock }).sign(envelope);
  // Outside the signature (as in WSS4J): a receiver that does not process WS-Security must refuse the
  // message rather than ignore its sender.
  const prefix = envelope.documentElement?.prefix ?? 'soapenv';
  security.setAttributeNS(NS.soap11, `${prefix}:mustUnderstand`, '1');
  return serialize(envelope);
}
