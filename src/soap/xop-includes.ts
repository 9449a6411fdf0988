import type { Element, Node } from '@xmldom/xmldom';
import { contentIdFromCidUrl } from '../contract/swa-reference';
import { AttachmentReferenceError, MalformedMessageError } from '../errors/faults';

/** The namespace of `xop:Include` (XOP 1.0). */
export const XOP_NAMESPACE = 'http://www.w3.org/2004/08/xop/include';
const XMLNS_NAMESPACE = 'http://www.w3.org/2000/xmlns/';

const ELEMENT_NODE = 1;
const TEXT_NODE = 3;

function isWhitespaceText(node: Node): boolean {
  return node.nodeType === TEXT_NODE && /^[ \t\r\n]*$/.test(node.nodeValue ?? '');
}

/** The Include's `href` as a Content-ID, after checking the element's own shape (XOP 1.0 §2.1). */
function referencedContentId(include: Element): string {
  const attributes = Array.from(include.attributes).filter(
    (attribute) => attribute.namespaceURI !== XMLNS_NAMESPACE,
  );
  const only = attributes.length === 1 ? attributes[0] : undefined;
  if (!only || only.namespaceURI || only.localName !== 'href') {
    throw new MalformedMessageError('an xop:Include must have exactly one attribute, href');
  }
  if (include.firstChild !== null) throw new MalformedMessageError('an xop:Include must be empty');
  const contentId = contentIdFromCidUrl(only.value);
  if (contentId === undefined) throw new MalformedMessageError('an xop:Include href is not a cid: URL');
  return contentId;
}

/** The Include's parent, once checked that the Include is its only child apart from whitespace. */
function soleParent(include: Element): Element {
  const parent = include.parentNode;
  if (parent === null || parent.nodeType !== ELEMENT_NODE) {
    throw new MalformedMessageError('an xop:Include must be inside an element');
  }
  for (let child = parent.firstChild; child !== null; child = child.nextSibling) {
    if (child !== include && !isWhitespaceText(child)) {
      throw new MalformedMessageError('an xop:Include must be the only content of its element');
    }
  }
  return parent as Element;
}

/**
 * Finds every `xop:Include` under `payload` (the envelope's payload, as the security policy accepted it),
 * checks each is the whole content of its parent element (apart from whitespace), has exactly an `href`
 * that is a `cid:` URL and no children, and that no two refer to the same part; then removes each Include,
 * and the whitespace around it, from its parent, which is left empty (an empty xs:base64Binary).
 *
 * Run after the signature was verified (it covers the Body as transmitted, Includes and all) and before
 * XSD validation. Nothing is removed unless every Include is valid.
 *
 * @returns each Include's parent element → the Content-ID it refers to (percent-decoded as RFC 2392
 *   says, so that it equals the part's Content-ID as `readSoapRequest` reports it)
 * @throws MalformedMessageError (SOA-03001) for an Include that breaks XOP's rules
 * @throws AttachmentReferenceError (FILE_B04) when two Includes refer to the same part
 */
export function extractXopIncludes(payload: Element): Map<Element, string> {
  const includes = Array.from(payload.getElementsByTagNameNS(XOP_NAMESPACE, 'Include'));
  const references = new Map<Element, string>();
  const referenced = new Set<string>();
  for (const include of includes) {
    const contentId = referencedContentId(include);
    const parent = soleParent(include);
    if (referenced.has(contentId)) {
      throw new AttachmentReferenceError('two xop:Include elements refer to the same MIME part');
    }
    referenced.add(contentId);
    references.set(parent, contentId);
  }
  for (const parent of references.keys()) {
    while (parent.firstChild !== null) parent.removeChild(parent.firstChild);
  }
  return references;
}
