import { hash, randomUUID } from 'node:crypto';
import type { Document, Element } from '@xmldom/xmldom';
import type { Clock } from '../clock/clock';
import type { DocumentSigner } from '../evidence/document-signer';
import { appendElement } from '../xml/element-builder';
import { XML_DECLARATION } from '../xml/markup';
import { canonicalPayload, type PayloadElement, type RenderedNamespaces } from '../xml/payload-element';
import { DIGEST_ALGORITHM_URIS, EXC_C14N_ALGORITHM, SIGNATURE_ALGORITHM_URIS } from './algorithms';
import { childElements, isElementNamed } from './dom';
import { canonicalizeExclusive } from './exclusive-c14n';
import {
  BASE64_BINARY_ENCODING,
  DS_NS,
  SOAP11_NS,
  WSSE_NS,
  WSU_NS,
  X509V3_VALUE_TYPE,
  XMLNS_NS,
} from './namespaces';

/** Seconds from a response Timestamp's Created to its Expires, unless configured otherwise. */
export const RESPONSE_TIMESTAMP_TTL_SECONDS = 300;

/** What an {@link EnvelopeSigner} needs. */
export interface EnvelopeSignerOptions {
  /**
   * Signs SignedInfo: RSASSA-PKCS1-v1_5 with SHA-256 is exactly the XML-DSig `rsa-sha256` SignatureValue,
   * so the key can stay in an HSM. Its certificate is the BinarySecurityToken.
   */
  signer: DocumentSigner;
  /** Source of the Timestamp's Created. */
  clock: Clock;
  /** Seconds from Created to Expires (default {@link RESPONSE_TIMESTAMP_TTL_SECONDS}). */
  timestampTtlSeconds?: number;
}

/** One signed element: its Id and the exact exc-c14n bytes that were digested. */
export interface SignedPart {
  element: Element;
  id: string;
  canonical: Buffer;
}

/** A response envelope signed by {@link EnvelopeSigner.signPayload}, as the bytes to send. */
export interface SignedEnvelopeBytes {
  /** The whole envelope, XML declaration included, UTF-8. */
  envelope: Buffer;
  /** The `soapenv:Body`'s Id and exc-c14n bytes (the digest input, sent as they are). */
  body: Omit<SignedPart, 'element'>;
  /** The Timestamp's Id and exc-c14n bytes, as they appear in the envelope. */
  timestamp: Omit<SignedPart, 'element'>;
  /** The `wsu:Id` of the `wsse:BinarySecurityToken`. */
  tokenId: string;
  /** The exc-c14n bytes of SignedInfo: what the DocumentSigner signed. */
  signedInfo: Buffer;
}

/** What {@link EnvelopeSigner.sign} added to the document. */
export interface SignedEnvelope {
  /** The new `wsse:Security` header block (first child of the SOAP Header). */
  security: Element;
  /** The `soapenv:Body`, now carrying a `wsu:Id`. */
  body: SignedPart;
  /** The `wsu:Timestamp`. */
  timestamp: SignedPart;
  /** The `wsu:Id` of the `wsse:BinarySecurityToken`. */
  tokenId: string;
}

function child(parent: Element, namespace: string, localName: string): Element | undefined {
  return childElements(parent).find((element) => isElementNamed(element, namespace, localName));
}

function declare(element: Element, prefix: string, namespace: string): void {
  element.setAttributeNS(XMLNS_NS, `xmlns:${prefix}`, namespace);
}

function setWsuId(element: Element, id: string): void {
  element.setAttributeNS(WSU_NS, 'wsu:Id', id);
}

function digest(canonical: Buffer): string {
  return hash('sha256', canonical, 'base64');
}

/** Appends a `ds:Reference` to `#id` with one exc-c14n transform and a SHA-256 digest. */
function appendReference(signedInfo: Element, part: SignedPart): void {
  appendElement(
    signedInfo,
    DS_NS,
    'ds:Reference',
    (reference) => {
      appendElement(reference, DS_NS, 'ds:Transforms', (transforms) =>
        appendElement(transforms, DS_NS, 'ds:Transform', undefined, { Algorithm: EXC_C14N_ALGORITHM }),
      );
      appendElement(reference, DS_NS, 'ds:DigestMethod', undefined, {
        Algorithm: DIGEST_ALGORITHM_URIS.sha256,
      });
      appendElement(reference, DS_NS, 'ds:DigestValue', digest(part.canonical));
    },
    { URI: `#${part.id}` },
  );
}

/**
 * Signs SOAP 1.1 envelopes the way WSS4J signs a message with the "Timestamp Signature" actions: a
 * `wsse:Security` header (without `mustUnderstand`, so a client that does not process it is not
 * refused) holding a `wsu:Timestamp`, the signer's certificate as an X509v3 `BinarySecurityToken`, and a
 * `ds:Signature` (exclusive c14n, RSA-SHA256, SHA-256 digests) whose references are the Body and the
 * Timestamp and whose KeyInfo is a `SecurityTokenReference` to the token.
 *
 * It works on the DOM of the envelope before it is serialised: the caller serialises the document once,
 * afterwards, so the bytes on the wire are the ones that were signed. Every namespace the header and the
 * Body's Id use is declared on the element that uses it, so the serialised form canonicalizes exactly as
 * the DOM did. Per envelope: three small canonicalizations and the Body's, two digests, one signature.
 */
export class EnvelopeSigner {
  private readonly signer: DocumentSigner;
  private readonly clock: Clock;
  private readonly timestampTtlMs: number;
  private readonly tokenText: string;

  constructor(options: EnvelopeSignerOptions) {
    this.signer = options.signer;
    this.clock = options.clock;
    this.timestampTtlMs = (options.timestampTtlSeconds ?? RESPONSE_TIMESTAMP_TTL_SECONDS) * 1000;
    this.tokenText = options.signer.certificate.toString('base64');
  }

  /** DER of the certificate that the BinarySecurityToken carries and that verifies the signatures. */
  get certificate(): Buffer {
    return this.signer.certificate;
  }

  /**
   * Adds the signed Security header to a SOAP 1.1 envelope document (creating its Header when there is
   * none) and gives the Body a `wsu:Id`.
   * @throws Error when the document is not a SOAP 1.1 envelope with a Body or already has a Security
   * header, or the signer's error when it fails (the document is then left as it was)
   */
  async sign(document: Document): Promise<SignedEnvelope> {
    const envelope = document.documentElement;
    if (!isElementNamed(envelope, SOAP11_NS, 'Envelope')) throw new Error('not a SOAP 1.1 envelope');
    const body = child(envelope, SOAP11_NS, 'Body');
    if (body === undefined) throw new Error('the envelope has no Body');
    let header = child(envelope, SOAP11_NS, 'Header');
    if (header !== undefined && child(header, WSSE_NS, 'Security') !== undefined) {
      throw new Error('the envelope already has a Security header');
    }
    const createdHeader = header === undefined;
    if (header === undefined) {
      header = document.createElementNS(SOAP11_NS, envelope.prefix ? `${envelope.prefix}:Header` : 'Header');
      envelope.insertBefore(header, body);
    }

    const suffix = randomUUID();
    const ids = { body: `id-${suffix}`, timestamp: `TS-${suffix}`, token: `X509-${suffix}` };
    declare(body, 'wsu', WSU_NS);
    setWsuId(body, ids.body);

    const security = document.createElementNS(WSSE_NS, 'wsse:Security');
    declare(security, 'wsse', WSSE_NS);
    declare(security, 'wsu', WSU_NS);
    header.insertBefore(security, header.firstChild);

    const created = this.clock.now();
    const timestamp = appendElement(security, WSU_NS, 'wsu:Timestamp', (element) => {
      appendElement(element, WSU_NS, 'wsu:Created', created.toISOString());
      appendElement(
        element,
        WSU_NS,
        'wsu:Expires',
        new Date(created.getTime() + this.timestampTtlMs).toISOString(),
      );
    });
    setWsuId(timestamp, ids.timestamp);

    const token = appendElement(security, WSSE_NS, 'wsse:BinarySecurityToken', this.tokenText, {
      EncodingType: BASE64_BINARY_ENCODING,
      ValueType: X509V3_VALUE_TYPE,
    });
    setWsuId(token, ids.token);

    const signedBody: SignedPart = { element: body, id: ids.body, canonical: canonical(body) };
    const signedTimestamp: SignedPart = {
      element: timestamp,
      id: ids.timestamp,
      canonical: canonical(timestamp),
    };

    const signature = appendElement(security, DS_NS, 'ds:Signature', undefined, { Id: `SIG-${suffix}` });
    declare(signature, 'ds', DS_NS);
    const signedInfo = appendElement(signature, DS_NS, 'ds:SignedInfo', (element) => {
      appendElement(element, DS_NS, 'ds:CanonicalizationMethod', undefined, {
        Algorithm: EXC_C14N_ALGORITHM,
      });
      appendElement(element, DS_NS, 'ds:SignatureMethod', undefined, {
        Algorithm: SIGNATURE_ALGORITHM_URIS['rsa-sha256'],
      });
      appendReference(element, signedBody);
      appendReference(element, signedTimestamp);
    });
    let signatureValue: Buffer;
    try {
      signatureValue = await this.signer.sign(canonical(signedInfo));
    } catch (error) {
      // Leave the envelope as it was, so that the caller can still send it (unsigned) or rebuild it.
      header.removeChild(security);
      if (createdHeader) envelope.removeChild(header);
      body.removeAttributeNS(WSU_NS, 'Id');
      body.removeAttributeNS(XMLNS_NS, 'wsu');
      throw error;
    }
    appendElement(signature, DS_NS, 'ds:SignatureValue', signatureValue.toString('base64'));
    appendElement(signature, DS_NS, 'ds:KeyInfo', (keyInfo) =>
      appendElement(keyInfo, WSSE_NS, 'wsse:SecurityTokenReference', (reference) =>
        appendElement(reference, WSSE_NS, 'wsse:Reference', undefined, {
          URI: `#${ids.token}`,
          ValueType: X509V3_VALUE_TYPE,
        }),
      ),
    );
    return { security, body: signedBody, timestamp: signedTimestamp, tokenId: ids.token };
  }

  /**
   * Wraps a response payload in a signed SOAP 1.1 envelope and returns its bytes: the same envelope
   * and signature as {@link sign} on the payload in an envelope (Header with the Security block, Body
   * with a `wsu:Id`), without a DOM. The Body is written once, in its exclusive canonical form
   * ({@link canonicalPayload} under the Body's own namespace declarations), and those bytes are both
   * digested and sent: canonical XML canonicalizes to itself, so a receiver canonicalizes the parsed
   * Body to the digested bytes. Timestamp and SignedInfo are written directly in their canonical form
   * too (every value in them is ours: Ids, instants, digests, algorithm URIs, the certificate in
   * base64), so what a receiver canonicalizes is what was digested and signed. Two digests, one
   * signature, no canonicalization pass.
   * @throws the signer's error when it fails
   */
  async signPayload(payload: PayloadElement): Promise<SignedEnvelopeBytes> {
    const suffix = randomUUID();
    const ids = { body: `id-${suffix}`, timestamp: `TS-${suffix}`, token: `X509-${suffix}` };
    const bodyCanonical = Buffer.from(
      `<soapenv:Body xmlns:soapenv="${SOAP11_NS}" xmlns:wsu="${WSU_NS}" wsu:Id="${ids.body}">` +
        canonicalPayload(payload, BODY_NAMESPACES) +
        '</soapenv:Body>',
      'utf8',
    );

    const created = this.clock.now();
    const expires = new Date(created.getTime() + this.timestampTtlMs);
    const timestamp =
      `<wsu:Timestamp xmlns:wsu="${WSU_NS}" wsu:Id="${ids.timestamp}">` +
      `<wsu:Created>${created.toISOString()}</wsu:Created><wsu:Expires>${expires.toISOString()}</wsu:Expires>` +
      '</wsu:Timestamp>';
    const timestampCanonical = Buffer.from(timestamp, 'utf8');
    const signedInfo =
      `<ds:SignedInfo xmlns:ds="${DS_NS}">` +
      `<ds:CanonicalizationMethod Algorithm="${EXC_C14N_ALGORITHM}"></ds:CanonicalizationMethod>` +
      `<ds:SignatureMethod Algorithm="${SIGNATURE_ALGORITHM_URIS['rsa-sha256']}"></ds:SignatureMethod>` +
      canonicalReference(ids.body, bodyCanonical) +
      canonicalReference(ids.timestamp, timestampCanonical) +
      '</ds:SignedInfo>';
    const signedInfoCanonical = Buffer.from(signedInfo, 'utf8');
    const signatureValue = await this.signer.sign(signedInfoCanonical);

    const header =
      `<soapenv:Header><wsse:Security xmlns:wsse="${WSSE_NS}" xmlns:wsu="${WSU_NS}">` +
      timestamp +
      `<wsse:BinarySecurityToken EncodingType="${BASE64_BINARY_ENCODING}" ValueType="${X509V3_VALUE_TYPE}" wsu:Id="${ids.token}">` +
      `${this.tokenText}</wsse:BinarySecurityToken>` +
      `<ds:Signature xmlns:ds="${DS_NS}" Id="SIG-${suffix}">${signedInfo}` +
      `<ds:SignatureValue>${signatureValue.toString('base64')}</ds:SignatureValue>` +
      `<ds:KeyInfo><wsse:SecurityTokenReference><wsse:Reference URI="#${ids.token}" ValueType="${X509V3_VALUE_TYPE}"/>` +
      '</wsse:SecurityTokenReference></ds:KeyInfo></ds:Signature></wsse:Security></soapenv:Header>';
    // The Body is sent as its canonical form: exc-c14n output is well-formed XML that canonicalizes to
    // itself, so a receiver digests exactly these bytes, and the Body is written once, not twice.
    const envelope = Buffer.concat([
      Buffer.from(`${XML_DECLARATION}<soapenv:Envelope xmlns:soapenv="${SOAP11_NS}">${header}`, 'utf8'),
      bodyCanonical,
      ENVELOPE_END,
    ]);
    return {
      envelope,
      body: { id: ids.body, canonical: bodyCanonical },
      timestamp: { id: ids.timestamp, canonical: timestampCanonical },
      tokenId: ids.token,
      signedInfo: signedInfoCanonical,
    };
  }
}

const ENVELOPE_END = Buffer.from('</soapenv:Envelope>', 'utf8');

/** What the response Body renders for its payload: its own prefix and that of its `wsu:Id`. */
const BODY_NAMESPACES: RenderedNamespaces = new Map([
  ['soapenv', SOAP11_NS],
  ['wsu', WSU_NS],
]);

/** A `ds:Reference` to `#id` (one exc-c14n transform, SHA-256) in its canonical form inside SignedInfo. */
function canonicalReference(id: string, canonicalBytes: Buffer): string {
  return (
    `<ds:Reference URI="#${id}"><ds:Transforms><ds:Transform Algorithm="${EXC_C14N_ALGORITHM}"></ds:Transform></ds:Transforms>` +
    `<ds:DigestMethod Algorithm="${DIGEST_ALGORITHM_URIS.sha256}"></ds:DigestMethod>` +
    `<ds:DigestValue>${digest(canonicalBytes)}</ds:DigestValue></ds:Reference>`
  );
}

/** exc-c14n (no InclusiveNamespaces) of an element in its document, as UTF-8. */
function canonical(element: Element): Buffer {
  return Buffer.from(canonicalizeExclusive(element, []), 'utf8');
}
