import { escapeXmlAttribute, escapeXmlText } from './xml-escape';

/*
 * XML written directly as text, for documents whose structure the code fixes (a receipt): names come from
 * the code, every value goes through the escaping of `xml-escape.ts`, never into the markup as it is. A
 * tenth of the cost of building a DOM and serialising it. Elements are always written with an end tag.
 */

/** The XML declaration and line feed that every document the service writes starts with. */
export const XML_DECLARATION = '<?xml version="1.0" encoding="UTF-8"?>\n';

/**
 * `<qualifiedName a="v" ...>`, the attributes in the order given, their values escaped.
 * @param qualifiedName a name from the code (not escaped)
 */
export function startTag(qualifiedName: string, attributes: Readonly<Record<string, string>> = {}): string {
  let tag = `<${qualifiedName}`;
  for (const name of Object.keys(attributes)) tag += ` ${name}="${escapeXmlAttribute(attributes[name])}"`;
  return `${tag}>`;
}

/** `</qualifiedName>`. */
export function endTag(qualifiedName: string): string {
  return `</${qualifiedName}>`;
}

/** `<qualifiedName>text</qualifiedName>`, the text escaped. */
export function textElement(qualifiedName: string, text: string): string {
  return `<${qualifiedName}>${escapeXmlText(text)}</${qualifiedName}>`;
}
