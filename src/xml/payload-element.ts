import { compareByCodePoint } from './code-point-order';
import { escapeXmlAttribute, escapeXmlText } from './xml-escape';

/**
 * An element of a response payload: a plain tree that the renderers build and that
 * {@link canonicalPayload} writes once, in its exclusive canonical form, which is what a signed
 * response's Body is digested and sent as. No DOM is built around a response (an xmldom element costs
 * a dozen objects, and the Body then had to be canonicalized from it): names and namespaces are the
 * renderers' constants, and every value is escaped when written.
 */
export interface PayloadElement {
  readonly namespace: string;
  /** Every payload element has a prefix (the renderers' vocabulary: `types`, `v1`, `rms`, `mon`). */
  readonly prefix: string;
  readonly localName: string;
  /** Attributes without a namespace (the only kind the payloads have), by name. */
  readonly attributes: Readonly<Record<string, string>>;
  /** Text and child elements, in document order. */
  readonly children: Array<PayloadElement | string | Base64Text>;
}

/**
 * The base64 of some bytes as element text. Its characters (`A-Z a-z 0-9 + / =`) need no escaping, so
 * it is written with no scan: a proof's signature is 8 KB of base64, which the scan for characters to
 * escape took 8 µs to read.
 */
export class Base64Text {
  readonly text: string;

  constructor(bytes: Buffer) {
    this.text = bytes.toString('base64');
  }
}

/**
 * Child content of {@link appendPayloadElement}: text, base64 text, or a function that fills the new
 * element.
 */
export type PayloadContent = string | Base64Text | ((element: PayloadElement) => void) | undefined;

const NO_ATTRIBUTES: Readonly<Record<string, string>> = Object.freeze({});

/** A name without a prefix: letters, digits, `_`, `-`, `.`, not starting with `xml` (any case). */
const UNQUALIFIED_ATTRIBUTE_NAME = /^(?![Xx][Mm][Ll])[A-Za-z_][A-Za-z0-9_.-]*$/;

/**
 * A new payload element `prefix:localName` in `namespace`.
 * @throws Error when the name has no prefix, or an attribute name is not a plain unqualified name (a
 *   bug in a renderer: the canonical form written here holds only for those)
 */
export function createPayloadElement(
  namespace: string,
  qualifiedName: string,
  attributes: Readonly<Record<string, string>> = NO_ATTRIBUTES,
): PayloadElement {
  const colon = qualifiedName.indexOf(':');
  if (colon <= 0 || colon === qualifiedName.length - 1) {
    throw new Error(`A payload element needs a prefixed name, not "${qualifiedName}"`);
  }
  for (const name in attributes) {
    if (!UNQUALIFIED_ATTRIBUTE_NAME.test(name))
      throw new Error(`Not an unqualified attribute name: "${name}"`);
  }
  return {
    namespace,
    prefix: qualifiedName.slice(0, colon),
    localName: qualifiedName.slice(colon + 1),
    attributes,
    children: [],
  };
}

/** Appends `<qualifiedName>` in `namespace` to `parent`, with its text or filled by `content`. */
export function appendPayloadElement(
  parent: PayloadElement,
  namespace: string,
  qualifiedName: string,
  content?: PayloadContent,
  attributes?: Readonly<Record<string, string>>,
): PayloadElement {
  const element = createPayloadElement(namespace, qualifiedName, attributes);
  if (typeof content === 'string' || content instanceof Base64Text) element.children.push(content);
  else if (content) content(element);
  parent.children.push(element);
  return element;
}

/** Namespace bindings (prefix → URI) that the output ancestors of a canonicalized element rendered. */
export type RenderedNamespaces = ReadonlyMap<string, string>;

const NOTHING_RENDERED: RenderedNamespaces = new Map();

/** A character XML 1.0 cannot carry, not even as a reference (C0 controls but TAB, LF, CR; U+FFFE/F). */
const NOT_XML_CHARACTER = /[^\t\n\r\u0020-\uD7FF\uE000-\uFFFD\u{10000}-\u{10FFFF}]/gu;
/**
 * What may make a text differ from how it is written: a character C14N escapes in text or attributes,
 * or one that may not be an XML character (surrogates are looked at closer by {@link NOT_XML_CHARACTER}:
 * a pair is fine). Most values (Ids, instants, base64 of signatures and digests) have none: one scan
 * each, and those are written as they are.
 */
// eslint-disable-next-line no-control-regex -- the C0 controls XML cannot carry are what it looks for
const MAY_CHANGE = /[&<>"\t\n\r\u0000-\u0008\u000B\u000C\u000E-\u001F\uD800-\uDFFF\uFFFE\uFFFF]/;

/**
 * A value as it is written: every character XML 1.0 cannot carry (a control character or a lone
 * surrogate in a stored text, such as a reason an outside service gave) as U+FFFD, so that a response
 * is always well-formed, then escaped by `escape`.
 */
function written(value: string, escape: (value: string) => string): string {
  return MAY_CHANGE.test(value) ? escape(value.replace(NOT_XML_CHARACTER, '\uFFFD')) : value;
}

/**
 * The exclusive canonical form (Exclusive XML Canonicalization 1.0, without comments, no inclusive
 * prefixes) of `element` as the child of output ancestors that rendered `rendered`: each element
 * declares its prefix where the nearest output ancestor did not render the same binding, attributes
 * sorted by name (all are unqualified), text and attribute values escaped as C14N does (a character
 * XML cannot carry replaced by U+FFFD), no empty-element tags. Parsing the text and canonicalizing the
 * element gives the same text back (test/xml/payload-element.test.ts checks it against the DOM
 * canonicalizer and xmllint).
 * @param rendered the bindings in scope from the output ancestors (for a Body's payload: the Body's own)
 */
export function canonicalPayload(
  element: PayloadElement,
  rendered: RenderedNamespaces = NOTHING_RENDERED,
): string {
  const { prefix, namespace } = element;
  let text = `<${prefix}:${element.localName}`;
  let scope = rendered;
  if (rendered.get(prefix) !== namespace) {
    text += ` xmlns:${prefix}="${escapeXmlAttribute(namespace)}"`;
    scope = new Map(rendered).set(prefix, namespace);
  }
  const names = Object.keys(element.attributes);
  if (names.length > 1) names.sort(compareByCodePoint);
  for (const name of names) {
    text += ` ${name}="${written(element.attributes[name], escapeXmlAttribute)}"`;
  }
  text += '>';
  for (const child of element.children) {
    if (typeof child === 'string') text += written(child, escapeXmlText);
    else if (child instanceof Base64Text) text += child.text;
    else text += canonicalPayload(child, scope);
  }
  return `${text}</${prefix}:${element.localName}>`;
}
