import type { Language, Sender } from '../domain/model';

/** The recipient's e-Box: a citizen's (INSS) or an enterprise's (CBE). The domain's `Recipient` fits. */
export type EboxRecipient = { kind: 'citizen'; inss: string } | { kind: 'enterprise'; cbe: string };

/** One file to publish (the document or an annex): its description and a way to read its bytes. */
export interface PublicationFile {
  title: string;
  fileName: string;
  /** The MIME type; `application/octet-stream` is sent when undefined. */
  mime: string | undefined;
  /** SHA-256 of the bytes (the blob store's address). */
  sha256: Buffer;
  /** Opens the bytes as a new stream; called once per publication attempt, only when the part is sent. */
  open(): NodeJS.ReadableStream;
}

/** Everything needed to publish one item into the recipient's e-Box. */
export interface PublicationItem {
  /** The item's ticket: the `Idempotency-Key`, so a repeated publication never makes a second message. */
  ticket: string;
  sender: Sender;
  recipient: EboxRecipient;
  /** The document's Type: the e-Box `messageTypeId`. */
  documentType: string;
  /** The document's Language: the subject's language(s). */
  language: Language | undefined;
  document: PublicationFile;
  annexes: PublicationFile[];
}

/** The outcome of a publication that the e-Box accepted (now or earlier). */
export interface PublicationResult {
  messageId: string;
  /** When the e-Box accepted it: its answer's time, or its receiptDate when it tells it (409 recovery). */
  publishedAt: Date;
  /** The e-Box accepted it with `NO_DIGITAL_USER`: the recipient never opened an e-Box. */
  noDigitalUser: boolean;
  /** The key was already used (409): this is the message of an earlier attempt. */
  alreadyPublished: boolean;
}
