import { createHash } from 'node:crypto';
import type { Clock } from '../clock/clock';
import type { IssuedReceipt } from '../domain/model';
import type { ReceiptIssuer as ReceiptIssuerPort } from '../domain/receipt-issuer';
import { SigningUnavailableError } from '../errors/faults';
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
    const content = buildReceiptContent(facts);
    const issuedAt = this.clock.now();
    let signature: Buffer;
    try {
      signature = await this.proofSigner.sign(content, issuedAt);
    } catch (cause) {
      // A TSA that does not answer, answers wrongly, or a signer that fails: nothing is stored, and the
      // sender retries with the same Token.
      throw new SigningUnavailableError({ cause });
    }
    return {
      ticket: facts.ticket,
      token: facts.token,
      content,
      contentSha256: createHash('sha256').update(content).digest(),
      signature,
      issuedAt,
    };
  }
}
