import type { Attr } from '@xmldom/xmldom';
import { NS } from './namespaces';

/*
 * Escaping as Canonical XML writes it (C14N 1.0 section 2.3): the form a signature digests, and a form any
 * parser reads back as the same characters (carriage returns and, in attributes, tabs and line ends
 * included), so it also serves to write an element out for another parser.
 */

const TEXT_SPECIALS = /[&<>\r]/g;
const ATTRIBUTE_SPECIALS = /[&<"\r\n\t]/g;
const ESCAPES: Readonly<Record<string, string>> = {
  '&': '&amp;',
  '<': '&lt;',
  '>': '&gt;',
  '"': '&quot;',
  '\r': '&#xD;',
  '\n': '&#xA;',
  '\t': '&#x9;',
};
const escapeCharacter = (character: string): string => ESCAPES[character];

/** Character data: `&`, `<`, `>` and carriage return escaped. */
export function escapeXmlText(text: string): string {
  TEXT_SPECIALS.lastIndex = 0;
  return TEXT_SPECIALS.test(text) ? text.replace(TEXT_SPECIALS, escapeCharacter) : text;
}

/** An attribute (or namespace) value: `&`, `<`, `"`, CR, LF and TAB escaped. */
export function escapeXmlAttribute(value: string): string {
  ATTRIBUTE_SPECIALS.lastIndex = 0;
  return ATTRIBUTE_SPECIALS.test(value) ? value.replace(ATTRIBUTE_SPECIALS, escapeCharacter) : value;
}

/** Whether an attribute is a namespace declaration (`xmlns` or `xmlns:p`), not a real attribute. */
export function isNamespaceDeclaration(attribute: Attr): boolean {
  return (
    attribute.namespaceURI === NS.xmlns || attribute.name === 'xmlns' || attribute.name.startsWith('xmlns:')
  );
}
