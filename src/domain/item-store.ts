import type {
  IssuedReceipt,
  ItemHistoryView,
  ItemStatusView,
  ProofKind,
  Sender,
  SendDocumentCommand,
  StagedContent,
  StoredProof,
} from './model';

/** An item that passed every check, with its issued receipt: stored all at once or not at all. */
export interface AcceptedItem {
  ticket: string;
  sender: Sender;
  command: SendDocumentCommand;
  /** See `requestFingerprint()`: what a retry with the same Token must match. */
  requestFingerprint: string;
  acceptedAt: Date;
  document: StagedContent;
  /** In the order of `command.annexes`. */
  annexes: StagedContent[];
  receipt: IssuedReceipt;
  /** The request id (the fault `Id` of the log), kept in the history for operators. */
  requestId?: string;
}

/** An item that already holds a sender's Token. */
export interface PriorAcceptance {
  ticket: string;
  requestFingerprint: string;
}

/** What {@link ItemStore.accept} did. */
export type AcceptOutcome =
  /** Stored: item, files, first status, receipt, blobs. */
  | { kind: 'accepted' }
  /** Nothing stored: the ticket exists already (pick another one). */
  | { kind: 'ticket-taken' }
  /** Nothing stored: a concurrent request of the same sender with the same Token won. */
  | { kind: 'token-taken'; prior: PriorAcceptance };

/**
 * Where accepted items are kept (implemented in `src/storage/typeorm-item-store.ts`). Failures are
 * service errors: `TemporarilyUnavailableError` (SOA-02002) when the database cannot be used now,
 * `RepositoryError` (REPO_T01) otherwise.
 */
export interface ItemStore {
  /** The item this sender (CBE + application id) stored under this non-empty Token, if any. */
  findByToken(sender: Sender, token: string): Promise<PriorAcceptance | undefined>;

  /** The receipt issued for the ticket, byte for byte. */
  loadReceipt(ticket: string): Promise<IssuedReceipt>;

  /**
   * Stores the item in one transaction (item with status PENDING, files, the ACCEPTED history entry,
   * the receipt) and promotes the staged content and the receipt bytes into the blob store.
   */
  accept(item: AcceptedItem): Promise<AcceptOutcome>;

  /**
   * The status of the ticket when it belongs to this sender, with its ProofOfDispatch once SENT;
   * `undefined` for an unknown ticket and for another sender's ticket alike (one query, the same work).
   */
  findStatus(sender: Sender, ticket: string): Promise<ItemStatusView | undefined>;

  /**
   * The status and the whole history of the ticket when it belongs to this sender: the ownership rule of
   * {@link findStatus} (one sender-scoped query first; `undefined` for an unknown and a foreign ticket
   * alike, after the same work), then the history oldest first (by time, then in the order written). History rows of events
   * this version does not know (written by a later version) are left out.
   */
  findHistory(sender: Sender, ticket: string): Promise<ItemHistoryView | undefined>;

  /** The proof of this kind issued for the ticket, byte for byte; `undefined` while there is none. */
  loadProof(ticket: string, kind: ProofKind): Promise<StoredProof | undefined>;
}
