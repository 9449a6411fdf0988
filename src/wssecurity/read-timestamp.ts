import type { Element } from '@xmldom/xmldom';
import {
  attributeValue,
  childElements,
  directText,
  hasNonWhitespaceText,
  hasOnlyTextChildren,
  isElementNamed,
  nameOf,
} from './dom';
import { WSU_NS } from './namespaces';
import type { TimestampFacts, TimestampValueFacts } from './security-facts';
import { parseXmlDateTime } from './xml-date-time';

function readValue(element: Element): TimestampValueFacts {
  const textOnly = hasOnlyTextChildren(element);
  return { element, textOnly, ...parseXmlDateTime(directText(element)) };
}

/** Reads a `wsu:Timestamp`: every child seen, and each Created and Expires as written and as parsed. */
export function readTimestamp(element: Element): TimestampFacts {
  const children = childElements(element);
  return {
    element,
    wsuId: attributeValue(element, WSU_NS, 'Id'),
    created: children.filter((child) => isElementNamed(child, WSU_NS, 'Created')).map(readValue),
    expires: children.filter((child) => isElementNamed(child, WSU_NS, 'Expires')).map(readValue),
    children: children.map(nameOf),
    hasText: hasNonWhitespaceText(element),
  };
}
