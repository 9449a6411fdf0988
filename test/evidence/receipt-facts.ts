import type { ReceiptFacts } from '../../src/evidence/receipt-content';

/** Receipt facts with every optional part: a citizen recipient, two annexes (one without MIME). */
export const citizenFacts: ReceiptFacts = {
  ticket: '0123456789ABC',
  token: 'my-token-1',
  recipient: { kind: 'citizen', inss: '85073003328', qualityCode: 'CITIZEN' },
  sender: { cbe: '0861023666', applicationId: 'dev-sender-1' },
  document: {
    title: 'Décision <n°1> & "annexe"',
    digest: { method: 'SHA-256', value: Buffer.alloc(32, 0xab) },
    downloadFileName: 'decision.pdf',
    mime: 'application/pdf',
    type: 'EDER501',
    language: 'fr',
  },
  annexes: [
    {
      title: 'Annex one',
      digest: { method: 'SHA-512', value: Buffer.alloc(64, 0x01) },
      downloadFileName: 'annex1.csv',
      mime: 'text/csv',
    },
    {
      title: 'Annex two',
      digest: { method: 'SHA-256', value: Buffer.alloc(32, 0x02) },
      downloadFileName: 'annex2.bin',
      mime: undefined,
    },
  ],
};
