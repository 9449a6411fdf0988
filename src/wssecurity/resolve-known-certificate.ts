import type { Element } from '@xmldom/xmldom';
import type { KnownCertificate, KnownCertificates } from '../pki/known-certificates';
import { decodeBase64Binary } from '../xml/base64-binary';
import {
  attributeValue,
  childElements,
  describe,
  directText,
  hasOnlyTextChildren,
  isElementNamed,
} from './dom';
import { BASE64_BINARY_ENCODING, DS_NS, THUMBPRINT_SHA1_VALUE_TYPE, X509_SKI_VALUE_TYPE } from './namespaces';
import type { KnownCertificateReferenceKind, UnresolvedKeyForm } from './security-facts';

/*
 * The SecurityTokenReference forms that name a certificate without carrying it, resolved against the
 * certificates the service knows: `ds:X509Data/ds:X509IssuerSerial` (WSS4J's ISSUER_SERIAL) and
 * `wsse:KeyIdentifier` of ValueType X509SubjectKeyIdentifier (SKI_KEY_IDENTIFIER) or ThumbprintSHA1
 * (THUMBPRINT_IDENTIFIER).
 */

/** The one known certificate a reference names, or why there is none. */
export type KnownCertificateResolution =
  | { resolved: true; referenceKind: KnownCertificateReferenceKind; certificate: KnownCertificate }
  | { resolved: false; form: UnresolvedKeyForm; reason: string };

/** Serial numbers are at most 20 octets (RFC 5280): 49 decimal digits. Longer text is not a serial. */
const MAX_SERIAL_DIGITS = 64;
const DECIMAL_INTEGER = /^[ \t\r\n]*(-?)([0-9]+)[ \t\r\n]*$/;
/** A SHA-1 digest: the length of a ThumbprintSHA1 (and of most subject key identifiers). */
const SHA1_LENGTH = 20;

function unresolved(form: UnresolvedKeyForm, reason: string): KnownCertificateResolution {
  return { resolved: false, form, reason };
}

/** Exactly one match resolves; none or several do not. */
function single(
  referenceKind: KnownCertificateReferenceKind,
  matches: KnownCertificate[],
  what: string,
): KnownCertificateResolution {
  if (matches.length === 1) return { resolved: true, referenceKind, certificate: matches[0] };
  return unresolved(
    referenceKind,
    matches.length === 0
      ? `no known certificate has this ${what}`
      : `${matches.length} known certificates have this ${what}`,
  );
}

/**
 * Resolves a `wsse:KeyIdentifier` (a child of a SecurityTokenReference): ValueType X509SubjectKeyIdentifier
 * or ThumbprintSHA1, EncodingType Base64Binary (as BSP R3070/R3071 and WSS4J require), base64 text only.
 */
export function resolveKeyIdentifier(
  keyIdentifier: Element,
  known: KnownCertificates,
): KnownCertificateResolution {
  const valueType = attributeValue(keyIdentifier, null, 'ValueType');
  const kind: KnownCertificateReferenceKind | undefined =
    valueType === X509_SKI_VALUE_TYPE
      ? 'subject-key-identifier'
      : valueType === THUMBPRINT_SHA1_VALUE_TYPE
        ? 'thumbprint'
        : undefined;
  if (kind === undefined) {
    return unresolved(
      'key-identifier',
      `a KeyIdentifier of ValueType ${valueType ?? '(none)'} is not resolved`,
    );
  }
  const encodingType = attributeValue(keyIdentifier, null, 'EncodingType');
  if (encodingType !== BASE64_BINARY_ENCODING) {
    return unresolved(kind, `the KeyIdentifier EncodingType ${encodingType ?? '(none)'} is not Base64Binary`);
  }
  const bytes = hasOnlyTextChildren(keyIdentifier)
    ? decodeBase64Binary(directText(keyIdentifier))
    : undefined;
  if (bytes === undefined || bytes.length === 0) return unresolved(kind, 'the KeyIdentifier is not base64');
  if (kind === 'thumbprint') {
    if (bytes.length !== SHA1_LENGTH) return unresolved(kind, 'the ThumbprintSHA1 is not 20 bytes');
    return single(kind, known.byThumbprintSha1(bytes), 'SHA-1 thumbprint');
  }
  return single(kind, known.bySubjectKeyIdentifier(bytes), 'subject key identifier');
}

/**
 * Resolves a `ds:X509Data` (a child of a SecurityTokenReference) holding exactly one
 * `ds:X509IssuerSerial` of `ds:X509IssuerName` (a distinguished name string) then `ds:X509SerialNumber`
 * (a decimal integer). A certificate or anything else in X509Data is never used.
 */
export function resolveIssuerSerial(x509Data: Element, known: KnownCertificates): KnownCertificateResolution {
  const children = childElements(x509Data);
  const issuerSerial = children[0];
  if (children.length !== 1 || !isElementNamed(issuerSerial, DS_NS, 'X509IssuerSerial')) {
    return children.some((child) => isElementNamed(child, DS_NS, 'X509IssuerSerial'))
      ? unresolved('issuer-serial', 'X509Data holds something besides one X509IssuerSerial')
      : unresolved('embedded', 'a certificate or key embedded in KeyInfo is never used');
  }
  const [issuerName, serialNumber, ...rest] = childElements(issuerSerial);
  if (
    !issuerName ||
    !serialNumber ||
    rest.length > 0 ||
    !isElementNamed(issuerName, DS_NS, 'X509IssuerName') ||
    !isElementNamed(serialNumber, DS_NS, 'X509SerialNumber')
  ) {
    return unresolved(
      'issuer-serial',
      `X509IssuerSerial must hold X509IssuerName then X509SerialNumber, holds ${
        childElements(issuerSerial).map(describe).join(', ') || 'nothing'
      }`,
    );
  }
  if (!hasOnlyTextChildren(issuerName) || !hasOnlyTextChildren(serialNumber)) {
    return unresolved('issuer-serial', 'X509IssuerName and X509SerialNumber must hold text only');
  }
  const serial = DECIMAL_INTEGER.exec(directText(serialNumber));
  if (!serial || serial[2].length > MAX_SERIAL_DIGITS) {
    return unresolved('issuer-serial', 'X509SerialNumber is not a decimal integer');
  }
  const value = BigInt(`${serial[1]}${serial[2]}`);
  return single(
    'issuer-serial',
    known.byIssuerSerial(directText(issuerName), value),
    'issuer and serial number',
  );
}
