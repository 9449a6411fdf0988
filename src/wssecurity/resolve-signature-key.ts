import { X509Certificate, type KeyObject } from 'node:crypto';
import type { Element } from '@xmldom/xmldom';
import { attributeValue, childElements, describe, isElementNamed } from './dom';
import { idResolutionProblem } from './id-index';
import { DS_NS, THUMBPRINT_SHA1_VALUE_TYPE, WSSE_NS } from './namespaces';
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
  /** The RSA public key of the referenced token's certificate; undefined when there is none. */
  publicKey: KeyObject | undefined;
}

function unresolved(form: UnresolvedKeyForm, reason: string, element?: Element): ResolvedKey {
  return { facts: { kind: 'unresolved', form, reason, element }, publicKey: undefined };
}

/** Names the form of a key reference this service does not resolve. */
function classifyOtherKeyForm(element: Element): ResolvedKey {
  if (isElementNamed(element, WSSE_NS, 'KeyIdentifier')) {
    const valueType = attributeValue(element, null, 'ValueType');
    return valueType === THUMBPRINT_SHA1_VALUE_TYPE
      ? unresolved('thumbprint', 'a thumbprint KeyIdentifier is not resolved', element)
      : unresolved(
          'key-identifier',
          `a KeyIdentifier (${valueType ?? 'no ValueType'}) is not resolved`,
          element,
        );
  }
  if (isElementNamed(element, DS_NS, 'X509Data')) {
    return childElements(element).some((child) => isElementNamed(child, DS_NS, 'X509IssuerSerial'))
      ? unresolved('issuer-serial', 'an X509IssuerSerial reference is not resolved', element)
      : unresolved('embedded', 'a key or certificate embedded in KeyInfo is never used', element);
  }
  if (isElementNamed(element, WSSE_NS, 'Embedded') || isElementNamed(element, DS_NS, 'KeyValue')) {
    return unresolved('embedded', 'a key or certificate embedded in KeyInfo is never used', element);
  }
  return unresolved('other', `${describe(element)} does not name a token of the Security header`, element);
}

/** The public key of a token's certificate: its facts, the key when it is RSA, or why it cannot verify. */
function tokenKey(token: BinarySecurityTokenFacts): {
  facts?: PublicKeyFacts;
  key?: KeyObject;
  problem?: string;
} {
  if (token.certificateDer === undefined)
    return { problem: token.contentProblem ?? 'the token holds no certificate' };
  let key: KeyObject;
  try {
    key = new X509Certificate(token.certificateDer).publicKey;
  } catch {
    return { problem: 'the token is not a readable X.509 certificate' };
  }
  const type = key.asymmetricKeyType;
  const facts = { type, modulusBits: type === 'rsa' ? key.asymmetricKeyDetails?.modulusLength : undefined };
  // An EC key would make an "RSA" signature method verify as ECDSA: only plain RSA keys verify here.
  if (type !== 'rsa')
    return { facts, problem: `the token's key is ${type ?? 'of an unknown type'}, not RSA` };
  if ((facts.modulusBits ?? 0) > MAX_RSA_MODULUS_BITS) {
    return { facts, problem: `the token's RSA key has more than ${MAX_RSA_MODULUS_BITS} bits` };
  }
  return { facts, key };
}

/**
 * Resolves the key of a signature the WS-Security way: `ds:KeyInfo` holds one
 * `wsse:SecurityTokenReference` whose `wsse:Reference` names, by a `#id` URI that exactly one element of
 * the whole envelope carries, a `wsse:BinarySecurityToken` of the same Security header. The key is that
 * token certificate's public key and nothing else: other KeyInfo children are reported and ignored;
 * key identifiers, issuer-serial and embedded keys are reported as unresolved.
 * @param tokens the BinarySecurityTokens of the signature's own Security header
 * @param idMatches elements carrying a given Id in the whole envelope
 */
export function resolveSignatureKey(
  keyInfo: Element | undefined,
  tokens: readonly BinarySecurityTokenFacts[],
  idMatches: (id: string) => IdMatch[],
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
  const key = tokenKey(token);
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
      ignoredKeyInfoChildren: children.filter((child) => child !== securityTokenReference),
    },
    publicKey: key.key,
  };
}
