import { XMLSerializer, type Document, type Node, type XMLSerializerOptions } from '@xmldom/xmldom';
import { CDATA_SECTION_NODE, TEXT_NODE } from './dom';

const TEXT_ESCAPES: Readonly<Record<string, string>> = {
  '<': '&lt;',
  '>': '&gt;',
  '&': '&amp;',
  '\r': '&#13;',
};

/**
 * Text content as markup that a parser reads back as the same characters. xmldom's serialiser writes a
 * carriage return in text (or in a CDATA section) as is, and every XML parser turns it into a line feed:
 * the reparsed Body would no longer canonicalize to what was digested.
 */
function escapedText(data: string): string {
  return data.replace(/[<>&\r]/g, (character) => TEXT_ESCAPES[character]);
}

/**
 * xmldom writes a string returned by a node filter as it is (its typings only admit nodes). Text and
 * CDATA holding a carriage return are written as escaped text; a CDATA section and its text are the same
 * characters to a parser and to canonicalization. Everything else is serialised by xmldom.
 */
function carriageReturnSafe(node: Node): Node | string {
  if (node.nodeType !== TEXT_NODE && node.nodeType !== CDATA_SECTION_NODE) return node;
  const data = (node as Node & { data: string }).data;
  return data.includes('\r') ? escapedText(data) : node;
}

/**
 * Serialises a signed SOAP envelope (UTF-8, with an XML declaration) so that parsing the bytes gives back
 * the signed DOM: what a receiver canonicalizes is what was digested, carriage returns included.
 */
export function serializeSignedEnvelope(document: Document): Buffer {
  const options: XMLSerializerOptions = {
    nodeFilter: carriageReturnSafe as unknown as XMLSerializerOptions['nodeFilter'],
  };
  const text = new XMLSerializer().serializeToString(document, options);
  return Buffer.from(`<?xml version="1.0" encoding="UTF-8"?>\n${text}`, 'utf8');
}
