import {
  PLACEHOLDER_EVIDENCE_POLICY_ID,
  type EvidenceEventFacts,
  type EvidenceFacts,
  type EvidenceIssuerIdentity,
} from '../../src/evidence/evidence-content';

/*
 * Evidence facts about the items of fixtures/v1: the citizen item of sendDocument-citizen.xml (ticket of
 * Receipt.xml) consigned to and consulted in the e-Box, and the enterprise item of
 * sendDocument-enterprise.xml (sent with BYPASS) whose consignment failed. fixtures/evidence/ holds the
 * evidence built from SAMPLE_EVIDENCE.
 */

const digest = (base64: string) => ({ method: 'SHA-256' as const, value: Buffer.from(base64, 'base64') });

/** The operator in the samples (a valid CBE number of the contract's examples). */
export const SAMPLE_ISSUER: EvidenceIssuerIdentity = {
  name: 'RegisteredMail sample operator',
  cbe: '0406798006',
  serviceUrl: 'https://registeredmail.example/RegisteredMail/v1',
  policyId: PLACEHOLDER_EVIDENCE_POLICY_ID,
};

const citizenItem = {
  submissionTime: new Date('2024-07-01T09:30:00.000Z'),
  sender: { cbe: '0861023666', applicationId: 'RegisteredMailSampleSender' },
  recipient: { kind: 'citizen', inss: '85073003328', qualityCode: 'CITIZEN' },
  ticket: '7K3M9QX2BH4TZ',
  token: 'DOSSIER-2024-000123',
  document: {
    title: 'Decision on your file DOSSIER-2024-000123',
    digest: digest('q2+KflNj0Ep59lA4IvslzstvKMDvtXS3y1Ys/+9zVwM='),
    downloadFileName: 'decision.pdf',
    mime: 'application/pdf',
    type: 'EDER501',
    language: 'fr',
  },
  annexes: [
    {
      title: 'Explanatory note',
      digest: digest('ufeTd30wHKcnxk2MnPHFeHNFhTY9DwRwvB8DWaO8yuA='),
      downloadFileName: 'note.txt',
      mime: 'text/plain',
    },
    {
      title: 'Calculation details',
      digest: digest('n3WmrLykT4DBxzZbHADkMud2X2r3o3jgFLjmOr6WTss='),
      downloadFileName: 'calculation.csv',
      mime: 'text/csv',
    },
  ],
} as const satisfies Partial<EvidenceEventFacts>;

/** The citizen item deposited in the e-Box: the proof of dispatch. */
export const consignmentFacts: EvidenceEventFacts = {
  ...citizenItem,
  annexes: [...citizenItem.annexes],
  event: 'ContentConsignment',
  eventTime: new Date('2024-07-01T09:31:05.250Z'),
  eboxMessageId: 'EBOX-MSG-5f0c2a81',
};

/** The same item consulted by the citizen: the proof of consultation. */
export const handoverFacts: EvidenceEventFacts = {
  ...consignmentFacts,
  event: 'ContentHandover',
  eventTime: new Date('2024-07-03T18:02:44.000Z'),
};

/** The enterprise item (sent with BYPASS) that could not be deposited: the proof of non-delivery. */
export const consignmentFailureFacts: EvidenceEventFacts = {
  event: 'ContentConsignmentFailure',
  reasons: [{ code: 'EBOX_B01', details: "The recipient's e-Box is not activated." }],
  eventTime: new Date('2024-07-08T07:15:12.004Z'),
  submissionTime: new Date('2024-07-08T07:15:10.931Z'),
  sender: { cbe: '0861023666', applicationId: 'RegisteredMailSampleSender' },
  recipient: { kind: 'enterprise', cbe: '0206731645', qualityCode: 'QUAL_EMP_NOSS' },
  ticket: 'R4W8N2C6HJ1PQ',
  token: 'EMP-0206731645-2024-07',
  document: {
    title: 'Formal notice of contributions due',
    digest: digest('q2+KflNj0Ep59lA4IvslzstvKMDvtXS3y1Ys/+9zVwM='),
    downloadFileName: 'notice.pdf',
    mime: 'application/pdf',
    type: 'NOTICE',
    language: 'nl',
  },
  annexes: [],
};

/** One sample per fixture file of fixtures/evidence/, with its evidence identifier. */
export const SAMPLE_EVIDENCE: ReadonlyArray<{ file: string; facts: EvidenceFacts }> = [
  {
    file: 'ContentConsignment.xml',
    facts: { ...consignmentFacts, evidenceId: '3f1e7c52-8a4b-4d0e-9b61-2c7a5e90d4f8', issuer: SAMPLE_ISSUER },
  },
  {
    file: 'ContentHandover.xml',
    facts: { ...handoverFacts, evidenceId: 'a9c04d17-2e6f-4b38-8d05-71f3b2e6c9a0', issuer: SAMPLE_ISSUER },
  },
  {
    file: 'ContentConsignmentFailure.xml',
    facts: {
      ...consignmentFailureFacts,
      evidenceId: 'd27b5e90-41c3-4f8a-a6e2-9e08c1f47b35',
      issuer: SAMPLE_ISSUER,
    },
  },
];
