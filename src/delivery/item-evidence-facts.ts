import type { ProofKind, StoredProof } from '../domain/model';
import type { ItemFacts } from '../domain/outbox';
import type { IssuedEvidence } from '../evidence/evidence-issuer';
import type { ErdsEvent, EvidenceEventFacts, FailureEvent } from '../evidence/evidence-content';

/**
 * What an evidence about a stored item states for a non-failure event (ContentConsignment,
 * ContentHandover): the item's sender, recipient, ticket, Token and file digests, the e-Box message id,
 * the event's time and the submission time (the item's acceptance).
 */
export function itemEvidenceFacts(
  item: ItemFacts,
  event: Exclude<ErdsEvent, FailureEvent>,
  eventTime: Date,
  eboxMessageId: string,
): EvidenceEventFacts {
  const { blobSha256: _documentBlob, size: _documentSize, ...document } = item.document;
  return {
    event,
    eventTime,
    submissionTime: item.acceptedAt,
    sender: item.sender,
    recipient: item.recipient,
    eboxMessageId,
    ticket: item.ticket,
    token: item.token,
    document,
    annexes: item.annexes.map(({ blobSha256: _blob, size: _size, ...annex }) => annex),
  };
}

/** An issued evidence as the item store keeps it: the proof of that kind (the event is implied by it). */
export function storedProofOf(kind: ProofKind, issued: IssuedEvidence): StoredProof {
  return {
    kind,
    evidenceId: issued.evidenceId,
    content: issued.content,
    contentSha256: issued.contentSha256,
    signature: issued.signature,
    issuedAt: issued.issuedAt,
  };
}
