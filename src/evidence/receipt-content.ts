import type { DocumentDescription, Recipient } from '../domain/model';
import type { ReceiptFacts } from '../domain/receipt-issuer';
import { endTag, startTag, textElement, XML_DECLARATION } from '../xml/markup';
import { NS } from '../xml/namespaces';

/*
 * Receipt.xml: a `ReceiptContent` of the contract's types namespace, stating who sent what to whom
 * under which ticket. Written as text: every value is escaped (`xml/markup.ts`), never put into the
 * markup as it is.
 */

/** The contract's types namespace, the namespace of every element of Receipt.xml. */
export const TYPES_NAMESPACE = NS.types;

/** `FileDescription.Type` is required; an annex request has none, so the receipt states this one. */
export const ANNEX_TYPE = 'ANNEX';

export type { ReceiptFacts };

function typed(localName: string, typeName: string, children: string[]): string {
  return startTag(localName, { 'xsi:type': typeName }) + children.join('') + endTag(localName);
}

function recipientElement(recipient: Recipient): string {
  return recipient.kind === 'citizen'
    ? typed('Recipient', 'Citizen', [
        textElement('INSS', recipient.inss),
        textElement('QualityCode', recipient.qualityCode),
      ])
    : typed('Recipient', 'Enterprise', [
        textElement('CompanyID', recipient.cbe),
        textElement('QualityCode', recipient.qualityCode),
      ]);
}

/** FileDescription: Title, Digest, DownloadFileName, MIME?, Type, Language?. */
function fileDescription(localName: string, file: DocumentDescription): string {
  return (
    startTag(localName) +
    textElement('Title', file.title) +
    startTag('Digest') +
    textElement('DigestMethod', file.digest.method) +
    textElement('DigestValue', file.digest.value.toString('base64')) +
    endTag('Digest') +
    textElement('DownloadFileName', file.downloadFileName) +
    (file.mime !== undefined ? textElement('MIME', file.mime) : '') +
    textElement('Type', file.type) +
    (file.language !== undefined ? textElement('Language', file.language) : '') +
    endTag(localName)
  );
}

/**
 * Builds the bytes of Receipt.xml (UTF-8): root `ReceiptContent` with `Ticket`, `Token`, `Recipient`
 * (`xsi:type` Citizen or Enterprise), `Sender` (`xsi:type` Sender), `Document` and one `Annex` per
 * annex, in the order of the contract's ReceiptContent type. Unprefixed `xsi:type` values resolve to
 * the default namespace, which is the types namespace.
 */
export function buildReceiptContent(facts: ReceiptFacts): Buffer {
  let xml =
    XML_DECLARATION +
    startTag('ReceiptContent', { xmlns: TYPES_NAMESPACE, 'xmlns:xsi': NS.xsi }) +
    textElement('Ticket', facts.ticket) +
    textElement('Token', facts.token) +
    recipientElement(facts.recipient) +
    typed('Sender', 'Sender', [
      textElement('CompanyID', facts.sender.cbe),
      textElement('ApplicationID', facts.sender.applicationId),
    ]) +
    fileDescription('Document', facts.document);
  for (const annex of facts.annexes) {
    xml += fileDescription('Annex', { ...annex, type: ANNEX_TYPE, language: undefined });
  }
  return Buffer.from(xml + endTag('ReceiptContent'), 'utf8');
}
