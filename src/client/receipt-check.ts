import type { Element } from '@xmldom/xmldom';
import { optionalChild, optionalText } from '../xml/element-reader';
import { createDomParser } from '../xml/dom-parser';
import { NS } from '../xml/namespaces';
import { ClientError } from './client-errors';

function parseReceipt(content: Buffer): Element {
  const parser = createDomParser({
    onError: (level, message) => {
      if (level !== 'warning') throw new Error(String(message));
    },
  });
  try {
    const root = parser.parseFromString(content.toString('utf8'), 'text/xml').documentElement;
    if (root && root.namespaceURI === NS.types && root.localName === 'ReceiptContent') return root as Element;
  } catch {
    // Said below.
  }
  throw new ClientError('the receipt is not a ReceiptContent document');
}

/**
 * Checks that a receipt (Receipt.xml, a `types:ReceiptContent`) acknowledges what was sent: the ticket
 * answered, and the document by its SHA-256 as computed from the file. The receipt's signature is checked
 * by whoever relies on it (`registered-mail verify-proof`, openssl): this check is about the item.
 * @throws ClientError saying what differs
 */
export function checkReceiptAcknowledges(
  receipt: Buffer,
  expected: { ticket: string; documentSha256: Buffer },
): void {
  const root = parseReceipt(receipt);
  const ticket = optionalText(root, NS.types, 'Ticket')?.trim();
  if (ticket !== expected.ticket) {
    throw new ClientError(`the receipt names ticket ${ticket ?? '(none)'}, not ${expected.ticket}`);
  }
  const document = optionalChild(root, NS.types, 'Document');
  const digest = document && optionalChild(document, NS.types, 'Digest');
  const method = digest && optionalText(digest, NS.types, 'DigestMethod')?.trim();
  const value = (digest && optionalText(digest, NS.types, 'DigestValue')?.trim()) ?? '';
  if (method !== 'SHA-256' || !Buffer.from(value, 'base64').equals(expected.documentSha256)) {
    throw new ClientError('the receipt does not acknowledge the document sent (its SHA-256 differs)');
  }
}
