import type { Element, Node, Text } from '@xmldom/xmldom';
import { ExclusiveCanonicalization } from 'xml-crypto';
import { CDATA_SECTION_NODE, isElement, TEXT_NODE } from './dom';
import { XMLNS_NS } from './namespaces';

/** A namespace binding in scope of an element. */
interface NamespaceBinding {
  prefix: string;
  namespaceURI: string;
}

/** Compares two strings by Unicode code point, as C14N orders namespace and attribute nodes. */
function compareCodePoints(left: string, right: string): number {
  const a = Array.from(left, (character) => character.codePointAt(0) as number);
  const b = Array.from(right, (character) => character.codePointAt(0) as number);
  for (let i = 0; i < Math.min(a.length, b.length); i += 1) {
    if (a[i] !== b[i]) return a[i] - b[i];
  }
  return a.length - b.length;
}

/**
 * xml-crypto's exclusive canonicalization renderer with the sort order that C14N prescribes (and libxml2,
 * xmlsec and Apache Santuario apply): namespace declarations by prefix, attributes by namespace URI then
 * local name, comparing code points. xml-crypto 6 compares prefixes with `localeCompare` (so it writes
 * `xmlns:ds` before `xmlns:S`, where the others write `xmlns:S` first: a JAX-WS client's `S:` prefix in an
 * InclusiveNamespaces list would break every signature) and attributes by the concatenation of URI and
 * local name.
 */
export class CodePointOrderExclusiveCanonicalization extends ExclusiveCanonicalization {
  override nsCompare(a: { prefix: string }, b: { prefix: string }): number {
    return compareCodePoints(a.prefix, b.prefix);
  }

  override attrCompare(
    a: { namespaceURI: string | null; localName: string },
    b: { namespaceURI: string | null; localName: string },
  ): 1 | 0 | -1 {
    const order =
      compareCodePoints(a.namespaceURI ?? '', b.namespaceURI ?? '') ||
      compareCodePoints(a.localName, b.localName);
    return Math.sign(order) as 1 | 0 | -1;
  }

  /**
   * An empty text node canonicalizes to nothing; xml-crypto 6 tests `node.data` for truth and throws on
   * it ("Unable to exclusive canonicalize node type: 3"). Documents we build have them (an empty Token).
   */
  override processInner(
    ...args: Parameters<ExclusiveCanonicalization['processInner']>
  ): ReturnType<ExclusiveCanonicalization['processInner']> {
    const [node] = args;
    if ((node.nodeType === TEXT_NODE || node.nodeType === CDATA_SECTION_NODE) && (node as Text).data === '') {
      return '';
    }
    return super.processInner(...args);
  }
}

/**
 * The namespaces declared on the ancestors of `element`, nearest declaration first, exactly as
 * xml-crypto's `SignedXml` computes them for exclusive canonicalization (`findAncestorNsForElement`):
 * one binding per prefix (the nearest shadows the rest), without undeclarations, and without the
 * prefixes the element itself declares or uses as its own prefix.
 */
export function ancestorNamespaces(element: Element): NamespaceBinding[] {
  const nearestFirst: NamespaceBinding[] = [];
  for (let parent = element.parentNode; isElement(parent); parent = parent.parentNode) {
    for (let i = 0; i < parent.attributes.length; i += 1) {
      const attribute = parent.attributes.item(i);
      if (attribute && /^xmlns:?/.test(attribute.nodeName)) {
        nearestFirst.push({
          prefix: attribute.nodeName.replace(/^xmlns:?/, ''),
          namespaceURI: attribute.nodeValue ?? '',
        });
      }
    }
  }
  const ownPrefixes = new Set<string>([element.prefix ?? '']);
  for (let i = 0; i < element.attributes.length; i += 1) {
    const name = element.attributes.item(i)?.nodeName ?? '';
    if (name === 'xmlns' || name.startsWith('xmlns:')) ownPrefixes.add(name.replace(/^xmlns:?/, ''));
  }
  const seen = new Set<string>();
  const bindings: NamespaceBinding[] = [];
  for (const binding of nearestFirst) {
    if (seen.has(binding.prefix)) continue;
    seen.add(binding.prefix);
    if (binding.namespaceURI !== '' && !ownPrefixes.has(binding.prefix)) bindings.push(binding);
  }
  return bindings;
}

/**
 * Exclusive XML canonicalization (without comments) of an element and its subtree, with an
 * InclusiveNamespaces prefix list, as a reference with one exc-c14n transform or a SignedInfo is
 * canonicalized. The output is text; its UTF-8 bytes are what is digested or signed.
 *
 * It uses xml-crypto's renderer (with the C14N sort order, see {@link CodePointOrderExclusiveCanonicalization})
 * the way `SignedXml` does: on a deep clone (xml-crypto adds the inclusive
 * prefixes' ancestor declarations to the node it is given, and the parsed document must stay untouched),
 * with the inclusive prefixes that are declared on ancestors copied onto the clone's root. Unlike
 * `ExclusiveCanonicalization.process`, it never falls back to reading a prefix list from an
 * `InclusiveNamespaces` element inside the canonicalized subtree: the prefix list is the caller's,
 * read from the Transform or CanonicalizationMethod that applies.
 *
 * `#default` is not supported in the prefix list (callers refuse it before calling).
 */
export function canonicalizeExclusive(element: Element, inclusivePrefixes: readonly string[]): string {
  const clone = element.cloneNode(true) as Element;
  const prefixes = [...inclusivePrefixes];
  if (prefixes.length > 0) {
    for (const binding of ancestorNamespaces(element)) {
      if (prefixes.includes(binding.prefix)) {
        clone.setAttributeNS(XMLNS_NS, `xmlns:${binding.prefix}`, binding.namespaceURI);
      }
    }
  }
  const canonicalizer = new CodePointOrderExclusiveCanonicalization();
  // Same arguments as ExclusiveCanonicalization.process: nothing in scope, no default namespace.
  return canonicalizer.processInner(clone as Node, [], '', {}, prefixes);
}
