import { randomUUID } from 'node:crypto';
import type { Clock } from '../clock/clock';
import { isValidCbe } from '../domain/identifiers/cbe';
import { isValidInss } from '../domain/identifiers/inss';
import { MalformedMessageError, XsdComplianceError } from '../errors/faults';
import {
  buildEvidence,
  isFailureEvent,
  type ErdsEvent,
  type EvidenceEventFacts,
  type EvidenceFacts,
  type EvidenceIssuerIdentity,
} from './evidence-content';
import type { ProofSigner } from './proof-signer';

/** Validates a whole XML document against the service's schema set (`PayloadValidator` is one). */
export interface EvidenceValidator {
  /** @throws XsdComplianceError or MalformedMessageError when the document is not valid */
  validateDocument(xml: Buffer): void;
}

/** An evidence as issued: its bytes are kept and handed out unchanged. */
export interface IssuedEvidence {
  /** The `EvidenceIdentifier` (a UUID). */
  evidenceId: string;
  event: ErdsEvent;
  /** The `Evidence` XML; exactly these bytes are signed. */
  content: Buffer;
  /** SHA-256 of {@link content}. */
  contentSha256: Buffer;
  /** DER of the detached CMS SignedData over {@link content}. */
  signature: Buffer;
  /** When the evidence was signed: the signature's signing-time. */
  issuedAt: Date;
}

/**
 * The evidence would state something false or not valid against its schema: a bug of the caller (the
 * facts come from stored, already checked items), never the sender's. Nothing was signed. Not a
 * ServiceError: should it reach a client, it is SOA-00001 like any unexpected failure.
 */
export class InvalidEvidenceError extends Error {
  constructor(detail: string, options?: { cause?: unknown }) {
    super(`Invalid evidence, not signed: ${detail}`, options);
    this.name = 'InvalidEvidenceError';
  }
}

/** Why the facts cannot make a truthful evidence, or undefined when they can. */
function inconsistency(facts: EvidenceFacts): string | undefined {
  const reasons = facts.reasons ?? [];
  if (isFailureEvent(facts.event) && reasons.length === 0) return `${facts.event} needs at least one reason`;
  if (!isFailureEvent(facts.event) && reasons.length > 0) return `${facts.event} takes no reasons`;
  // The schema checks the form of identifiers; only code can check their check digits.
  const { recipient } = facts;
  if (recipient.kind === 'citizen' && !isValidInss(recipient.inss)) return 'the recipient INSS is not valid';
  if (recipient.kind === 'enterprise' && !isValidCbe(recipient.cbe)) return 'the recipient CBE is not valid';
  if (!isValidCbe(facts.sender.cbe)) return 'the sender CBE is not valid';
  if (Number.isNaN(facts.eventTime.getTime())) return 'the event time is not a time';
  if (Number.isNaN(facts.submissionTime.getTime())) return 'the submission time is not a time';
  // Both times come from the service's clock: an event before the submission would contradict itself.
  if (facts.eventTime.getTime() < facts.submissionTime.getTime()) {
    return 'the event time is before the submission time';
  }
  return undefined;
}

/**
 * Issues evidence: builds the `Evidence` XML, validates it against the evidence schema, and only then
 * signs exactly its bytes with a detached CAdES signature (B-T, or B-LT as configured) whose
 * signature-time-stamp comes from the service's TSA: the same {@link ProofSigner} as the receipts.
 */
export class EvidenceIssuer {
  /**
   * @param proofSigner the service's signer, TSA and CAdES level
   * @param validator the service's compiled schema set (`PayloadValidator.load`), which includes the
   *   evidence schema
   * @param identity the operator and policy every evidence states
   * @throws InvalidEvidenceError when the operator's CBE number is not valid
   */
  constructor(
    private readonly proofSigner: ProofSigner,
    private readonly clock: Clock,
    private readonly validator: EvidenceValidator,
    private readonly identity: EvidenceIssuerIdentity,
  ) {
    if (!isValidCbe(identity.cbe)) throw new InvalidEvidenceError('the issuer CBE is not valid');
  }

  /**
   * Gives the evidence a new identifier, builds, validates and signs it.
   * @throws InvalidEvidenceError when the facts contradict themselves or the XML is not valid against
   *   the schema (nothing is signed: a bug, retrying does not help)
   * @throws SigningUnavailableError (SEPIA_T02, retry) when the signature or its time-stamp cannot be made
   */
  async issue(eventFacts: EvidenceEventFacts): Promise<IssuedEvidence> {
    const facts: EvidenceFacts = { ...eventFacts, evidenceId: randomUUID(), issuer: this.identity };
    const problem = inconsistency(facts);
    if (problem !== undefined) throw new InvalidEvidenceError(problem);
    const content = buildEvidence(facts);
    this.assertValid(content);

    const proof = await this.proofSigner.signProof(content, this.clock.now());
    return { evidenceId: facts.evidenceId, event: facts.event, ...proof };
  }

  private assertValid(content: Buffer): void {
    try {
      this.validator.validateDocument(content);
    } catch (error) {
      if (error instanceof XsdComplianceError || error instanceof MalformedMessageError) {
        throw new InvalidEvidenceError(error.message, { cause: error });
      }
      throw error;
    }
  }
}
