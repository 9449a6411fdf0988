import type { Element } from '@xmldom/xmldom';
import { forEachElement } from './dom';
import { WSU_NS, XMLNS_NS } from './namespaces';
import type { IdMatch } from './security-facts';

const ID_LIKE_NAMES = new Set(['Id', 'ID', 'id']);

/** Whether an attribute is one that identifies a reference target: `wsu:Id`, or unqualified `Id` or `ID`. */
function isResolvingIdAttribute(namespaceURI: string | null, localName: string): boolean {
  return namespaceURI === WSU_NS
    ? localName === 'Id'
    : namespaceURI === null && (localName === 'Id' || localName === 'ID');
}

/**
 * Indexes, in one walk of the whole document, every element carrying an Id attribute.
 * Besides the attributes that resolve references (`wsu:Id`, `Id`, `ID`), look-alikes (`xml:id`, `id`,
 * `Id` in any other namespace) are counted too: an envelope where two elements claim the same Id in
 * any of these ways is ambiguous, and ambiguity is what signature wrapping lives on.
 * @returns per Id value, the elements carrying it in document order (an element once, however many of
 * its attributes carry it; `resolving` when one of them is a resolving attribute)
 */
export function indexIds(root: Element): Map<string, IdMatch[]> {
  const matches = new Map<string, IdMatch[]>();
  forEachElement(root, (element) => {
    // Made at the element's first Id-like attribute: most elements have none.
    let found: Map<string, IdMatch> | undefined;
    for (let i = 0; i < element.attributes.length; i += 1) {
      const attribute = element.attributes.item(i);
      if (!attribute || attribute.namespaceURI === XMLNS_NS) continue;
      const localName = attribute.localName ?? attribute.nodeName;
      if (!ID_LIKE_NAMES.has(localName)) continue;
      const resolving = isResolvingIdAttribute(attribute.namespaceURI, localName);
      found ??= new Map();
      const previous = found.get(attribute.value);
      if (previous === undefined || (resolving && !previous.resolving)) {
        found.set(attribute.value, { element, attributeName: attribute.nodeName, resolving });
      }
    }
    if (found === undefined) return;
    for (const [id, match] of found) {
      const list = matches.get(id) ?? [];
      list.push(match);
      matches.set(id, list);
    }
  });
  return matches;
}

/**
 * Why a list of matches does not resolve an Id to exactly one element, or undefined when it does:
 * exactly one element may carry the Id, through `wsu:Id`, `Id` or `ID`.
 */
export function idResolutionProblem(id: string, matches: readonly IdMatch[]): string | undefined {
  if (matches.length === 0) return `no element carries the Id '${id}'`;
  if (matches.length > 1) return `${matches.length} elements carry the Id '${id}'`;
  if (!matches[0].resolving)
    return `the Id '${id}' is carried by ${matches[0].attributeName}, not wsu:Id, Id or ID`;
  return undefined;
}
