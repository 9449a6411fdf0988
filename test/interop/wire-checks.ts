import { DOMParser, type Element } from '@xmldom/xmldom';
import { SignedXml } from 'xml-crypto';
import { CodePointOrderExclusiveCanonicalization } from '../../src/wssecurity/exclusive-c14n';

/** Helpers the interop tests use to look at what a client put on the wire. */

/** Namespaces of the request and of WS-Security. */
export const NS = {
  soap: 'http://schemas.xmlsoap.org/soap/envelope/',
  wsse: 'http://docs.oasis-open.org/wss/2004/01/oasis-200401-wss-wssecurity-secext-1.0.xsd',
  wsu: 'http://docs.oasis-open.org/wss/2004/01/oasis-200401-wss-wssecurity-utility-1.0.xsd',
  ds: 'http://www.w3.org/2000/09/xmldsig#',
  rm: 'http://socialsecurity.be/registeredmail/v1',
  types: 'http://socialsecurity.be/registeredmail/types/v1',
} as const;

const EXC_C14N = 'http://www.w3.org/2001/10/xml-exc-c14n#';

/** One MIME part of a multipart/related body. */
export interface MimePart {
  headers: Record<string, string>;
  body: Buffer;
}

/** Splits a multipart body on the boundary of its Content-Type (enough for what JAX-WS RI writes). */
export function splitMultipart(contentType: string, body: Buffer): MimePart[] {
  const boundary = /boundary="?([^";]+)"?/i.exec(contentType)?.[1];
  if (!boundary) throw new Error(`no boundary in ${contentType}`);
  const delimiter = Buffer.from(`--${boundary}`);
  const parts: MimePart[] = [];
  let start = body.indexOf(delimiter);
  while (start >= 0) {
    const afterDelimiter = start + delimiter.length;
    if (body.subarray(afterDelimiter, afterDelimiter + 2).toString() === '--') break;
    const next = body.indexOf(delimiter, afterDelimiter);
    if (next < 0) throw new Error('multipart body without closing delimiter');
    // Part = CRLF headers CRLF CRLF content CRLF (the last CRLF belongs to the next delimiter).
    const raw = body.subarray(afterDelimiter + 2, next - 2);
    const headerEnd = raw.indexOf('\r\n\r\n');
    const headers: Record<string, string> = {};
    for (const line of raw.subarray(0, headerEnd).toString('latin1').split('\r\n')) {
      const colon = line.indexOf(':');
      if (colon > 0) headers[line.slice(0, colon).trim().toLowerCase()] = line.slice(colon + 1).trim();
    }
    parts.push({ headers, body: raw.subarray(headerEnd + 4) });
    start = next;
  }
  return parts;
}

/** What {@link inspectSignedEnvelope} found in a wsse:Security header. */
export interface SecurityHeaderFacts {
  /** Local names of the wsse:Security children, in document order. */
  headerOrder: string[];
  timestampCreated: string;
  timestampExpires: string;
  tokenValueType: string;
  signatureMethod: string;
  canonicalizationMethod: string;
  /** The local names of the elements the references point at (Body, Timestamp, BinarySecurityToken). */
  referencedElements: string[];
  digestMethods: string[];
  transforms: string[];
  /** True when xml-crypto, with spec-ordered exclusive c14n, verifies the signature with the token's certificate. */
  signatureValid: boolean;
  /** The same check with xml-crypto's stock exclusive c14n (see {@link CodePointOrderExclusiveCanonicalization}). */
  signatureValidWithStockXmlCrypto: boolean;
  /** The token's certificate, PEM. */
  certificatePem: string;
}

/** Reads the WS-Security header of an envelope and verifies its signature with xml-crypto. */
export function inspectSignedEnvelope(envelopeXml: string): SecurityHeaderFacts {
  const envelope = parseRoot(envelopeXml);
  const security = child(child(envelope, NS.soap, 'Header'), NS.wsse, 'Security');
  const token = child(security, NS.wsse, 'BinarySecurityToken');
  const signature = child(security, NS.ds, 'Signature');
  const signedInfo = child(signature, NS.ds, 'SignedInfo');
  const timestamp = child(security, NS.wsu, 'Timestamp');
  const certificatePem = `-----BEGIN CERTIFICATE-----\n${(token.textContent ?? '').replace(/\s+/g, '')}\n-----END CERTIFICATE-----\n`;

  const references = childElements(signedInfo).filter((element) => element.localName === 'Reference');
  const referencedElements = references.map((reference) => {
    const id = (reference.getAttribute('URI') ?? '').replace(/^#/, '');
    const target = [envelope, ...Array.from(envelope.getElementsByTagName('*'))].find(
      (element) => element.getAttributeNS(NS.wsu, 'Id') === id || element.getAttribute('Id') === id,
    );
    if (!target) throw new Error(`no element with Id ${id}`);
    return target.localName ?? '';
  });

  return {
    headerOrder: childElements(security).map((element) => element.localName ?? ''),
    timestampCreated: childText(timestamp, NS.wsu, 'Created'),
    timestampExpires: childText(timestamp, NS.wsu, 'Expires'),
    tokenValueType: token.getAttribute('ValueType') ?? '',
    signatureMethod: algorithm(child(signedInfo, NS.ds, 'SignatureMethod')),
    canonicalizationMethod: algorithm(child(signedInfo, NS.ds, 'CanonicalizationMethod')),
    referencedElements,
    digestMethods: references.map((reference) => algorithm(child(reference, NS.ds, 'DigestMethod'))),
    transforms: references.map((reference) =>
      algorithm(child(child(reference, NS.ds, 'Transforms'), NS.ds, 'Transform')),
    ),
    signatureValid: verify(signature, envelopeXml, certificatePem, true),
    signatureValidWithStockXmlCrypto: verify(signature, envelopeXml, certificatePem, false),
    certificatePem,
  };
}

function verify(
  signature: Element,
  envelopeXml: string,
  certificatePem: string,
  codePointOrder: boolean,
): boolean {
  const verifier = new SignedXml({ publicCert: certificatePem });
  if (codePointOrder) verifier.CanonicalizationAlgorithms[EXC_C14N] = CodePointOrderExclusiveCanonicalization;
  // xml-crypto's typings name the DOM lib's Node; at run time it works on @xmldom/xmldom nodes.
  verifier.loadSignature(signature as unknown as Parameters<SignedXml['loadSignature']>[0]);
  try {
    return verifier.checkSignature(envelopeXml);
  } catch {
    return false; // xml-crypto throws on a wrong signature value or digest
  }
}

/** The root element of an XML text (throws when it does not parse to one). */
export function parseRoot(xml: string): Element {
  const root = new DOMParser().parseFromString(xml, 'text/xml').documentElement;
  if (!root) throw new Error('no document element');
  return root;
}

/** The element children of `parent`, in document order. */
export function childElements(parent: Element): Element[] {
  return Array.from(parent.childNodes).filter((node): node is Element => node.nodeType === 1);
}

/** The first child element `{ns}localName` of `parent` (throws when there is none). */
export function child(parent: Element, ns: string, localName: string): Element {
  const found = childElements(parent).find(
    (element) => element.namespaceURI === ns && element.localName === localName,
  );
  if (!found) throw new Error(`no {${ns}}${localName} in ${parent.localName}`);
  return found;
}

/** The text of the first child element `{ns}localName` of `parent`. */
export function childText(parent: Element, ns: string, localName: string): string {
  return child(parent, ns, localName).textContent ?? '';
}

function algorithm(element: Element): string {
  return element.getAttribute('Algorithm') ?? '';
}
