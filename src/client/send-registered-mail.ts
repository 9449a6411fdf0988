import type { Element } from '@xmldom/xmldom';
import type { CheckEboxStatus, Language, Recipient } from '../domain/model';
import { requiredChild, requiredText } from '../xml/element-reader';
import { NS } from '../xml/namespaces';
import type { ClientContext } from './client-context';
import { ClientError } from './client-errors';
import { sha256OfFile } from './file-digest';
import { appendXopInclude, newContentId } from './mtom-package';
import { readProofFile, type ProofFile } from './proof-file';
import { checkReceiptAcknowledges } from './receipt-check';
import { appendServiceElement, appendTypesElement, createRequestEnvelope } from './request-envelope';
import { SERVICE_NAMESPACE } from './service-endpoint';
import { exchange, readPayload } from './soap-exchange';

/** The main document of an item: a file and what the recipient is told about it. */
export interface DocumentToSend {
  /** The file; its bytes are streamed, never read whole into memory. */
  path: string;
  /** 1..400 characters. */
  title: string;
  /** The name the recipient downloads it under: 1..80 characters. */
  downloadFileName: string;
  /** One of the media types the e-Box accepts; none is sent when undefined. */
  mime: string | undefined;
  /** The document type, e.g. EDER501: 1..80 characters. */
  type: string;
  language: Language | undefined;
}

/** One SendRegisteredMail: one document for one recipient. */
export interface SendRegisteredMailRequest {
  /** The sender's own identifier of the item (0..50 characters): sending again with it is a retry. */
  token: string;
  recipient: Recipient;
  /** ACTIVATED (the service's default) when undefined. */
  checkEboxStatus?: CheckEboxStatus;
  document: DocumentToSend;
}

/** What the service answered, once checked. */
export interface SendRegisteredMailResult {
  ticket: string;
  token: string;
  /** Receipt.xml and its CAdES-T signature, as answered. */
  receipt: ProofFile;
  /** The SHA-256 of the document sent (which the receipt acknowledges). */
  documentSha256: Buffer;
  /** The document's size in bytes. */
  documentSize: number;
}

function appendRecipient(payload: Element, recipient: Recipient): void {
  const element = appendServiceElement(payload, 'Recipient');
  element.setAttributeNS(NS.xmlns, 'xmlns:xsi', NS.xsi);
  if (recipient.kind === 'citizen') {
    element.setAttributeNS(NS.xsi, 'xsi:type', 'types:Citizen');
    appendTypesElement(element, 'INSS', recipient.inss);
  } else {
    element.setAttributeNS(NS.xsi, 'xsi:type', 'types:Enterprise');
    appendTypesElement(element, 'CompanyID', recipient.cbe);
  }
  appendTypesElement(element, 'QualityCode', recipient.qualityCode);
}

/**
 * SendRegisteredMail: hashes the document (streaming the file), builds the request (elements in the
 * XSD's order, the Content an `xop:Include` of an MTOM part), signs it, sends it with the file streamed
 * into the part, verifies the answer's signature, and checks that the receipt's Digest is that of its
 * content and that the receipt acknowledges the ticket and the document's SHA-256.
 * @throws ServiceFaultError, ClientError, UntrustedAnswerError (see `exchange`); ClientUsageError when the
 *   file cannot be read
 */
export async function sendRegisteredMail(
  context: ClientContext,
  request: SendRegisteredMailRequest,
): Promise<SendRegisteredMailResult> {
  const { document } = request;
  const { sha256, size } = await sha256OfFile(document.path);
  const contentId = newContentId('document');
  const { document: envelope, payload } = createRequestEnvelope('SendRegisteredMailRequest');
  appendServiceElement(payload, 'Token', request.token);
  appendRecipient(payload, request.recipient);
  if (request.checkEboxStatus !== undefined)
    appendServiceElement(payload, 'CheckEboxStatus', request.checkEboxStatus);
  appendServiceElement(payload, 'Document', (element) => {
    appendServiceElement(element, 'Title', document.title);
    appendServiceElement(element, 'Digest', (digest) => {
      appendTypesElement(digest, 'DigestMethod', 'SHA-256');
      appendTypesElement(digest, 'DigestValue', sha256.toString('base64'));
    });
    appendServiceElement(element, 'DownloadFileName', document.downloadFileName);
    if (document.mime !== undefined) appendServiceElement(element, 'MIME', document.mime);
    appendServiceElement(element, 'Type', document.type);
    if (document.language !== undefined) appendServiceElement(element, 'Language', document.language);
    appendServiceElement(element, 'Content', (content) => appendXopInclude(content, contentId));
  });

  const answer = await exchange(context, {
    operation: 'SendRegisteredMail',
    envelope,
    parts: [{ contentId, contentType: document.mime ?? 'application/octet-stream', path: document.path }],
  });
  const result = readPayload(answer, (element) => ({
    ticket: requiredText(element, SERVICE_NAMESPACE, 'Ticket').trim(),
    token: requiredText(element, SERVICE_NAMESPACE, 'Token'),
    receipt: readProofFile(requiredChild(element, SERVICE_NAMESPACE, 'Receipt')),
  }));
  if (result.token !== request.token) {
    throw new ClientError(`the answer names Token ${result.token}, not ${request.token}`);
  }
  checkReceiptAcknowledges(result.receipt.content, { ticket: result.ticket, documentSha256: sha256 });
  return { ...result, documentSha256: sha256, documentSize: size };
}
