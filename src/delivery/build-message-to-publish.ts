import type { Language } from '../domain/model';
import type { EboxRecipient, PublicationFile, PublicationItem } from './publication-item';

/** The multipart part name of the document; annexes are `annex1`, `annex2`, ... */
export const DOCUMENT_PART_NAME = 'document';

/** The part name of annex number `index` (from 0). */
export function annexPartName(index: number): string {
  return `annex${index + 1}`;
}

/** The e-Box subject: one title per language, at least one. */
export type EboxSubject = Partial<Record<'nl' | 'fr' | 'de', string>>;

/** An attachment of `messageToPublish`, referring to its multipart part by name. */
export interface EboxAttachment {
  httpPartName: string;
  isMainContent: boolean;
  isAttachmentSigned: boolean;
  attachmentTitle: string;
  digest: { digestMethod: 'sha_256'; digestValue: string };
}

/** The `messageToPublish` JSON part of an e-Box publication (Message Registry v3). */
export interface MessageToPublish {
  sender: { eboxType: 'enterprise'; enterpriseNumber: string };
  recipient: { eboxType: 'citizen'; ssin: string } | { eboxType: 'enterprise'; enterpriseNumber: string };
  subject: EboxSubject;
  messageTypeId: string;
  senderApplicationId: string;
  registeredMail: true;
  attachments: EboxAttachment[];
}

/** The Title in the item's language when it is nl, fr or de; in all three when en, bi or absent. */
export function subjectOf(title: string, language: Language | undefined): EboxSubject {
  if (language === 'nl' || language === 'fr' || language === 'de') return { [language]: title };
  return { nl: title, fr: title, de: title };
}

/** The e-Box's form of a recipient. */
export function eboxRecipientOf(recipient: EboxRecipient): MessageToPublish['recipient'] {
  return recipient.kind === 'citizen'
    ? { eboxType: 'citizen', ssin: recipient.inss }
    : { eboxType: 'enterprise', enterpriseNumber: recipient.cbe };
}

function attachmentOf(file: PublicationFile, httpPartName: string, isMainContent: boolean): EboxAttachment {
  return {
    httpPartName,
    isMainContent,
    isAttachmentSigned: false,
    attachmentTitle: file.title,
    digest: { digestMethod: 'sha_256', digestValue: file.sha256.toString('base64url') },
  };
}

/** Builds the `messageToPublish` of an item: the document first (main content), then its annexes. */
export function buildMessageToPublish(item: PublicationItem): MessageToPublish {
  return {
    sender: { eboxType: 'enterprise', enterpriseNumber: item.sender.cbe },
    recipient: eboxRecipientOf(item.recipient),
    subject: subjectOf(item.document.title, item.language),
    messageTypeId: item.documentType,
    senderApplicationId: item.sender.applicationId,
    registeredMail: true,
    attachments: [
      attachmentOf(item.document, DOCUMENT_PART_NAME, true),
      ...item.annexes.map((annex, index) => attachmentOf(annex, annexPartName(index), false)),
    ],
  };
}
