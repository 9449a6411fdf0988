import type { Element } from '@xmldom/xmldom';
import type { DocumentDescription, Recipient } from '../domain/model';
import type { ReceiptFacts } from '../domain/receipt-issuer';
import { appendElement, createDocument, serialize } from '../xml/element-builder';
import { NS } from '../xml/namespaces';

/*
 * Receipt.xml: a `ReceiptContent` of the contract's types namespace, stating who sent what to whom
 * under which ticket. Values only ever enter through DOM text nodes, so the serialiser escapes them.
 */

/** The contract's types namespace, the namespace of every element of Receipt.xml. */
export const TYPES_NAMESPACE = NS.types;

/** `FileDescription.Type` is required; an annex request has none, so the receipt states this one. */
export const ANNEX_TYPE = 'ANNEX';

export type { ReceiptFacts };

const T = NS.types;

function typed(parent: Element, localName: string, typeName: string, fill: (element: Element) => void): void {
  const element = appendElement(parent, T, localName, fill);
  element.setAttributeNS(NS.xsi, 'xsi:type', typeName);
}

function appendRecipient(parent: Element, recipient: Recipient): void {
  if (recipient.kind === 'citizen') {
    typed(parent, 'Recipient', 'Citizen', (element) => {
      appendElement(element, T, 'INSS', recipient.inss);
      appendElement(element, T, 'QualityCode', recipient.qualityCode);
    });
  } else {
    typed(parent, 'Recipient', 'Enterprise', (element) => {
      appendElement(element, T, 'CompanyID', recipient.cbe);
      appendElement(element, T, 'QualityCode', recipient.qualityCode);
    });
  }
}

/** FileDescription: Title, Digest, DownloadFileName, MIME?, Type, Language?. */
function appendFileDescription(parent: Element, localName: string, file: DocumentDescription): void {
  appendElement(parent, T, localName, (element) => {
    appendElement(element, T, 'Title', file.title);
    appendElement(element, T, 'Digest', (digest) => {
      appendElement(digest, T, 'DigestMethod', file.digest.method);
      appendElement(digest, T, 'DigestValue', file.digest.value.toString('base64'));
    });
    appendElement(element, T, 'DownloadFileName', file.downloadFileName);
    if (file.mime !== undefined) appendElement(element, T, 'MIME', file.mime);
    appendElement(element, T, 'Type', file.type);
    if (file.language !== undefined) appendElement(element, T, 'Language', file.language);
  });
}

/**
 * Builds the bytes of Receipt.xml (UTF-8): root `ReceiptContent` with `Ticket`, `Token`, `Recipient`
 * (`xsi:type` Citizen or Enterprise), `Sender` (`xsi:type` Sender), `Document` and one `Annex` per
 * annex, in the order of the contract's ReceiptContent type. Unprefixed `xsi:type` values resolve to
 * the default namespace, which is the types namespace.
 */
export function buildReceiptContent(facts: ReceiptFacts): Buffer {
  const document = createDocument(T, 'ReceiptContent');
  const root = document.documentElement as Element;
  root.setAttributeNS(NS.xmlns, 'xmlns', T);
  root.setAttributeNS(NS.xmlns, 'xmlns:xsi', NS.xsi);

  appendElement(root, T, 'Ticket', facts.ticket);
  appendElement(root, T, 'Token', facts.token);
  appendRecipient(root, facts.recipient);
  typed(root, 'Sender', 'Sender', (sender) => {
    appendElement(sender, T, 'CompanyID', facts.sender.cbe);
    appendElement(sender, T, 'ApplicationID', facts.sender.applicationId);
  });
  appendFileDescription(root, 'Document', facts.document);
  for (const annex of facts.annexes) {
    appendFileDescription(root, 'Annex', { ...annex, type: ANNEX_TYPE, language: undefined });
  }
  return serialize(document);
}
