import type { Element } from '@xmldom/xmldom';
import { digestAlgorithmNamed, EXC_C14N_ALGORITHM, signatureAlgorithmNamed } from './algorithms';
import { decodeBase64Binary } from '../xml/base64-binary';
import {
  attributeValue,
  childElements,
  describe,
  directText,
  hasNonWhitespaceText,
  hasOnlyTextChildren,
  isElementNamed,
} from './dom';
import { matchSequence } from './element-sequence';
import { DS_NS, EXC_C14N_NS } from './namespaces';
import type { CanonicalizationFact, ReferenceFacts, SignatureFacts } from './security-facts';

/** Bounds on what one signature may ask the processing to compute. */
export interface SignatureLimits {
  maxReferences: number;
  maxTransformsPerReference: number;
}

/** A signature's facts as read from its own elements, before its references and key are resolved. */
export interface SignatureReading {
  facts: SignatureFacts;
  /** The `ds:KeyInfo`, when there is exactly one. */
  keyInfo: Element | undefined;
}

const one = (localName: string) => ({ namespace: DS_NS, localName, min: 1, max: 1 });

/** Reads a `ds:CanonicalizationMethod` or `ds:Transform`: its algorithm and InclusiveNamespaces. */
function readCanonicalization(element: Element): CanonicalizationFact {
  const uri = attributeValue(element, null, 'Algorithm');
  const fact: CanonicalizationFact = {
    element,
    uri,
    supported: uri === EXC_C14N_ALGORITHM ? 'exc-c14n' : undefined,
    inclusivePrefixes: [],
    problem: undefined,
  };
  if (fact.supported === undefined) return fact;
  const children = childElements(element);
  const inclusive = children[0];
  if (children.length > 1 || (inclusive && !isElementNamed(inclusive, EXC_C14N_NS, 'InclusiveNamespaces'))) {
    fact.problem = `unexpected content in ${describe(element)}`;
  } else if (hasNonWhitespaceText(element)) {
    fact.problem = `${describe(element)} has text content`;
  } else if (inclusive) {
    const prefixList = attributeValue(inclusive, null, 'PrefixList');
    if (prefixList === undefined) fact.problem = 'InclusiveNamespaces has no PrefixList';
    else fact.inclusivePrefixes = prefixList.split(/[ \t\r\n]+/).filter((prefix) => prefix !== '');
    if (fact.inclusivePrefixes.includes('#default')) {
      fact.problem = "'#default' in an InclusiveNamespaces PrefixList is not supported";
    }
  }
  return fact;
}

/** The same-document bare-name Id of a Reference URI, or the problem with any other form. */
function fragmentOf(uri: string | undefined): { fragment?: string; problem?: string } {
  if (uri === undefined) return { problem: 'the Reference has no URI' };
  if (uri === '') return { problem: 'a whole-document reference (URI="") is not supported' };
  if (!uri.startsWith('#'))
    return { problem: `reference to another document or attachment (${uri}) is not supported` };
  if (uri.startsWith('#xpointer(')) return { problem: 'XPointer references are not supported' };
  if (uri.length === 1) return { problem: 'the Reference URI has an empty fragment' };
  return { fragment: uri.slice(1) };
}

/** Reads a `ds:Reference` as written; resolution of its URI comes later. */
function readReference(node: Element, limits: SignatureLimits): ReferenceFacts {
  const { found, problems } = matchSequence(node, [
    { namespace: DS_NS, localName: 'Transforms', min: 0, max: 1 },
    one('DigestMethod'),
    one('DigestValue'),
  ]);
  const uri = attributeValue(node, null, 'URI');
  const { fragment, problem: uriProblem } = fragmentOf(uri);
  if (uriProblem) problems.push(uriProblem);

  const transformsElement = found.get('Transforms')?.[0];
  const transforms: CanonicalizationFact[] = [];
  if (transformsElement === undefined) {
    problems.push('a Reference without Transforms (implicit inclusive C14N) is not supported');
  } else {
    const transformList = matchSequence(transformsElement, [
      { namespace: DS_NS, localName: 'Transform', min: 1, max: Infinity },
    ]);
    problems.push(...transformList.problems);
    const elements = transformList.found.get('Transform') ?? [];
    if (elements.length > limits.maxTransformsPerReference) {
      problems.push(
        `${elements.length} transforms, more than the limit of ${limits.maxTransformsPerReference}`,
      );
    } else {
      transforms.push(...elements.map(readCanonicalization));
      for (const transform of transforms) {
        if (transform.supported === undefined)
          problems.push(`transform ${transform.uri ?? '(none)'} is not supported`);
        else if (transform.problem) problems.push(transform.problem);
      }
      if (transforms.length > 1) problems.push('only a single exc-c14n transform is supported');
    }
  }

  const digestMethodElement = found.get('DigestMethod')?.[0];
  const digestUri = digestMethodElement && attributeValue(digestMethodElement, null, 'Algorithm');
  const digestMethod = { uri: digestUri, supported: digestAlgorithmNamed(digestUri) };
  if (digestMethodElement && digestMethod.supported === undefined) {
    problems.push(`digest method ${digestUri ?? '(none)'} is not supported`);
  }
  if (digestMethodElement && childElements(digestMethodElement).length > 0) {
    problems.push('unexpected content in DigestMethod');
  }

  const digestValueElement = found.get('DigestValue')?.[0];
  let declaredDigest: Buffer | undefined;
  if (digestValueElement) {
    declaredDigest = hasOnlyTextChildren(digestValueElement)
      ? decodeBase64Binary(directText(digestValueElement))
      : undefined;
    if (declaredDigest === undefined) problems.push('DigestValue is not base64');
  }

  return {
    node,
    uri,
    fragment,
    matches: [],
    element: undefined,
    transforms,
    digestMethod,
    declaredDigest,
    commentsInElement: 0,
    problems,
    digest: { outcome: 'not-evaluated', reason: 'not resolved yet' },
    digestedBytes: 0,
  };
}

/**
 * Reads a `ds:Signature` as written: the structure of Signature and SignedInfo, the algorithms, every
 * Reference, the SignatureValue. Nothing is resolved or computed here.
 */
export function readSignature(element: Element, limits: SignatureLimits): SignatureReading {
  const signature = matchSequence(element, [
    one('SignedInfo'),
    one('SignatureValue'),
    { namespace: DS_NS, localName: 'KeyInfo', min: 0, max: 1 },
  ]);
  const structureProblems = [...signature.problems];
  const signedInfo = signature.found.get('SignedInfo')?.[0];

  let canonicalizationMethod: CanonicalizationFact | undefined;
  let signatureMethodUri: string | undefined;
  let referenceElements: Element[] = [];
  if (signedInfo) {
    const parts = matchSequence(signedInfo, [
      one('CanonicalizationMethod'),
      one('SignatureMethod'),
      { namespace: DS_NS, localName: 'Reference', min: 1, max: Infinity },
    ]);
    structureProblems.push(...parts.problems);
    const canonicalizationElement = parts.found.get('CanonicalizationMethod')?.[0];
    canonicalizationMethod = canonicalizationElement && readCanonicalization(canonicalizationElement);
    const signatureMethodElement = parts.found.get('SignatureMethod')?.[0];
    if (signatureMethodElement) {
      signatureMethodUri = attributeValue(signatureMethodElement, null, 'Algorithm');
      if (childElements(signatureMethodElement).length > 0 || hasNonWhitespaceText(signatureMethodElement)) {
        structureProblems.push('unexpected content in SignatureMethod');
      }
    }
    referenceElements = parts.found.get('Reference') ?? [];
    if (referenceElements.length > limits.maxReferences) {
      structureProblems.push(
        `${referenceElements.length} references, more than the limit of ${limits.maxReferences}`,
      );
    }
  }

  const signatureValueElement = signature.found.get('SignatureValue')?.[0];
  let signatureValueBytes: Buffer | undefined;
  if (signatureValueElement) {
    if (hasOnlyTextChildren(signatureValueElement)) {
      signatureValueBytes = decodeBase64Binary(directText(signatureValueElement));
    }
    if (signatureValueBytes === undefined || signatureValueBytes.length === 0) {
      signatureValueBytes = undefined;
      structureProblems.push('SignatureValue is not base64');
    }
  }

  const facts: SignatureFacts = {
    element,
    signedInfo,
    canonicalizationMethod,
    signatureMethod: { uri: signatureMethodUri, supported: signatureAlgorithmNamed(signatureMethodUri) },
    references: referenceElements.map((reference) => readReference(reference, limits)),
    signatureValueBytes,
    key: { kind: 'unresolved', form: 'no-key-info', reason: 'not resolved yet', element: undefined },
    structureProblems,
    signatureValue: { outcome: 'not-evaluated', reason: 'not evaluated yet' },
    trust: undefined,
  };
  return { facts, keyInfo: signature.found.get('KeyInfo')?.[0] };
}
