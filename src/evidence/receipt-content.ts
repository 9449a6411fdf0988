import { DOMImplementation, XMLSerializer, type Document, type Element } from '@xmldom/xmldom';
import type { DocumentDescription, Recipient } from '../domain/model';
import type { ReceiptFacts } from '../domain/receipt-issuer';

/*
 * Receipt.xml: a `ReceiptContent` of the contract's types namespace, stating who sent what to whom
 * under which ticket. Values only ever enter through DOM text nodes, so the serialiser escapes them.
 */

/** The contract's types namespace, the namespace of every element of Receipt.xml. */
export const TYPES_NAMESPACE = 'http://socialsecurity.be/registeredmail/types/v1';
const XSI_NAMESPACE = 'http://www.w3.org/2001/XMLSchema-instance';
const XMLNS_NAMESPACE = 'http://www.w3.org/2000/xmlns/';
const XML_DECLARATION = '<?xml version="1.0" encoding="UTF-8"?>\n';

/** `FileDescription.Type` is required; an annex request has none, so the receipt states this one. */
export const ANNEX_TYPE = 'ANNEX';

export type { ReceiptFacts };

/**
 * Builds the bytes of Receipt.xml (UTF-8): root `ReceiptContent` with `Ticket`, `Token`, `Recipient`
 * (`xsi:type` Citizen or Enterprise), `Sender` (`xsi:type` Sender), `Document` and one `Annex` per
 * annex, in the order of the contract's ReceiptContent type. Unprefixed `xsi:type` values resolve to
 * the default namespace, which is the types namespace.
 */
export function buildReceiptContent(facts: ReceiptFacts): Buffer {
  const document = new DOMImplementation().createDocument(TYPES_NAMESPACE, 'ReceiptContent', null);
  const root = document.documentElement;
  if (root === null) throw new Error('xmldom created no root element');
  root.setAttributeNS(XMLNS_NAMESPACE, 'xmlns', TYPES_NAMESPACE);
  root.setAttributeNS(XMLNS_NAMESPACE, 'xmlns:xsi', XSI_NAMESPACE);

  appendText(root, 'Ticket', facts.ticket);
  appendText(root, 'Token', facts.token);
  appendRecipient(root, facts.recipient);
  const sender = appendTyped(root, 'Sender', 'Sender');
  appendText(sender, 'CompanyID', facts.sender.cbe);
  appendText(sender, 'ApplicationID', facts.sender.applicationId);
  appendFileDescription(appendChild(root, 'Document'), facts.document);
  for (const annex of facts.annexes) {
    appendFileDescription(appendChild(root, 'Annex'), { ...annex, type: ANNEX_TYPE, language: undefined });
  }

  return Buffer.from(XML_DECLARATION + new XMLSerializer().serializeToString(document), 'utf8');
}

function appendChild(parent: Element, localName: string): Element {
  const element = (parent.ownerDocument as Document).createElementNS(TYPES_NAMESPACE, localName);
  parent.appendChild(element);
  return element;
}

function appendText(parent: Element, localName: string, text: string): Element {
  const element = appendChild(parent, localName);
  element.appendChild((parent.ownerDocument as Document).createTextNode(text));
  return element;
}

function appendTyped(parent: Element, localName: string, typeName: string): Element {
  const element = appendChild(parent, localName);
  element.setAttributeNS(XSI_NAMESPACE, 'xsi:type', typeName);
  return element;
}

function appendRecipient(parent: Element, recipient: Recipient): void {
  if (recipient.kind === 'citizen') {
    const element = appendTyped(parent, 'Recipient', 'Citizen');
    appendText(element, 'INSS', recipient.inss);
    appendText(element, 'QualityCode', recipient.qualityCode);
  } else {
    const element = appendTyped(parent, 'Recipient', 'Enterprise');
    appendText(element, 'CompanyID', recipient.cbe);
    appendText(element, 'QualityCode', recipient.qualityCode);
  }
}

/** FileDescription: Title, Digest, DownloadFileName, MIME?, Type, Language?. */
function appendFileDescription(element: Element, file: DocumentDescription): void {
  appendText(element, 'Title', file.title);
  const digest = appendChild(element, 'Digest');
  appendText(digest, 'DigestMethod', file.digest.method);
  appendText(digest, 'DigestValue', file.digest.value.toString('base64'));
  appendText(element, 'DownloadFileName', file.downloadFileName);
  if (file.mime !== undefined) appendText(element, 'MIME', file.mime);
  appendText(element, 'Type', file.type);
  if (file.language !== undefined) appendText(element, 'Language', file.language);
}
