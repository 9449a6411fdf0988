import { createHash, timingSafeEqual } from 'node:crypto';
import type { Element } from '@xmldom/xmldom';
import { requiredChild, requiredText } from '../xml/element-reader';
import { NS } from '../xml/namespaces';
import { ClientError } from './client-errors';
import { SERVICE_NAMESPACE } from './service-endpoint';

/** A file the service signed (a receipt, a proof of dispatch or of consultation), as answered. */
export interface ProofFile {
  title: string;
  downloadFileName: string;
  mime: string;
  type: string;
  language: string;
  /** The signed bytes, exactly as answered (decoded from base64). */
  content: Buffer;
  /** DER of the detached CMS (CAdES-T) signature over {@link content}. */
  signature: Buffer;
}

function base64Child(element: Element, localName: string): Buffer {
  return Buffer.from(requiredText(element, SERVICE_NAMESPACE, localName).trim(), 'base64');
}

/**
 * Reads a `ProofFile` element (a SendRegisteredMailResponse's Receipt, a GetProofResponse's File) and
 * checks that its Digest (SHA-256) is that of its Content.
 * @throws ClientError when the Digest is not the SHA-256 of the Content; Error when an element is missing
 */
export function readProofFile(element: Element): ProofFile {
  const digest = requiredChild(element, SERVICE_NAMESPACE, 'Digest');
  const digestMethod = requiredText(digest, NS.types, 'DigestMethod').trim();
  const digestValue = Buffer.from(requiredText(digest, NS.types, 'DigestValue').trim(), 'base64');
  const file: ProofFile = {
    title: requiredText(element, SERVICE_NAMESPACE, 'Title'),
    downloadFileName: requiredText(element, SERVICE_NAMESPACE, 'DownloadFileName'),
    mime: requiredText(element, SERVICE_NAMESPACE, 'MIME'),
    type: requiredText(element, SERVICE_NAMESPACE, 'Type'),
    language: requiredText(element, SERVICE_NAMESPACE, 'Language'),
    content: base64Child(element, 'Content'),
    signature: base64Child(element, 'Signature'),
  };
  const actual = createHash('sha256').update(file.content).digest();
  if (
    digestMethod !== 'SHA-256' ||
    digestValue.length !== actual.length ||
    !timingSafeEqual(digestValue, actual)
  ) {
    throw new ClientError(`the ${file.title} answered is not the file its Digest describes`);
  }
  return file;
}
