import type { AnnexDescription, DocumentDescription, IssuedReceipt, Recipient, Sender } from './model';

/** What a receipt states: the `ReceiptContent` of the contract, before it is written and signed. */
export interface ReceiptFacts {
  ticket: string;
  token: string;
  recipient: Recipient;
  sender: Sender;
  document: DocumentDescription;
  annexes: AnnexDescription[];
}

/**
 * Writes and signs the receipt of an accepted item (`Receipt.xml` + detached CAdES-T signature).
 * Implemented in `src/evidence/receipt-issuer.ts`; failures to sign or time-stamp are
 * `SigningUnavailableError` (SEPIA_T02).
 */
export interface ReceiptIssuer {
  issue(facts: ReceiptFacts): Promise<IssuedReceipt>;
}
