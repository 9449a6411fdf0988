import { constants, createPrivateKey, sign, X509Certificate, createHash } from 'node:crypto';
import { DOMParser, XMLSerializer, type Document, type Element } from '@xmldom/xmldom';
import { findAncestorNs } from 'xml-crypto';
import { x509 } from '../../src/pki/crypto-engines';
import { CodePointOrderExclusiveCanonicalization } from '../../src/wssecurity/exclusive-c14n';

/*
 * Signs SOAP 1.1 envelopes the way Apache WSS4J does (X.509 token profile, "Timestamp Signature"
 * actions, direct reference, exc-c14n with InclusiveNamespaces), with options to produce the broken and
 * hostile variants the tests need. Test support only: it trusts its input.
 *
 * The digests and the signature use xml-crypto the way its SignedXml does (ancestor namespaces found
 * with `findAncestorNs`, `ExclusiveCanonicalization.process`), not the service's `canonicalizeExclusive`;
 * they share only the renderer class with the C14N sort order. xmlsec1 checks both independently
 * (test/wssecurity/xmlsec-interop.test.ts).
 */

const NS = {
  soap: 'http://schemas.xmlsoap.org/soap/envelope/',
  wsse: 'http://docs.oasis-open.org/wss/2004/01/oasis-200401-wss-wssecurity-secext-1.0.xsd',
  wsu: 'http://docs.oasis-open.org/wss/2004/01/oasis-200401-wss-wssecurity-utility-1.0.xsd',
  ds: 'http://www.w3.org/2000/09/xmldsig#',
  ec: 'http://www.w3.org/2001/10/xml-exc-c14n#',
  xmlns: 'http://www.w3.org/2000/xmlns/',
} as const;

/** URIs the signer writes. */
export const WSS_URIS = {
  excC14n: 'http://www.w3.org/2001/10/xml-exc-c14n#',
  x509v3: 'http://docs.oasis-open.org/wss/2004/01/oasis-200401-wss-x509-token-profile-1.0#X509v3',
  base64Binary:
    'http://docs.oasis-open.org/wss/2004/01/oasis-200401-wss-soap-message-security-1.0#Base64Binary',
  hmacSha1: 'http://www.w3.org/2000/09/xmldsig#hmac-sha1',
  skiValueType:
    'http://docs.oasis-open.org/wss/2004/01/oasis-200401-wss-x509-token-profile-1.0#X509SubjectKeyIdentifier',
  thumbprintValueType: 'http://docs.oasis-open.org/wss/oasis-wss-soap-message-security-1.1#ThumbprintSHA1',
  xpathTransform: 'http://www.w3.org/TR/1999/REC-xpath-19991116',
  xsltTransform: 'http://www.w3.org/TR/1999/REC-xslt-19991116',
} as const;

export type SignatureAlgorithmOption =
  'rsa-sha256' | 'rsa-sha1' | 'rsa-sha512' | 'ecdsa-sha256' | 'ecdsa-sha512';

/**
 * How KeyInfo names the signing certificate, as WSS4J 1.6's `setKeyIdentifierType` does: `bst`
 * (BST_DIRECT_REFERENCE, the default), `issuer-serial` (ISSUER_SERIAL), `ski` (SKI_KEY_IDENTIFIER),
 * `thumbprint` (THUMBPRINT_IDENTIFIER); the last three put no BinarySecurityToken in the header.
 */
export type KeyReferenceOption = 'bst' | 'issuer-serial' | 'ski' | 'thumbprint';
export type DigestAlgorithmOption = 'sha256' | 'sha1' | 'sha512';

const SIGNATURE_METHODS: Record<SignatureAlgorithmOption, { uri: string; hash: string }> = {
  'rsa-sha1': { uri: 'http://www.w3.org/2000/09/xmldsig#rsa-sha1', hash: 'sha1' },
  'rsa-sha256': { uri: 'http://www.w3.org/2001/04/xmldsig-more#rsa-sha256', hash: 'sha256' },
  'rsa-sha512': { uri: 'http://www.w3.org/2001/04/xmldsig-more#rsa-sha512', hash: 'sha512' },
  'ecdsa-sha256': { uri: 'http://www.w3.org/2001/04/xmldsig-more#ecdsa-sha256', hash: 'sha256' },
  'ecdsa-sha512': { uri: 'http://www.w3.org/2001/04/xmldsig-more#ecdsa-sha512', hash: 'sha512' },
};

const DIGEST_METHODS: Record<DigestAlgorithmOption, { uri: string; hash: string }> = {
  sha1: { uri: 'http://www.w3.org/2000/09/xmldsig#sha1', hash: 'sha1' },
  sha256: { uri: 'http://www.w3.org/2001/04/xmlenc#sha256', hash: 'sha256' },
  sha512: { uri: 'http://www.w3.org/2001/04/xmlenc#sha512', hash: 'sha512' },
};

/** The Ids the signer gives the elements it signs, unless told otherwise. */
export const DEFAULT_WSS_IDS = {
  body: 'id-body-1',
  timestamp: 'TS-1',
  token: 'X509-1',
  signature: 'SIG-1',
} as const;

export interface WssSignOptions {
  /** PEM private key matching {@link certPem}. */
  keyPem: string;
  /** PEM certificate put in the BinarySecurityToken. */
  certPem: string;
  /** Timestamp Created; default now (wall clock): tests pass their ManualClock's time. */
  created?: Date;
  /** Expires = Created + this; default 300; `null` writes no Expires. */
  expiresInSeconds?: number | null;
  /** Sign the BinarySecurityToken too (WSS4J does, zeep does not); default true. */
  signToken?: boolean;
  /** Sign the Body; default true. */
  signBody?: boolean;
  /** Sign the Timestamp; default true. */
  signTimestamp?: boolean;
  signatureAlgorithm?: SignatureAlgorithmOption;
  digestAlgorithm?: DigestAlgorithmOption;
  /** Write InclusiveNamespaces PrefixLists as WSS4J does (the ancestors' prefixes); default true. */
  inclusivePrefixes?: boolean;
  /** How the Body carries its Id: `wsu:Id` (WSS4J, default) or an unqualified `Id`. */
  bodyIdAttribute?: 'wsu:Id' | 'Id';
  /** Ids of the signed elements; see {@link DEFAULT_WSS_IDS}. */
  ids?: Partial<Record<keyof typeof DEFAULT_WSS_IDS, string>>;
  /** Adds this many extra header elements (each with a wsu:Id) and signs them all. */
  extraSignedHeaders?: number;
  /** Adds no mustUnderstand to the Security header (zeep-like); default false. */
  omitMustUnderstand?: boolean;
  /** How KeyInfo names the certificate; default `bst`. */
  keyReference?: KeyReferenceOption;

  // ---- Broken or hostile variants ----
  /** Signs SignedInfo with this key instead of {@link keyPem} (the token still carries {@link certPem}). */
  signingKeyPem?: string;
  /** Writes this SignatureMethod URI (the value is still computed with {@link signatureAlgorithm}). */
  signatureMethodUri?: string;
  /** Writes this URI as every reference's Transform (digests are still exc-c14n); XPath gets an XPath child. */
  transformUri?: string;
  /**
   * Writes each reference's Transform this many times (default 1). With exc-c14n, applying it again
   * changes nothing, so the digests and the SignatureValue stay valid: a signer that asks for work.
   */
  transformsPerReference?: number;
  /**
   * Adds a Reference with each of these URIs as written (`""`, `#xpointer(...)`, `http://...`), after
   * the others and covered by the SignatureValue; the signer never dereferences them, so their
   * DigestValue is the SHA-256 of nothing.
   */
  extraReferenceUris?: string[];
  /** Adds a `ds:X509Data/ds:X509Certificate` with this PEM certificate to KeyInfo, after the STR. */
  extraKeyInfoCertPem?: string;
  /** Replaces KeyInfo's content with this XML (namespaces ds, wsse, wsu are in scope). */
  keyInfoXml?: string;
  /** Raw text of Created (e.g. a non-UTC time), instead of {@link created}. */
  createdText?: string;
  /** Raw text of Expires. */
  expiresText?: string;
  /** With `issuer-serial`: this X509IssuerName text instead of the issuer's RFC 2253 name. */
  issuerNameText?: string;
  /** With `issuer-serial`: this X509SerialNumber text instead of the certificate's serial number. */
  serialNumberText?: string;
  /** With `ski` or `thumbprint`: these KeyIdentifier bytes instead of the certificate's. */
  keyIdentifierBytes?: Buffer;
  /** With a `keyReference` other than `bst`: a BinarySecurityToken of {@link certPem} all the same. */
  includeUnreferencedToken?: boolean;
}

function pemToDer(pem: string): Buffer {
  return Buffer.from(new X509Certificate(pem).raw);
}

function el(
  document: Document,
  namespace: string,
  qualifiedName: string,
  attributes: Record<string, string> = {},
) {
  const element = document.createElementNS(namespace, qualifiedName);
  for (const [name, value] of Object.entries(attributes)) element.setAttribute(name, value);
  return element;
}

function declare(element: Element, prefix: string, namespace: string): void {
  element.setAttributeNS(NS.xmlns, `xmlns:${prefix}`, namespace);
}

function childNamed(parent: Element, namespace: string, localName: string): Element | undefined {
  for (let child = parent.firstChild; child; child = child.nextSibling) {
    if (child.nodeType === 1) {
      const element = child as Element;
      if (element.namespaceURI === namespace && element.localName === localName) return element;
    }
  }
  return undefined;
}

/** The element carrying `wsu:Id` or `Id` equal to `id` (the signer's own Ids are unique). */
function elementWithId(document: Document, id: string): Element {
  const elements = document.getElementsByTagName('*');
  for (let i = 0; i < elements.length; i += 1) {
    const element = elements.item(i) as Element;
    if (element.getAttributeNS(NS.wsu, 'Id') === id || element.getAttribute('Id') === id) return element;
  }
  throw new Error(`signEnvelope: no element with Id ${id}`);
}

/** A certificate's issuer as Java's `X500Principal.getName()` (RFC 2253) writes it, which WSS4J copies. */
export function rfc2253IssuerName(certPem: string): string {
  const escape = (value: string) =>
    value
      .replace(/[,+"\\<>;]/g, (special) => `\\${special}`)
      .replace(/^([ #])/, '\\$1')
      .replace(/ $/, '\\ ');
  return new x509.X509Certificate(certPem).issuerName
    .toJSON()
    .map((rdn) =>
      Object.entries(rdn)
        .flatMap(([type, values]) =>
          values.map((value) => `${type}=${value.startsWith('#') ? value : escape(value)}`),
        )
        .join('+'),
    )
    .reverse()
    .join(',');
}

/** The bits of an SPKI's subjectPublicKey BIT STRING (short- or long-form DER lengths). */
function subjectPublicKeyBits(spki: Buffer): Buffer {
  let offset = 0;
  const header = (): number => {
    const first = spki[offset + 1];
    const octets = first & 0x80 ? first & 0x7f : 0;
    const length = octets === 0 ? first : spki.readUIntBE(offset + 2, octets);
    offset += 2 + octets;
    return length;
  };
  header(); // SubjectPublicKeyInfo SEQUENCE
  const algorithmLength = header(); // AlgorithmIdentifier, skipped
  offset += algorithmLength;
  const length = header(); // BIT STRING
  return spki.subarray(offset + 1, offset + length);
}

/**
 * A certificate's subject key identifier as WSS4J 1.6 sends it: the extension's value, or without one
 * SHA-1 of the subjectPublicKey bits.
 */
export function wss4jSubjectKeyIdentifier(certPem: string): Buffer {
  const certificate = new x509.X509Certificate(certPem);
  const extension = certificate.getExtension(x509.SubjectKeyIdentifierExtension);
  if (extension) return Buffer.from(extension.keyId, 'hex');
  return createHash('sha1')
    .update(subjectPublicKeyBits(Buffer.from(certificate.publicKey.rawData)))
    .digest();
}

/** The content of KeyInfo's SecurityTokenReference for a {@link KeyReferenceOption} other than `bst`. */
function keyIdentifierElement(document: Document, options: WssSignOptions): Element {
  const reference = options.keyReference ?? 'bst';
  if (reference === 'issuer-serial') {
    const data = el(document, NS.ds, 'ds:X509Data');
    const issuerSerial = el(document, NS.ds, 'ds:X509IssuerSerial');
    const issuerName = el(document, NS.ds, 'ds:X509IssuerName');
    issuerName.appendChild(
      document.createTextNode(options.issuerNameText ?? rfc2253IssuerName(options.certPem)),
    );
    const serialNumber = el(document, NS.ds, 'ds:X509SerialNumber');
    const serial = BigInt(`0x${new X509Certificate(options.certPem).serialNumber}`).toString();
    serialNumber.appendChild(document.createTextNode(options.serialNumberText ?? serial));
    issuerSerial.appendChild(issuerName);
    issuerSerial.appendChild(serialNumber);
    data.appendChild(issuerSerial);
    return data;
  }
  const bytes =
    options.keyIdentifierBytes ??
    (reference === 'ski'
      ? wss4jSubjectKeyIdentifier(options.certPem)
      : createHash('sha1').update(pemToDer(options.certPem)).digest());
  const keyIdentifier = el(document, NS.wsse, 'wsse:KeyIdentifier', {
    EncodingType: WSS_URIS.base64Binary,
    ValueType: reference === 'ski' ? WSS_URIS.skiValueType : WSS_URIS.thumbprintValueType,
  });
  keyIdentifier.appendChild(document.createTextNode(bytes.toString('base64')));
  return keyIdentifier;
}

/** WSS4J's InclusiveNamespaces: prefixes declared on the ancestors that the element does not use itself. */
function inclusivePrefixesOf(element: Element): string[] {
  const visible = new Set<string>([element.prefix ?? '']);
  for (let i = 0; i < element.attributes.length; i += 1) {
    const attribute = element.attributes.item(i);
    if (attribute?.prefix && attribute.prefix !== 'xmlns') visible.add(attribute.prefix);
  }
  const prefixes: string[] = [];
  for (let parent = element.parentNode; parent && parent.nodeType === 1; parent = parent.parentNode) {
    const ancestor = parent as Element;
    for (let i = 0; i < ancestor.attributes.length; i += 1) {
      const name = ancestor.attributes.item(i)?.nodeName ?? '';
      if (!name.startsWith('xmlns:')) continue;
      const prefix = name.slice('xmlns:'.length);
      if (!visible.has(prefix) && !prefixes.includes(prefix)) prefixes.push(prefix);
    }
  }
  return prefixes;
}

/** exc-c14n of an element in its document, as xml-crypto's SignedXml computes it. */
function canonicalize(document: Document, element: Element, prefixes: string[]): string {
  const id = element.getAttributeNS(NS.wsu, 'Id') || element.getAttribute('Id') || '';
  const ancestorNamespaces = id
    ? findAncestorNs(document as never, `//*[@*[local-name(.)='Id']='${id}']`)
    : findAncestorNs(document as never, "//*[local-name(.)='SignedInfo']");
  const clone = element.cloneNode(true) as Element;
  return new CodePointOrderExclusiveCanonicalization().process(clone as never, {
    inclusiveNamespacesPrefixList: prefixes,
    ancestorNamespaces,
  });
}

function c14nMethod(
  document: Document,
  tag: string,
  prefixes: string[] | undefined,
  algorithm: string,
): Element {
  const element = el(document, NS.ds, tag, { Algorithm: algorithm });
  if (algorithm === WSS_URIS.xpathTransform) {
    const xpath = el(document, NS.ds, 'ds:XPath');
    xpath.appendChild(document.createTextNode('not(ancestor-or-self::node()[@Id])'));
    element.appendChild(xpath);
  } else if (prefixes !== undefined && algorithm === WSS_URIS.excC14n) {
    const inclusive = el(document, NS.ec, 'ec:InclusiveNamespaces', { PrefixList: prefixes.join(' ') });
    declare(inclusive, 'ec', NS.ec);
    element.appendChild(inclusive);
  }
  return element;
}

/**
 * Adds a WS-Security header to a SOAP 1.1 envelope and signs it as WSS4J does: `wsse:Security`
 * (mustUnderstand="1") holding the BinarySecurityToken (X509v3, Base64Binary, wsu:Id), a `ds:Signature`
 * (exc-c14n SignedInfo, one exc-c14n transform per reference, KeyInfo with a SecurityTokenReference to
 * the token) and a `wsu:Timestamp`; the Body gets a `wsu:Id`.
 * @returns the signed envelope as text
 */
export function signEnvelope(envelopeXml: string, options: WssSignOptions): string {
  const ids = { ...DEFAULT_WSS_IDS, ...options.ids };
  const signatureMethod = SIGNATURE_METHODS[options.signatureAlgorithm ?? 'rsa-sha256'];
  const digestMethod = DIGEST_METHODS[options.digestAlgorithm ?? 'sha256'];
  const withPrefixes = options.inclusivePrefixes ?? true;
  const document = new DOMParser().parseFromString(envelopeXml, 'text/xml');
  const envelope = document.documentElement as Element;
  const soap = envelope.prefix ? `${envelope.prefix}:` : '';
  const body = childNamed(envelope, NS.soap, 'Body');
  if (!body) throw new Error('signEnvelope: no SOAP 1.1 Body');
  let header = childNamed(envelope, NS.soap, 'Header');
  if (!header) {
    header = el(document, NS.soap, `${soap}Header`);
    envelope.insertBefore(header, body);
  }

  if ((options.bodyIdAttribute ?? 'wsu:Id') === 'wsu:Id') {
    declare(body, 'wsu', NS.wsu);
    body.setAttributeNS(NS.wsu, 'wsu:Id', ids.body);
  } else {
    body.setAttribute('Id', ids.body);
  }

  const security = el(document, NS.wsse, 'wsse:Security');
  declare(security, 'wsse', NS.wsse);
  declare(security, 'wsu', NS.wsu);
  if (!options.omitMustUnderstand) security.setAttributeNS(NS.soap, `${soap}mustUnderstand`, '1');
  header.insertBefore(security, header.firstChild);

  const directReference = (options.keyReference ?? 'bst') === 'bst';
  const withToken = directReference || options.includeUnreferencedToken === true;
  if (withToken) {
    const token = el(document, NS.wsse, 'wsse:BinarySecurityToken', {
      EncodingType: WSS_URIS.base64Binary,
      ValueType: WSS_URIS.x509v3,
    });
    token.setAttributeNS(NS.wsu, 'wsu:Id', ids.token);
    token.appendChild(document.createTextNode(pemToDer(options.certPem).toString('base64')));
    security.appendChild(token);
  }

  const created = options.created ?? new Date();
  const timestamp = el(document, NS.wsu, 'wsu:Timestamp');
  timestamp.setAttributeNS(NS.wsu, 'wsu:Id', ids.timestamp);
  const createdElement = el(document, NS.wsu, 'wsu:Created');
  createdElement.appendChild(document.createTextNode(options.createdText ?? created.toISOString()));
  timestamp.appendChild(createdElement);
  const expiresInSeconds = options.expiresInSeconds === undefined ? 300 : options.expiresInSeconds;
  if (expiresInSeconds !== null || options.expiresText !== undefined) {
    const expires = el(document, NS.wsu, 'wsu:Expires');
    const expiresAt = new Date(created.getTime() + (expiresInSeconds ?? 300) * 1000);
    expires.appendChild(document.createTextNode(options.expiresText ?? expiresAt.toISOString()));
    timestamp.appendChild(expires);
  }

  const extras: Element[] = [];
  for (let i = 0; i < (options.extraSignedHeaders ?? 0); i += 1) {
    const extra = el(document, 'urn:test:extra', 'ext:Extra');
    declare(extra, 'ext', 'urn:test:extra');
    declare(extra, 'wsu', NS.wsu);
    extra.setAttributeNS(NS.wsu, 'wsu:Id', `extra-${i + 1}`);
    header.appendChild(extra);
    extras.push(extra);
  }

  const signature = el(document, NS.ds, 'ds:Signature', { Id: ids.signature });
  declare(signature, 'ds', NS.ds);
  security.appendChild(signature);
  security.appendChild(timestamp);
  const signedInfo = el(document, NS.ds, 'ds:SignedInfo');
  signature.appendChild(signedInfo);
  const c14n = c14nMethod(
    document,
    'ds:CanonicalizationMethod',
    withPrefixes ? [] : undefined,
    WSS_URIS.excC14n,
  );
  signedInfo.appendChild(c14n);
  signedInfo.appendChild(
    el(document, NS.ds, 'ds:SignatureMethod', {
      Algorithm: options.signatureMethodUri ?? signatureMethod.uri,
    }),
  );

  const signedIds: string[] = [];
  if (options.signTimestamp ?? true) signedIds.push(ids.timestamp);
  if (options.signBody ?? true) signedIds.push(ids.body);
  if (withToken && (options.signToken ?? directReference)) signedIds.push(ids.token);
  for (const extra of extras) signedIds.push(extra.getAttributeNS(NS.wsu, 'Id') ?? '');

  const keyInfo = el(document, NS.ds, 'ds:KeyInfo', { Id: 'KI-1' });
  signature.appendChild(el(document, NS.ds, 'ds:SignatureValue'));
  signature.appendChild(keyInfo);
  if (options.keyInfoXml !== undefined) {
    const fragment = new DOMParser().parseFromString(
      `<wrap xmlns:ds="${NS.ds}" xmlns:wsse="${NS.wsse}" xmlns:wsu="${NS.wsu}">${options.keyInfoXml}</wrap>`,
      'text/xml',
    );
    for (let child = fragment.documentElement?.firstChild; child; child = child.nextSibling) {
      keyInfo.appendChild(document.importNode(child, true));
    }
  } else {
    const str = el(document, NS.wsse, 'wsse:SecurityTokenReference');
    str.setAttributeNS(NS.wsu, 'wsu:Id', 'STR-1');
    str.appendChild(
      directReference
        ? el(document, NS.wsse, 'wsse:Reference', { URI: `#${ids.token}`, ValueType: WSS_URIS.x509v3 })
        : keyIdentifierElement(document, options),
    );
    keyInfo.appendChild(str);
  }
  if (options.extraKeyInfoCertPem !== undefined) {
    const data = el(document, NS.ds, 'ds:X509Data');
    const certificate = el(document, NS.ds, 'ds:X509Certificate');
    certificate.appendChild(
      document.createTextNode(pemToDer(options.extraKeyInfoCertPem).toString('base64')),
    );
    data.appendChild(certificate);
    keyInfo.appendChild(data);
  }

  // Every element is in place. Digests are computed on the envelope as a receiver will parse it: the
  // serializer writes some characters (a carriage return in text) that parsing then normalizes.
  const final = new DOMParser().parseFromString(new XMLSerializer().serializeToString(document), 'text/xml');
  const finalSignedInfo = final.getElementsByTagNameNS(NS.ds, 'SignedInfo').item(0) as Element;
  for (const id of signedIds) {
    const element = elementWithId(final, id);
    const prefixes = withPrefixes ? inclusivePrefixesOf(element) : undefined;
    const reference = el(final, NS.ds, 'ds:Reference', { URI: `#${id}` });
    const transforms = el(final, NS.ds, 'ds:Transforms');
    for (let i = 0; i < (options.transformsPerReference ?? 1); i += 1) {
      transforms.appendChild(
        c14nMethod(final, 'ds:Transform', prefixes, options.transformUri ?? WSS_URIS.excC14n),
      );
    }
    reference.appendChild(transforms);
    reference.appendChild(el(final, NS.ds, 'ds:DigestMethod', { Algorithm: digestMethod.uri }));
    const digest = createHash(digestMethod.hash).update(canonicalize(final, element, prefixes ?? []), 'utf8');
    const digestValue = el(final, NS.ds, 'ds:DigestValue');
    digestValue.appendChild(final.createTextNode(digest.digest('base64')));
    reference.appendChild(digestValue);
    finalSignedInfo.appendChild(reference);
  }
  for (const uri of options.extraReferenceUris ?? []) {
    const reference = el(final, NS.ds, 'ds:Reference', { URI: uri });
    const transforms = el(final, NS.ds, 'ds:Transforms');
    transforms.appendChild(c14nMethod(final, 'ds:Transform', undefined, WSS_URIS.excC14n));
    reference.appendChild(transforms);
    reference.appendChild(el(final, NS.ds, 'ds:DigestMethod', { Algorithm: digestMethod.uri }));
    const digestValue = el(final, NS.ds, 'ds:DigestValue');
    digestValue.appendChild(final.createTextNode(createHash(digestMethod.hash).digest('base64')));
    reference.appendChild(digestValue);
    finalSignedInfo.appendChild(reference);
  }
  if (withPrefixes) {
    const prefixList = inclusivePrefixesOf(finalSignedInfo).join(' ');
    (childNamed(finalSignedInfo, NS.ds, 'CanonicalizationMethod')?.firstChild as Element).setAttribute(
      'PrefixList',
      prefixList,
    );
  }

  const signedInfoC14n = canonicalize(
    final,
    finalSignedInfo,
    withPrefixes ? inclusivePrefixesOf(finalSignedInfo) : [],
  );
  const signingKey = createPrivateKey(options.signingKeyPem ?? options.keyPem);
  // RSA keys sign as RSASSA-PKCS1-v1_5; EC keys as ECDSA, r || s (IEEE P1363) as XML Signature wants it
  // under an ECDSA method, DER under any other (for tests of a method that does not fit the key).
  const ecdsaMethod = signatureMethod.uri.includes('#ecdsa-');
  const keyOptions =
    signingKey.asymmetricKeyType === 'rsa'
      ? { padding: constants.RSA_PKCS1_PADDING }
      : { dsaEncoding: ecdsaMethod ? ('ieee-p1363' as const) : ('der' as const) };
  const value = sign(signatureMethod.hash, Buffer.from(signedInfoC14n, 'utf8'), {
    key: signingKey,
    ...keyOptions,
  });
  const signatureValue = final.getElementsByTagNameNS(NS.ds, 'SignatureValue').item(0) as Element;
  signatureValue.appendChild(final.createTextNode(value.toString('base64')));
  return new XMLSerializer().serializeToString(final);
}
