import type { Recipient } from '../domain/model';
import type { ItemFacts, StoredFileRef } from '../domain/outbox';
import type { EboxRecipient, PublicationFile, PublicationItem } from './publication-item';

/** Where the bytes of stored files are read from (the storage's `ContentStore` fits). */
export interface BlobSource {
  /**
   * A new stream of the content's bytes.
   * @param sha256Hex the content's address: its SHA-256 in hex
   */
  openReadStream(sha256Hex: string): NodeJS.ReadableStream;
}

/** The e-Box a domain recipient is reached in (its INSS or CBE). */
export function eboxRecipientOf(recipient: Recipient): EboxRecipient {
  return recipient.kind === 'citizen'
    ? { kind: 'citizen', inss: recipient.inss }
    : { kind: 'enterprise', cbe: recipient.cbe };
}

function publicationFileOf(
  file: { title: string; downloadFileName: string; mime: string | undefined } & StoredFileRef,
  blobs: BlobSource,
): PublicationFile {
  return {
    title: file.title,
    fileName: file.downloadFileName,
    mime: file.mime,
    sha256: Buffer.from(file.blobSha256, 'hex'),
    open: () => blobs.openReadStream(file.blobSha256),
  };
}

/**
 * What the publication client needs of a stored item: its recipient's e-Box, the document's type and
 * language, and its files, each opened from the blob store only when it is sent.
 */
export function publicationItemOf(item: ItemFacts, blobs: BlobSource): PublicationItem {
  return {
    ticket: item.ticket,
    sender: item.sender,
    recipient: eboxRecipientOf(item.recipient),
    documentType: item.document.type,
    language: item.document.language,
    document: publicationFileOf(item.document, blobs),
    annexes: item.annexes.map((annex) => publicationFileOf(annex, blobs)),
  };
}
