import type { RegisteredMailItemEntity } from '../../src/storage/entities';

/** When the rows of {@link itemRow} were accepted. */
export const ACCEPTED_AT = new Date('2025-03-14T09:26:53.589Z');

/** A registered_mail_item row of ticket and Token (null: no Token), every column filled. */
export function itemRow(ticket: string, token: string | null): RegisteredMailItemEntity {
  return {
    ticket,
    token: token ?? '',
    idempotencyToken: token,
    senderCbe: '0123456749',
    senderApplicationId: 'sender-app',
    recipientKind: 'citizen',
    recipientId: '85073003328',
    recipientQualityCode: 'CITIZEN',
    checkEboxStatus: 'BYPASS',
    meta: '[{"type":"k","values":["v"]}]',
    status: 'PENDING',
    requestFingerprint: 'f'.repeat(64),
    acceptedAt: ACCEPTED_AT,
    updatedAt: new Date(ACCEPTED_AT.getTime() + 1),
  };
}
