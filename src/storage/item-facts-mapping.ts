import { In, type EntityManager } from 'typeorm';
import type { ItemFacts, StoredFileRef } from '../domain/outbox';
import type { AnnexDescription, DocumentDescription, Recipient } from '../domain/model';
import { ItemFileEntity, ItemReceiptEntity, RegisteredMailItemEntity } from './entities';

/*
 * Stored rows back to the domain's view of an accepted item (the reverse of what the item store writes
 * on acceptance). The one place that knows how an item's description is laid out in the tables.
 */

/** The recipient as the item row stores it (kind, INSS or CBE, quality code). */
export function recipientOf(item: RegisteredMailItemEntity): Recipient {
  return item.recipientKind === 'citizen'
    ? { kind: 'citizen', inss: item.recipientId, qualityCode: item.recipientQualityCode }
    : { kind: 'enterprise', cbe: item.recipientId, qualityCode: item.recipientQualityCode };
}

function storedFileRef(file: ItemFileEntity): StoredFileRef {
  return { blobSha256: file.blobSha256, size: file.size };
}

function documentOf(file: ItemFileEntity): DocumentDescription & StoredFileRef {
  return {
    title: file.title,
    digest: { method: file.digestMethod, value: Buffer.from(file.digestValue, 'base64') },
    downloadFileName: file.downloadFileName,
    mime: file.mime ?? undefined,
    type: file.documentType ?? '',
    language: file.language ?? undefined,
    ...storedFileRef(file),
  };
}

function annexOf(file: ItemFileEntity): AnnexDescription & StoredFileRef {
  return {
    title: file.title,
    digest: { method: file.digestMethod, value: Buffer.from(file.digestValue, 'base64') },
    downloadFileName: file.downloadFileName,
    mime: file.mime ?? undefined,
    ...storedFileRef(file),
  };
}

/**
 * The facts of one item from its row, its file rows (any order) and its receipt's time (the submission
 * time its evidences state).
 */
export function itemFactsOf(
  item: RegisteredMailItemEntity,
  files: ItemFileEntity[],
  receiptIssuedAt: Date,
): ItemFacts {
  const ordered = [...files].sort((a, b) => a.position - b.position);
  const [document, ...annexes] = ordered;
  if (
    document === undefined ||
    document.role !== 'DOCUMENT' ||
    annexes.some((file) => file.role !== 'ANNEX')
  ) {
    throw new Error(`The files of item ${item.ticket} are not one document followed by annexes`);
  }
  return {
    ticket: item.ticket,
    token: item.token,
    sender: { cbe: item.senderCbe, applicationId: item.senderApplicationId },
    recipient: recipientOf(item),
    document: documentOf(document),
    annexes: annexes.map(annexOf),
    acceptedAt: receiptIssuedAt,
  };
}

/**
 * Loads the facts of these items (three queries whatever their number), keyed by ticket. A ticket
 * without an item, files or receipt is an inconsistent database: it throws.
 */
export async function loadItemFacts(
  manager: EntityManager,
  tickets: readonly string[],
): Promise<Map<string, ItemFacts>> {
  const facts = new Map<string, ItemFacts>();
  if (tickets.length === 0) return facts;
  const where = { ticket: In([...tickets]) };
  const items = await manager.find(RegisteredMailItemEntity, { where });
  const files = await manager.find(ItemFileEntity, { where });
  const receipts = await manager.find(ItemReceiptEntity, { select: { ticket: true, issuedAt: true }, where });
  const filesByTicket = new Map<string, ItemFileEntity[]>();
  for (const file of files) {
    const list = filesByTicket.get(file.ticket) ?? [];
    list.push(file);
    filesByTicket.set(file.ticket, list);
  }
  const receiptTimes = new Map(receipts.map((receipt) => [receipt.ticket, receipt.issuedAt]));
  for (const item of items) {
    const issuedAt = receiptTimes.get(item.ticket);
    if (issuedAt === undefined) throw new Error(`No receipt stored for ticket ${item.ticket}`);
    facts.set(item.ticket, itemFactsOf(item, filesByTicket.get(item.ticket) ?? [], issuedAt));
  }
  for (const ticket of tickets) {
    if (!facts.has(ticket)) throw new Error(`No item stored for ticket ${ticket}`);
  }
  return facts;
}
