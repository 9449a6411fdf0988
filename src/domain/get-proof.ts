import { ProofNotIssuedError, TicketNotFoundError } from '../errors/faults';
import type { ItemStore } from './item-store';
import type {
  IssuedReceipt,
  ItemProofs,
  ProofFileKind,
  ProofFileView,
  ProofSelection,
  Sender,
  StoredProof,
} from './model';

/** The order in which ALL lists the proofs: the order in which they are issued. */
const PROOF_ORDER: readonly ProofFileKind[] = ['RECEIPT', 'DISPATCH', 'CONSULTATION'];

function viewOf(kind: ProofFileKind, proof: IssuedReceipt | StoredProof): ProofFileView {
  return {
    kind,
    content: proof.content,
    contentSha256: proof.contentSha256,
    signature: proof.signature,
    issuedAt: proof.issuedAt,
  };
}

/**
 * `GetProof`: the proofs of one of the sender's items, exactly as they were issued. Ownership is checked
 * first, by the same single lookup as GetStatus (REPO_B01 for an unknown and a foreign ticket alike);
 * only then is any proof read. A single kind that is not issued yet is PROOF_B01; ALL answers the proofs
 * issued so far (the receipt at least) and never fails with PROOF_B01.
 */
export class GetProofService {
  constructor(private readonly store: ItemStore) {}

  async proofs(sender: Sender, ticket: string, selection: ProofSelection): Promise<ItemProofs> {
    const item = await this.store.findStatus(sender, ticket);
    if (!item) throw new TicketNotFoundError();
    const kinds = selection === 'ALL' ? PROOF_ORDER : [selection];
    const proofs: ProofFileView[] = [];
    for (const kind of kinds) {
      const proof = await this.load(ticket, kind, item.proofOfDispatch);
      if (proof) proofs.push(viewOf(kind, proof));
      else if (selection !== 'ALL') throw new ProofNotIssuedError();
    }
    return { ticket: item.ticket, token: item.token, proofs };
  }

  /**
   * The proof of this kind, `undefined` while not issued. The ProofOfDispatch came with the status (the
   * store answers it with every SENT item, and only SENT items have one): not read twice.
   */
  private async load(
    ticket: string,
    kind: ProofFileKind,
    proofOfDispatch: StoredProof | undefined,
  ): Promise<IssuedReceipt | StoredProof | undefined> {
    switch (kind) {
      case 'RECEIPT':
        return this.store.loadReceipt(ticket);
      case 'DISPATCH':
        return proofOfDispatch;
      case 'CONSULTATION':
        return this.store.loadProof(ticket, 'CONSULTATION');
    }
  }
}
