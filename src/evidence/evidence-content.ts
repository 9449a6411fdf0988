import type { Element } from '@xmldom/xmldom';
import type { AnnexDescription, DocumentDescription, Recipient, Sender } from '../domain/model';
import { appendElement, createDocument, serialize } from '../xml/element-builder';
import { NS } from '../xml/namespaces';

/*
 * The evidence XML of every proof other than the v1 receipt: an `Evidence` of this project's schema
 * xsd/registeredmail-evidence-v1.xsd, whose names and meanings are those of ETSI EN 319 522. Values only
 * ever enter through DOM text nodes, so the serialiser escapes them. Building checks nothing: the
 * EvidenceIssuer validates the result against the schema before it signs it.
 */

/** The namespace of the evidence schema (xsd/registeredmail-evidence-v1.xsd); stable for this version. */
export const EVIDENCE_NAMESPACE = 'urn:registeredmail:evidence:v1';

/**
 * An evidence policy identifier for development and tests. It sits under IANA's private enterprise number
 * 32473, which RFC 5612 reserves for documentation: a placeholder no operator owns, to be replaced by the
 * OID of the operator's published evidence policy.
 */
export const PLACEHOLDER_EVIDENCE_POLICY_ID = 'urn:oid:1.3.6.1.4.1.32473.522.1';

/** The events of EN 319 522 after which the service issues an evidence in this schema. */
export const ERDS_EVENTS = [
  'SubmissionAcceptance',
  'ContentConsignment',
  'ContentConsignmentFailure',
  'ContentHandover',
  'ContentHandoverFailure',
  'ContentAccessTracking',
] as const;

/** An EN 319 522 event name (`ERDSEventId`). */
export type ErdsEvent = (typeof ERDS_EVENTS)[number];

/** The events whose evidence states why (`EventReasons`); the others state no reasons. */
export const FAILURE_EVENTS = ['ContentConsignmentFailure', 'ContentHandoverFailure'] as const;

/** An event that is a failure: its evidence carries at least one reason. */
export type FailureEvent = (typeof FAILURE_EVENTS)[number];

/** Whether the event is a failure, whose evidence must carry reasons. */
export function isFailureEvent(event: ErdsEvent): event is FailureEvent {
  return (FAILURE_EVENTS as readonly string[]).includes(event);
}

/** One `EventReason`: a code (a contract fault code where one applies, e.g. `EBOX_B01`) and details. */
export interface EventReason {
  code: string;
  /** Words for a human reader; never document bytes or personal data beyond the evidence's own. */
  details?: string;
}

/** The event and, for failures only, why it happened. */
export type EventStatement =
  | { event: Exclude<ErdsEvent, FailureEvent>; reasons?: undefined }
  | { event: FailureEvent; reasons: readonly [EventReason, ...EventReason[]] };

/** What an evidence states about one item and one event, before an issuer gives it an identity. */
export type EvidenceEventFacts = EventStatement & {
  /** When the event happened, on the service's clock. */
  eventTime: Date;
  /** When the service accepted the item (the time of its v1 receipt). */
  submissionTime: Date;
  sender: Sender;
  /** Identifiers normalised (10-digit CBE), as the item stores them. */
  recipient: Recipient;
  /** The e-Box's identifier of the message, once the item is in the e-Box. */
  eboxMessageId?: string;
  ticket: string;
  token: string;
  document: DocumentDescription;
  annexes: readonly AnnexDescription[];
};

/** Who issues evidence: the service operator, and the policy the evidence is issued under. */
export interface EvidenceIssuerIdentity {
  /** The operator's name (`EvidenceIssuerDetails/Name`). */
  name: string;
  /** The operator's 10-digit CBE number (`EvidenceIssuerDetails/CompanyID`). */
  cbe: string;
  /** The public http(s) URL of the service (`EvidenceIssuerDetails/ServiceURL`). */
  serviceUrl: string;
  /** The evidence policy, a URI; an OID as `urn:oid:1.2.3` (`EvidenceIssuerPolicyID`). */
  policyId: string;
}

/** Everything one `Evidence` states. */
export type EvidenceFacts = EvidenceEventFacts & {
  /** The evidence's own identifier: a lower-case UUID. */
  evidenceId: string;
  issuer: EvidenceIssuerIdentity;
};

const E = EVIDENCE_NAMESPACE;

/** Times are written in UTC with milliseconds, e.g. `2024-07-01T09:30:00.000Z`. */
function utc(time: Date): string {
  return time.toISOString();
}

function appendRecipientDetails(
  parent: Element,
  recipient: Recipient,
  eboxMessageId: string | undefined,
): void {
  appendElement(parent, E, 'RecipientDetails', (details) => {
    if (recipient.kind === 'citizen') {
      appendElement(details, E, 'Citizen', (citizen) => appendElement(citizen, E, 'INSS', recipient.inss));
    } else {
      appendElement(details, E, 'Enterprise', (enterprise) =>
        appendElement(enterprise, E, 'CompanyID', recipient.cbe),
      );
    }
    appendElement(details, E, 'QualityCode', recipient.qualityCode);
    if (eboxMessageId !== undefined) appendElement(details, E, 'EboxMessageId', eboxMessageId);
  });
}

/** `Part`: Role, Title, FileName, ContentType?, DigestMethod, DigestValue. */
function appendPart(parent: Element, role: 'document' | 'annex', file: AnnexDescription): void {
  appendElement(parent, E, 'Part', (part) => {
    appendElement(part, E, 'Role', role);
    appendElement(part, E, 'Title', file.title);
    appendElement(part, E, 'FileName', file.downloadFileName);
    if (file.mime !== undefined) appendElement(part, E, 'ContentType', file.mime);
    appendElement(part, E, 'DigestMethod', file.digest.method);
    appendElement(part, E, 'DigestValue', file.digest.value.toString('base64'));
  });
}

/**
 * Builds the bytes (UTF-8, with an XML declaration) of an `Evidence` in {@link EVIDENCE_NAMESPACE}, its
 * children in the schema's order: EvidenceIdentifier, ERDSEventId, EventTime, SubmissionTime,
 * EventReasons (when there are reasons), SenderDetails, RecipientDetails, UserContentInfo (Ticket, Token,
 * the document's Part, one Part per annex), EvidenceIssuerDetails, EvidenceIssuerPolicyID.
 * It does not validate: see `EvidenceIssuer`.
 */
export function buildEvidence(facts: EvidenceFacts): Buffer {
  const document = createDocument(E, 'Evidence');
  const root = document.documentElement as Element;
  root.setAttributeNS(NS.xmlns, 'xmlns', E);

  appendElement(root, E, 'EvidenceIdentifier', facts.evidenceId);
  appendElement(root, E, 'ERDSEventId', facts.event);
  appendElement(root, E, 'EventTime', utc(facts.eventTime));
  appendElement(root, E, 'SubmissionTime', utc(facts.submissionTime));
  const reasons = facts.reasons ?? [];
  if (reasons.length > 0) {
    appendElement(root, E, 'EventReasons', (element) => {
      for (const reason of reasons) {
        appendElement(element, E, 'EventReason', (reasonElement) => {
          appendElement(reasonElement, E, 'Code', reason.code);
          if (reason.details !== undefined) appendElement(reasonElement, E, 'Details', reason.details);
        });
      }
    });
  }
  appendElement(root, E, 'SenderDetails', (sender) => {
    appendElement(sender, E, 'CompanyID', facts.sender.cbe);
    appendElement(sender, E, 'ApplicationID', facts.sender.applicationId);
  });
  appendRecipientDetails(root, facts.recipient, facts.eboxMessageId);
  appendElement(root, E, 'UserContentInfo', (content) => {
    appendElement(content, E, 'Ticket', facts.ticket);
    appendElement(content, E, 'Token', facts.token);
    appendPart(content, 'document', facts.document);
    for (const annex of facts.annexes) appendPart(content, 'annex', annex);
  });
  appendElement(root, E, 'EvidenceIssuerDetails', (issuer) => {
    appendElement(issuer, E, 'Name', facts.issuer.name);
    appendElement(issuer, E, 'CompanyID', facts.issuer.cbe);
    appendElement(issuer, E, 'ServiceURL', facts.issuer.serviceUrl);
  });
  appendElement(root, E, 'EvidenceIssuerPolicyID', facts.issuer.policyId);
  return serialize(document);
}
