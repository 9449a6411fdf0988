import type { Clock } from '../clock/clock';
import type { IssuedReceipt } from '../domain/model';
import type { ReceiptIssuer as ReceiptIssuerPort } from '../domain/receipt-issuer';
import type { ProofSigner } from './proof-signer';
import { buildReceiptContent, type ReceiptFacts } from './receipt-content';

/**
 * Issues receipts: builds Receipt.xml and signs exactly its bytes with a detached CAdES signature
 * (B-T, or B-LT as configured) whose signature-time-stamp comes from the service's TSA.
 */
export class ReceiptIssuer implements ReceiptIssuerPort {
  constructor(
    private readonly proofSigner: ProofSigner,
    private readonly clock: Clock,
  ) {}

  /**
   * @returns the receipt; its `issuedAt` is also the signature's signing-time
   * @throws SigningUnavailableError (SEPIA_T02, retry) when the signature or its time-stamp cannot be made
   */
  async issue(facts: ReceiptFacts): Promise<IssuedReceipt> {
    const proof = await this.proofSigner.signProof(buildReceiptContent(facts), this.clock.now());
    return { ticket: facts.ticket, token: facts.token, ...proof };
  }
}
