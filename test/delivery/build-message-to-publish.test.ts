import { buildMessageToPublish, subjectOf } from '../../src/delivery/build-message-to-publish';
import { citizenItem, fileOf } from './publication-fixtures';

describe('buildMessageToPublish', () => {
  it('builds the exact messageToPublish of a citizen item', () => {
    const item = citizenItem();
    expect(JSON.parse(JSON.stringify(buildMessageToPublish(item)))).toEqual({
      sender: { eboxType: 'enterprise', enterpriseNumber: '0206731645' },
      recipient: { eboxType: 'citizen', ssin: '85073003328' },
      subject: { fr: 'Avis de paiement' },
      messageTypeId: 'TAX_NOTICE',
      senderApplicationId: 'MYAPP',
      registeredMail: true,
      attachments: [
        {
          httpPartName: 'document',
          isMainContent: true,
          isAttachmentSigned: false,
          attachmentTitle: 'Avis de paiement',
          digest: { digestMethod: 'sha_256', digestValue: item.document.sha256.toString('base64url') },
        },
        {
          httpPartName: 'annex1',
          isMainContent: false,
          isAttachmentSigned: false,
          attachmentTitle: 'Annexe 1',
          digest: { digestMethod: 'sha_256', digestValue: item.annexes[0].sha256.toString('base64url') },
        },
      ],
    });
    // base64url: no padding, no + or /
    expect(item.document.sha256.toString('base64url')).toMatch(/^[A-Za-z0-9_-]{43}$/);
  });

  it('builds the exact messageToPublish of an enterprise item without annexes', () => {
    const document = fileOf('Bericht', 'bericht.xml', 'application/xml', Buffer.from('<a/>'));
    const item = citizenItem({
      recipient: { kind: 'enterprise', cbe: '0861023666' },
      language: 'nl',
      document,
      annexes: [],
      documentType: 'NOTICE',
    });
    expect(JSON.parse(JSON.stringify(buildMessageToPublish(item)))).toEqual({
      sender: { eboxType: 'enterprise', enterpriseNumber: '0206731645' },
      recipient: { eboxType: 'enterprise', enterpriseNumber: '0861023666' },
      subject: { nl: 'Bericht' },
      messageTypeId: 'NOTICE',
      senderApplicationId: 'MYAPP',
      registeredMail: true,
      attachments: [
        {
          httpPartName: 'document',
          isMainContent: true,
          isAttachmentSigned: false,
          attachmentTitle: 'Bericht',
          digest: { digestMethod: 'sha_256', digestValue: document.sha256.toString('base64url') },
        },
      ],
    });
  });

  it.each([
    ['nl', { nl: 'T' }],
    ['fr', { fr: 'T' }],
    ['de', { de: 'T' }],
    ['en', { nl: 'T', fr: 'T', de: 'T' }],
    ['bi', { nl: 'T', fr: 'T', de: 'T' }],
    [undefined, { nl: 'T', fr: 'T', de: 'T' }],
  ] as const)('takes the subject in language %s as %j', (language, subject) => {
    expect(subjectOf('T', language)).toEqual(subject);
    expect(buildMessageToPublish(citizenItem({ language })).subject).toEqual(
      Object.fromEntries(Object.keys(subject).map((key) => [key, 'Avis de paiement'])),
    );
  });
});
