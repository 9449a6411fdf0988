import { DOMParser, type Element } from '@xmldom/xmldom';

/*
 * Reads an Evidence document (urn:registeredmail:evidence:v1: the content of a ProofOfDispatch or a
 * consultation proof) into plain values, as a relying party reading the proof would.
 */

const EVIDENCE = 'urn:registeredmail:evidence:v1';

/** One `Part` of the evidence's UserContentInfo. */
export interface EvidencePart {
  role: string;
  title: string;
  fileName: string;
  digestMethod: string;
  /** Base64. */
  digestValue: string;
}

/** What an Evidence states. */
export interface EvidenceView {
  rootName: string;
  evidenceId: string;
  event: string;
  eventTime: string;
  submissionTime: string;
  sender: { cbe: string; applicationId: string };
  recipient: { inss: string; cbe: string; qualityCode: string; eboxMessageId: string };
  ticket: string;
  token: string;
  parts: EvidencePart[];
  issuer: { name: string; cbe: string; serviceUrl: string };
  policyId: string;
}

function child(parent: Element | undefined, localName: string): Element | undefined {
  return parent?.getElementsByTagNameNS(EVIDENCE, localName)[0];
}

function text(parent: Element | undefined, localName: string): string {
  return child(parent, localName)?.textContent ?? '';
}

/**
 * Parses an Evidence's bytes.
 * @throws Error when they are not well-formed XML
 */
export function readEvidence(content: Buffer): EvidenceView {
  const root = new DOMParser({
    onError: (level, message) => {
      if (level !== 'warning') throw new Error(`the evidence is not well-formed XML: ${String(message)}`);
    },
  }).parseFromString(content.toString('utf8'), 'text/xml').documentElement as Element;
  const sender = child(root, 'SenderDetails');
  const recipient = child(root, 'RecipientDetails');
  const issuer = child(root, 'EvidenceIssuerDetails');
  return {
    rootName: `{${root.namespaceURI}}${root.localName}`,
    evidenceId: text(root, 'EvidenceIdentifier'),
    event: text(root, 'ERDSEventId'),
    eventTime: text(root, 'EventTime'),
    submissionTime: text(root, 'SubmissionTime'),
    sender: { cbe: text(sender, 'CompanyID'), applicationId: text(sender, 'ApplicationID') },
    recipient: {
      inss: text(recipient, 'INSS'),
      cbe: text(child(recipient, 'Enterprise'), 'CompanyID'),
      qualityCode: text(recipient, 'QualityCode'),
      eboxMessageId: text(recipient, 'EboxMessageId'),
    },
    ticket: text(root, 'Ticket'),
    token: text(root, 'Token'),
    parts: Array.from(root.getElementsByTagNameNS(EVIDENCE, 'Part')).map((part) => ({
      role: text(part, 'Role'),
      title: text(part, 'Title'),
      fileName: text(part, 'FileName'),
      digestMethod: text(part, 'DigestMethod'),
      digestValue: text(part, 'DigestValue'),
    })),
    issuer: {
      name: text(issuer, 'Name'),
      cbe: text(issuer, 'CompanyID'),
      serviceUrl: text(issuer, 'ServiceURL'),
    },
    policyId: text(root, 'EvidenceIssuerPolicyID'),
  };
}
