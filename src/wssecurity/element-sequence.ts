import type { Element } from '@xmldom/xmldom';
import { childElements, describe, hasNonWhitespaceText, isElementNamed } from './dom';

/** One expected child element of a schema sequence. */
export interface ExpectedChild {
  namespace: string;
  localName: string;
  min: number;
  /** `Infinity` for unbounded. */
  max: number;
}

/** The children of an element matched against a sequence. */
export interface SequenceMatch {
  /** Matched children per expected local name, in document order. */
  found: Map<string, Element[]>;
  /** Unexpected, misplaced, missing or repeated children, and stray text. */
  problems: string[];
}

/**
 * Matches the element children of `parent` against a sequence of expected children (a small subset of
 * an XSD sequence: each entry in order, between `min` and `max` times). Non-whitespace text is a
 * problem too. Elements of the sequence are never looked for elsewhere than among the children.
 */
export function matchSequence(parent: Element, sequence: readonly ExpectedChild[]): SequenceMatch {
  const found = new Map<string, Element[]>(sequence.map((entry) => [entry.localName, []]));
  const problems: string[] = [];
  const where = describe(parent);
  let position = 0;
  for (const child of childElements(parent)) {
    let matched = false;
    for (let p = position; p < sequence.length; p += 1) {
      const entry = sequence[p];
      if (!isElementNamed(child, entry.namespace, entry.localName)) continue;
      const list = found.get(entry.localName) as Element[];
      if (p === position && list.length >= entry.max) break;
      list.push(child);
      position = p;
      matched = true;
      break;
    }
    if (!matched) problems.push(`unexpected or misplaced ${describe(child)} in ${where}`);
  }
  for (const entry of sequence) {
    if ((found.get(entry.localName) as Element[]).length < entry.min)
      problems.push(`${where} has no ${entry.localName}`);
  }
  if (hasNonWhitespaceText(parent)) problems.push(`${where} has text content`);
  return { found, problems };
}
