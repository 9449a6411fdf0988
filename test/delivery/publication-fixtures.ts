import { createHash } from 'node:crypto';
import { Readable } from 'node:stream';
import type { EboxClientSettings } from '../../src/delivery/ebox-client-settings';
import type { PublicationFile, PublicationItem } from '../../src/delivery/publication-item';

/** A file whose bytes are `content`; `opened` counts the streams opened. */
export function fileOf(title: string, fileName: string, mime: string | undefined, content: Buffer) {
  const file: PublicationFile & { opened: number } = {
    title,
    fileName,
    mime,
    sha256: createHash('sha256').update(content).digest(),
    opened: 0,
    open() {
      file.opened += 1;
      return Readable.from([content]);
    },
  };
  return file;
}

/** A citizen item with a PDF document and one annex. */
export function citizenItem(overrides: Partial<PublicationItem> = {}): PublicationItem {
  return {
    ticket: 'RM-TICKET-0001',
    sender: { cbe: '0206731645', applicationId: 'MYAPP' },
    recipient: { kind: 'citizen', inss: '85073003328' },
    documentType: 'TAX_NOTICE',
    language: 'fr',
    document: fileOf(
      'Avis de paiement',
      'avis.pdf',
      'application/pdf',
      Buffer.from('%PDF-1.7 document bytes'),
    ),
    annexes: [fileOf('Annexe 1', 'annexe.txt', 'text/plain', Buffer.from('annex bytes'))],
    ...overrides,
  };
}

/** Settings for a fake e-Box at `url`. */
export function settingsFor(url: string, timeoutMs = 10_000): EboxClientSettings {
  return { baseUrl: url, clientId: 'rm-client', clientSecret: 's3cret', timeoutMs };
}
