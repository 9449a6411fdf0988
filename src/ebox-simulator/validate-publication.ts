import { isValidCbe } from '../domain/identifiers/cbe';
import { isValidInss } from '../domain/identifiers/inss';
import type { EboxParty, SimulatedAttachment } from './model';
import { EboxRequestError, type ReceivedPart } from './publication-request';

/** The checked content of `messageToPublish`, with its attachments matched to their parts. */
export interface ValidPublication {
  sender: { eboxType: 'enterprise'; enterpriseNumber: string };
  recipient: EboxParty;
  subject: { nl?: string; fr?: string; de?: string };
  messageTypeId: string;
  senderApplicationId: string;
  registeredMail: boolean;
  expirationDate?: string;
  attachments: SimulatedAttachment[];
}

type Json = Record<string, unknown>;

function invalid(message: string): EboxRequestError {
  return new EboxRequestError(400, 'INVALID_INPUT', message);
}

function objectAt(value: unknown, what: string): Json {
  if (typeof value !== 'object' || value === null || Array.isArray(value))
    throw invalid(`${what} is missing`);
  return value as Json;
}

function textAt(value: unknown, what: string): string {
  if (typeof value !== 'string' || value.trim() === '') throw invalid(`${what} is missing`);
  return value;
}

function booleanAt(value: unknown, what: string): boolean {
  if (typeof value !== 'boolean') throw invalid(`${what} must be a boolean`);
  return value;
}

function enterpriseNumber(value: unknown, what: string): string {
  const number = textAt(value, `${what}.enterpriseNumber`);
  if (!isValidCbe(number)) throw invalid(`${number} is not a valid company`);
  return number;
}

function parseSender(raw: unknown): ValidPublication['sender'] {
  const sender = objectAt(raw, 'sender');
  if (sender.eboxType !== 'enterprise')
    throw new EboxRequestError(400, 'INVALID_SENDER', 'the sender must be an enterprise e-Box');
  return { eboxType: 'enterprise', enterpriseNumber: enterpriseNumber(sender.enterpriseNumber, 'sender') };
}

function parseRecipient(raw: unknown): EboxParty {
  const recipient = objectAt(raw, 'recipient');
  if (recipient.eboxType === 'citizen') {
    const ssin = textAt(recipient.ssin, 'recipient.ssin');
    if (!isValidInss(ssin)) throw invalid(`${ssin} is not a valid citizen`);
    return { eboxType: 'citizen', ssin };
  }
  if (recipient.eboxType === 'enterprise')
    return {
      eboxType: 'enterprise',
      enterpriseNumber: enterpriseNumber(recipient.enterpriseNumber, 'recipient'),
    };
  throw invalid('recipient.eboxType must be citizen or enterprise');
}

function parseSubject(raw: unknown): ValidPublication['subject'] {
  const subject = objectAt(raw, 'subject');
  const result: ValidPublication['subject'] = {};
  for (const language of ['nl', 'fr', 'de'] as const) {
    const text = subject[language];
    if (text === undefined) continue;
    result[language] = textAt(text, `subject.${language}`);
  }
  if (Object.keys(result).length === 0) throw invalid('subject needs at least one of nl, fr, de');
  return result;
}

function withoutPadding(base64url: string): string {
  return base64url.replace(/=+$/, '');
}

function parseAttachment(raw: unknown, index: number, parts: Map<string, ReceivedPart>): SimulatedAttachment {
  const what = `attachments[${index}]`;
  const attachment = objectAt(raw, what);
  const httpPartName = textAt(attachment.httpPartName, `${what}.httpPartName`);
  const part = parts.get(httpPartName);
  if (!part) throw invalid(`${what}.httpPartName "${httpPartName}" names no part of the request`);
  if (attachment.digest !== undefined) {
    const digest = objectAt(attachment.digest, `${what}.digest`);
    if (digest.digestMethod !== 'sha_256') throw invalid(`${what}.digest.digestMethod must be sha_256`);
    const declared = textAt(digest.digestValue, `${what}.digest.digestValue`);
    if (withoutPadding(declared) !== part.sha256.toString('base64url'))
      throw invalid(`${what}.digest does not match the bytes of part "${httpPartName}"`);
  }
  const result: SimulatedAttachment = {
    httpPartName,
    isMainContent: booleanAt(attachment.isMainContent, `${what}.isMainContent`),
    isAttachmentSigned: booleanAt(attachment.isAttachmentSigned, `${what}.isAttachmentSigned`),
    contentType: part.contentType,
    size: part.size,
    sha256: part.sha256.toString('hex'),
  };
  if (attachment.attachmentTitle !== undefined)
    result.attachmentTitle = textAt(attachment.attachmentTitle, `${what}.attachmentTitle`);
  return result;
}

/** Checks `messageToPublish` as the Message Registry does; throws an {@link EboxRequestError} (400). */
export function validatePublication(raw: unknown, parts: Map<string, ReceivedPart>): ValidPublication {
  const message = objectAt(raw, 'messageToPublish');
  const sender = parseSender(message.sender);
  const recipient = parseRecipient(message.recipient);
  const subject = parseSubject(message.subject);
  const messageTypeId = textAt(message.messageTypeId, 'messageTypeId');
  const senderApplicationId = textAt(message.senderApplicationId, 'senderApplicationId');
  const registeredMail = booleanAt(message.registeredMail, 'registeredMail');
  if (!Array.isArray(message.attachments)) throw invalid('attachments must be an array');
  const attachments = message.attachments.map((attachment, index) =>
    parseAttachment(attachment, index, parts),
  );
  const referenced = new Set(attachments.map((attachment) => attachment.httpPartName));
  if (referenced.size !== attachments.length) throw invalid('two attachments name the same part');
  for (const name of parts.keys())
    if (!referenced.has(name)) throw invalid(`part "${name}" is not referenced by any attachment`);
  const publication: ValidPublication = {
    sender,
    recipient,
    subject,
    messageTypeId,
    senderApplicationId,
    registeredMail,
    attachments,
  };
  if (message.expirationDate !== undefined) {
    const expiration = textAt(message.expirationDate, 'expirationDate');
    if (Number.isNaN(Date.parse(expiration))) throw invalid('expirationDate is not a date');
    publication.expirationDate = new Date(expiration).toISOString();
  }
  return publication;
}
