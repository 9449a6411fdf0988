import type { ProofFileKind } from '../domain/model';
import { NS } from '../xml/namespaces';
import {
  appendPayloadElement,
  Base64Text,
  type PayloadContent,
  type PayloadElement,
} from '../xml/payload-element';

/** A file the service signed, as issued: its bytes, their SHA-256 and the detached CMS signature. */
export interface SignedFileBytes {
  content: Buffer;
  /** SHA-256 of `content`. */
  contentSha256: Buffer;
  /** DER of the detached CMS SignedData over `content`. */
  signature: Buffer;
}

/** How a signed file is described to the client, the same in both ports. */
export interface SignedFileDescription {
  title: string;
  downloadFileName: string;
  type: string;
}

/** Title, DownloadFileName and Type of each kind (v1's receipt and ProofOfDispatch use the same). */
export const SIGNED_FILE_DESCRIPTIONS: Readonly<Record<ProofFileKind, SignedFileDescription>> = {
  RECEIPT: { title: 'Receipt', downloadFileName: 'Receipt.xml', type: 'RECEIPT' },
  DISPATCH: { title: 'ProofOfDispatch', downloadFileName: 'ProofOfDispatch.xml', type: 'PROOF_OF_DISPATCH' },
  CONSULTATION: {
    title: 'ProofOfConsultation',
    downloadFileName: 'ProofOfConsultation.xml',
    type: 'PROOF_OF_CONSULTATION',
  },
};

/**
 * Fills a signed file element (a v1 `types:SignedFile` or a RegisteredMailService `ProofFile`, which
 * have the same sequence): Title, Digest (SHA-256 of the content), DownloadFileName, MIME `text/xml`,
 * Type, Language `en`, Content, Signature (base64 of the detached CMS signature).
 * @param element the signed file element, empty
 * @param vocabulary the namespace of the element's own children and its prefix (`types` in v1)
 * @param content the text of `Content`: a `cid:` URL (v1) or the base64 of the bytes (inline)
 */
export function fillSignedFile(
  element: PayloadElement,
  vocabulary: { namespace: string; prefix: string },
  kind: ProofFileKind,
  file: SignedFileBytes,
  content: string | Base64Text,
): void {
  const description = SIGNED_FILE_DESCRIPTIONS[kind];
  const append = (localName: string, value: PayloadContent) =>
    appendPayloadElement(element, vocabulary.namespace, `${vocabulary.prefix}:${localName}`, value);
  append('Title', description.title);
  append('Digest', (digest) => {
    // The Digest's own children are v1 types in both ports.
    appendPayloadElement(digest, NS.types, 'types:DigestMethod', 'SHA-256');
    appendPayloadElement(digest, NS.types, 'types:DigestValue', new Base64Text(file.contentSha256));
  });
  append('DownloadFileName', description.downloadFileName);
  append('MIME', 'text/xml');
  append('Type', description.type);
  append('Language', 'en');
  append('Content', content);
  append('Signature', new Base64Text(file.signature));
}
