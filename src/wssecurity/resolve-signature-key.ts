import type { KeyObject } from 'node:crypto';
import type { Element } from '@xmldom/xmldom';
import { certificatePublicKey } from '../pki/certificate-public-key';
import { KnownCertificates } from '../pki/known-certificates';
import { ACCEPTED_EC_CURVES } from './algorithms';
import { attributeValue, childElements, describe, isElementNamed } from './dom';
import { idResolutionProblem } from './id-index';
import { DS_NS, THUMBPRINT_SHA1_VALUE_TYPE, WSSE_NS, X509_SKI_VALUE_TYPE } from './namespaces';
import { resolveIssuerSerial, resolveKeyIdentifier } from './resolve-known-certificate';
import type {
  BinarySecurityTokenFacts,
  IdMatch,
  PublicKeyFacts,
  SignatureKeyFacts,
  UnresolvedKeyForm,
} from './security-facts';

/** Keys beyond this size are not used: verifying with them costs more than any sender needs. */
export const MAX_RSA_MODULUS_BITS = 8192;

/** The key facts, and the key itself when it can verify. */
export interface ResolvedKey {
  facts: SignatureKeyFacts;
  /** The public key of the referenced certificate when it can verify (RSA, or EC on P-256/384/521). */
  publicKey: KeyObject | undefined;
}

function unresolved(form: UnresolvedKeyForm, reason: string, element?: Element): ResolvedKey {
  return { facts: { kind: 'unresolved', form, reason, element }, publicKey: undefined };
}

/**
 * Names the form of a KeyInfo child that is not a SecurityTokenReference (never resolved: the BSP wants
 * KeyInfo to hold one SecurityTokenReference), or of an STR child this service does not resolve.
 */
function classifyOtherKeyForm(element: Element): ResolvedKey {
  if (isElementNamed(element, WSSE_NS, 'KeyIdentifier')) {
    const valueType = attributeValue(element, null, 'ValueType');
    const form =
      valueType === THUMBPRINT_SHA1_VALUE_TYPE
        ? 'thumbprint'
        : valueType === X509_SKI_VALUE_TYPE
          ? 'subject-key-identifier'
          : 'key-identifier';
    return unresolved(form, 'a KeyIdentifier outside a SecurityTokenReference is not resolved', element);
  }
  if (isElementNamed(element, DS_NS, 'X509Data')) {
    return childElements(element).some((child) => isElementNamed(child, DS_NS, 'X509IssuerSerial'))
      ? unresolved(
          'issuer-serial',
          'an X509IssuerSerial outside a SecurityTokenReference is not resolved',
          element,
        )
      : unresolved('embedded', 'a key or certificate embedded in KeyInfo is never used', element);
  }
  if (isElementNamed(element, WSSE_NS, 'Embedded') || isElementNamed(element, DS_NS, 'KeyValue')) {
    return unresolved('embedded', 'a key or certificate embedded in KeyInfo is never used', element);
  }
  return unresolved('other', `${describe(element)} does not name a token of the Security header`, element);
}

/**
 * A certificate's public key: its facts, the key when it can verify, or why it cannot.
 * @param key the certificate's public key, undefined when the certificate is not readable
 */
function certificateKey(
  key: KeyObject | undefined,
  owner: string,
): { facts?: PublicKeyFacts; key?: KeyObject; problem?: string } {
  if (key === undefined) return { problem: `${owner} is not a readable X.509 certificate` };
  const type = key.asymmetricKeyType;
  const details = key.asymmetricKeyDetails;
  const facts: PublicKeyFacts = {
    type,
    modulusBits: type === 'rsa' ? details?.modulusLength : undefined,
    namedCurve: type === 'ec' ? details?.namedCurve : undefined,
  };
  if (type === 'rsa') {
    if ((facts.modulusBits ?? 0) > MAX_RSA_MODULUS_BITS) {
      return { facts, problem: `${owner}'s RSA key has more than ${MAX_RSA_MODULUS_BITS} bits` };
    }
    return { facts, key };
  }
  if (type === 'ec') {
    if (!ACCEPTED_EC_CURVES.includes(facts.namedCurve ?? '')) {
      return {
        facts,
        problem: `${owner}'s EC key is on curve ${facts.namedCurve ?? '(unknown)'}, not P-256/384/521`,
      };
    }
    return { facts, key };
  }
  return { facts, problem: `${owner}'s key is ${type ?? 'of an unknown type'}, neither RSA nor EC` };
}

/**
 * The public key of a token's certificate: its facts, the key when it can verify, or why it cannot. The
 * certificate is parsed once per distinct certificate (a known one at start-up, others on first use).
 */
function tokenKey(
  token: BinarySecurityTokenFacts,
  known: KnownCertificates,
): ReturnType<typeof certificateKey> {
  const der = token.certificateDer;
  if (der === undefined) return { problem: token.contentProblem ?? 'the token holds no certificate' };
  return certificateKey(known.byDer(der)?.publicKey ?? certificatePublicKey(der), 'the token');
}

/** Resolves an STR's `wsse:KeyIdentifier` or `ds:X509Data` to one of the known certificates. */
function resolveKnownCertificate(
  securityTokenReference: Element,
  reference: Element,
  known: KnownCertificates,
  ignoredKeyInfoChildren: Element[],
): ResolvedKey {
  const resolution = isElementNamed(reference, WSSE_NS, 'KeyIdentifier')
    ? resolveKeyIdentifier(reference, known)
    : resolveIssuerSerial(reference, known);
  if (!resolution.resolved) return unresolved(resolution.form, resolution.reason, reference);
  const { der: certificateDer, publicKey } = resolution.certificate;
  const key = certificateKey(publicKey, 'the referenced certificate');
  return {
    facts: {
      kind: 'known-certificate',
      referenceKind: resolution.referenceKind,
      securityTokenReference,
      reference,
      certificateDer,
      publicKey: key.facts,
      problem: key.problem,
      ignoredKeyInfoChildren,
    },
    publicKey: key.key,
  };
}

/**
 * Resolves the key of a signature the WS-Security way: `ds:KeyInfo` holds one
 * `wsse:SecurityTokenReference` whose single child is
 * - a `wsse:Reference` naming, by a `#id` URI that exactly one element of the whole envelope carries, a
 *   `wsse:BinarySecurityToken` of the same Security header (the key is that token's certificate's), or
 * - a `ds:X509Data/ds:X509IssuerSerial`, or a `wsse:KeyIdentifier` of ValueType X509SubjectKeyIdentifier
 *   or ThumbprintSHA1, naming exactly one of the `known` certificates (the key is that certificate's).
 * Nothing else is ever used: other KeyInfo children are reported and ignored; embedded certificates
 * and keys, and references that name no (or more than one) certificate, are reported as unresolved.
 * @param tokens the BinarySecurityTokens of the signature's own Security header
 * @param idMatches elements carrying a given Id in the whole envelope
 * @param known the certificates the service knows (RM_SENDER_CERTS_DIR)
 */
export function resolveSignatureKey(
  keyInfo: Element | undefined,
  tokens: readonly BinarySecurityTokenFacts[],
  idMatches: (id: string) => IdMatch[],
  known: KnownCertificates = KnownCertificates.none,
): ResolvedKey {
  if (keyInfo === undefined) return unresolved('no-key-info', 'the signature has no KeyInfo');
  const children = childElements(keyInfo);
  const references = children.filter((child) => isElementNamed(child, WSSE_NS, 'SecurityTokenReference'));
  if (references.length === 0) {
    return children.length > 0
      ? classifyOtherKeyForm(children[0])
      : unresolved('no-security-token-reference', 'KeyInfo has no SecurityTokenReference', keyInfo);
  }
  if (references.length > 1) {
    return unresolved('other', `KeyInfo has ${references.length} SecurityTokenReferences`, keyInfo);
  }
  const securityTokenReference = references[0];
  const strChildren = childElements(securityTokenReference);
  if (strChildren.length !== 1) {
    return unresolved(
      'other',
      `SecurityTokenReference has ${strChildren.length} child elements, not 1`,
      securityTokenReference,
    );
  }
  const reference = strChildren[0];
  const ignoredKeyInfoChildren = children.filter((child) => child !== securityTokenReference);
  if (isElementNamed(reference, WSSE_NS, 'KeyIdentifier') || isElementNamed(reference, DS_NS, 'X509Data')) {
    return resolveKnownCertificate(securityTokenReference, reference, known, ignoredKeyInfoChildren);
  }
  if (!isElementNamed(reference, WSSE_NS, 'Reference')) return classifyOtherKeyForm(reference);

  const uri = attributeValue(reference, null, 'URI');
  if (uri === undefined || !uri.startsWith('#') || uri.length === 1) {
    return unresolved(
      'direct-reference',
      `the token Reference URI ${uri ?? '(none)'} is not a same-document Id`,
      reference,
    );
  }
  const matches = idMatches(uri.slice(1));
  const problem = idResolutionProblem(uri.slice(1), matches);
  if (problem !== undefined) return unresolved('direct-reference', `token reference: ${problem}`, reference);
  const token = tokens.find((candidate) => candidate.element === matches[0].element);
  if (token === undefined) {
    return unresolved(
      'direct-reference',
      `${uri} is not a BinarySecurityToken of the same Security header`,
      reference,
    );
  }
  const key = tokenKey(token, known);
  return {
    facts: {
      kind: 'token-reference',
      securityTokenReference,
      reference,
      uri,
      valueType: attributeValue(reference, null, 'ValueType'),
      token,
      publicKey: key.facts,
      problem: key.problem,
      ignoredKeyInfoChildren,
    },
    publicKey: key.key,
  };
}
