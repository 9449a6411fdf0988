import { createHash } from 'node:crypto';
import type { Clock } from '../clock/clock';
import type { IssuedReceipt } from '../domain/model';
import type { ReceiptIssuer as ReceiptIssuerPort } from '../domain/receipt-issuer';
import { SigningUnavailableError } from '../errors/faults';
import { createDetachedCmsSignature } from './cms-detached-signature';
import type { DocumentSigner } from './document-signer';
import { buildReceiptContent, type ReceiptFacts } from './receipt-content';

/** Issues receipts: builds Receipt.xml and signs exactly its bytes with a detached CMS signature. */
export class ReceiptIssuer implements ReceiptIssuerPort {
  constructor(
    private readonly signer: DocumentSigner,
    private readonly clock: Clock,
  ) {}

  /**
   * @returns the receipt; its `issuedAt` is also the signature's signing-time
   * @throws SigningUnavailableError (SEPIA_T02, retry) when the signature cannot be made
   */
  async issue(facts: ReceiptFacts): Promise<IssuedReceipt> {
    const content = buildReceiptContent(facts);
    const issuedAt = this.clock.now();
    let signature: Buffer;
    try {
      signature = await createDetachedCmsSignature(content, this.signer, issuedAt);
    } catch (cause) {
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
