import { DOMParser, type Element } from '@xmldom/xmldom';
import { parseResponse, type HttpResult, type ParsedResponse } from './soap-client';

/*
 * Reads the SignedFile elements of v1 responses (a receipt's Document, getStatus's ProofOfDispatch) as a
 * client would: the metadata from the envelope, the content from the MIME part its `cid:` names (split
 * by the real MIME parser of soap-client), the signature decoded from base64.
 */

const TYPES = 'http://socialsecurity.be/registeredmail/types/v1';

/** A SignedFile of a response with the part it names. */
export interface SignedFileView {
  title: string;
  downloadFileName: string;
  mime: string;
  type: string;
  language: string;
  digestMethod: string;
  /** Base64, as in the envelope. */
  digestValue: string;
  /** The `Content` as written (`cid:...`). */
  contentReference: string;
  /** The bytes of the part the reference names. */
  content: Buffer;
  /** That part's Content-Type. */
  contentType: string;
  /** DER of the detached CMS signature (the base64 `Signature` decoded). */
  signature: Buffer;
}

/** getStatus's answer. */
export interface StatusAnswer {
  ticket: string;
  token: string;
  status: string;
  /** Present once the item is SENT. */
  proofOfDispatch: SignedFileView | undefined;
  /** How many MIME parts came besides the envelope. */
  attachmentCount: number;
}

/** The text of the first types-namespace descendant called `localName` ('' when there is none). */
export function typesText(parent: Element, localName: string): string {
  return parent.getElementsByTagNameNS(TYPES, localName)[0]?.textContent ?? '';
}

function parseEnvelope(envelope: string): Element {
  return new DOMParser().parseFromString(envelope, 'text/xml').documentElement as Element;
}

/**
 * Reads a SignedFile element and the part its Content names.
 * @throws Error when no part has the Content-ID its `cid:` names
 */
export function readSignedFile(parsed: ParsedResponse, element: Element): SignedFileView {
  const contentReference = typesText(element, 'Content');
  const contentId = decodeURIComponent(contentReference.replace(/^cid:/, ''));
  const part = parsed.attachments.get(contentId);
  if (part === undefined) throw new Error(`no MIME part has the Content-ID that ${contentReference} names`);
  return {
    title: typesText(element, 'Title'),
    downloadFileName: typesText(element, 'DownloadFileName'),
    mime: typesText(element, 'MIME'),
    type: typesText(element, 'Type'),
    language: typesText(element, 'Language'),
    digestMethod: typesText(element, 'DigestMethod'),
    digestValue: typesText(element, 'DigestValue'),
    contentReference,
    content: part.content,
    contentType: part.contentType,
    signature: Buffer.from(typesText(element, 'Signature'), 'base64'),
  };
}

/**
 * Reads a getStatus answer (single-part, or multipart with the ProofOfDispatch's part).
 * @throws Error when the answer is not HTTP 200
 */
export async function readStatusAnswer(result: HttpResult): Promise<StatusAnswer> {
  if (result.status !== 200)
    throw new Error(`getStatus answered HTTP ${result.status}: ${result.body.toString().slice(0, 1500)}`);
  const parsed = await parseResponse(result);
  const response = parseEnvelope(parsed.envelope).getElementsByTagNameNS(
    'http://socialsecurity.be/registeredmail/v1',
    'GetStatusResponse',
  )[0];
  if (response === undefined) throw new Error(`no GetStatusResponse in ${parsed.envelope.slice(0, 1500)}`);
  const proof = response.getElementsByTagNameNS(TYPES, 'ProofOfDispatch')[0];
  return {
    ticket: typesText(response, 'Ticket'),
    token: typesText(response, 'Token'),
    status: typesText(response, 'Status'),
    proofOfDispatch: proof === undefined ? undefined : readSignedFile(parsed, proof),
    attachmentCount: parsed.attachments.size,
  };
}

/**
 * The ticket of a sendDocument answer.
 * @throws Error when the item was not accepted
 */
export async function ticketOfSendAnswer(result: HttpResult): Promise<string> {
  if (result.status !== 200)
    throw new Error(`sendDocument answered HTTP ${result.status}: ${result.body.toString().slice(0, 1500)}`);
  const parsed = await parseResponse(result);
  const ticket = typesText(parseEnvelope(parsed.envelope), 'Ticket');
  if (ticket === '') throw new Error(`no Ticket in ${parsed.envelope.slice(0, 1500)}`);
  return ticket;
}
