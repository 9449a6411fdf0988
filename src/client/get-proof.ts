import type { ProofFileKind, ProofSelection } from '../domain/model';
import { childElements, requiredChild, requiredText } from '../xml/element-reader';
import type { ClientContext } from './client-context';
import { ClientError } from './client-errors';
import { readProofFile, type ProofFile } from './proof-file';
import { appendServiceElement, createRequestEnvelope } from './request-envelope';
import { SERVICE_NAMESPACE } from './service-endpoint';
import { exchange, readPayload } from './soap-exchange';
import { checkTicket } from './ticket';

/** The proof kinds, in the order GetProof answers them. */
export const PROOF_KINDS: readonly ProofFileKind[] = ['RECEIPT', 'DISPATCH', 'CONSULTATION'];

/** What GetProof may ask for. */
export const PROOF_SELECTIONS: readonly ProofSelection[] = [...PROOF_KINDS, 'ALL'];

/** One proof as answered. */
export interface AnsweredProof {
  kind: ProofFileKind;
  file: ProofFile;
}

/** GetProof's answer. */
export interface ProofsResult {
  ticket: string;
  /** One for a single kind; for ALL, every proof issued so far (the receipt at least). */
  proofs: AnsweredProof[];
}

/**
 * GetProof: proofs of an item this sender sent, exactly as issued; each proof's Digest is checked against
 * its content, and a single kind must be answered by exactly that kind.
 * @throws ClientUsageError for a malformed ticket; ServiceFaultError (PROOF_B01 for a proof not issued
 *   yet, REPO_B01 for an unknown ticket), ClientError, UntrustedAnswerError (see `exchange`)
 */
export async function getProof(
  context: ClientContext,
  ticket: string,
  selection: ProofSelection,
): Promise<ProofsResult> {
  checkTicket(ticket);
  const { document, payload } = createRequestEnvelope('GetProofRequest');
  appendServiceElement(payload, 'Ticket', ticket);
  appendServiceElement(payload, 'Kind', selection);
  const answer = await exchange(context, { operation: 'GetProof', envelope: document });
  const result = readPayload(answer, (element) => ({
    ticket: requiredText(element, SERVICE_NAMESPACE, 'Ticket').trim(),
    proofs: childElements(element, SERVICE_NAMESPACE, 'Proof').map((proof) => ({
      kind: requiredText(proof, SERVICE_NAMESPACE, 'Kind').trim() as ProofFileKind,
      file: readProofFile(requiredChild(proof, SERVICE_NAMESPACE, 'File')),
    })),
  }));
  const kinds = result.proofs.map((proof) => proof.kind);
  const expected =
    selection === 'ALL' ? kinds.every((kind) => PROOF_KINDS.includes(kind)) : kinds.join() === selection;
  if (result.ticket !== ticket || kinds.length === 0 || new Set(kinds).size !== kinds.length || !expected) {
    throw new ClientError(
      `the answer does not hold the ${selection} proof(s) of ${ticket} (it holds ${kinds.join(', ') || 'none'})`,
    );
  }
  return result;
}
