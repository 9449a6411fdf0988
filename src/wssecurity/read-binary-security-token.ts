import type { Element } from '@xmldom/xmldom';
import { decodeBase64Binary } from '../xml/base64-binary';
import { attributeValue, directText, hasOnlyTextChildren } from './dom';
import { BASE64_BINARY_ENCODING, WSU_NS, X509V3_VALUE_TYPE } from './namespaces';
import type { BinarySecurityTokenFacts } from './security-facts';

/** Reads a `wsse:BinarySecurityToken`: its attributes and, for an X509v3 token in Base64Binary, the DER. */
export function readBinarySecurityToken(element: Element): BinarySecurityTokenFacts {
  const valueType = attributeValue(element, null, 'ValueType');
  const encodingType = attributeValue(element, null, 'EncodingType');
  const facts: BinarySecurityTokenFacts = {
    element,
    wsuId: attributeValue(element, WSU_NS, 'Id'),
    valueType,
    encodingType,
    certificateDer: undefined,
    contentProblem: undefined,
  };
  if (valueType !== X509V3_VALUE_TYPE) {
    facts.contentProblem = `ValueType ${valueType ?? '(none)'} is not X509v3`;
  } else if (encodingType !== BASE64_BINARY_ENCODING) {
    facts.contentProblem = `EncodingType ${encodingType ?? '(none)'} is not Base64Binary`;
  } else if (!hasOnlyTextChildren(element)) {
    facts.contentProblem = 'the token holds markup or comments besides its base64 text';
  } else {
    const der = decodeBase64Binary(directText(element));
    if (der === undefined || der.length === 0) facts.contentProblem = 'the token content is not base64';
    else facts.certificateDer = der;
  }
  return facts;
}
