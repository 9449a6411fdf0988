/*
 * The domain's vocabulary. It knows nothing of SOAP, XML or MIME: both ports map their messages to
 * these types and back.
 */

import type { ItemEventName } from './outbox';

export type { ItemEventName };

export type DigestMethod = 'SHA-1' | 'SHA-256' | 'SHA-512';

/** A digest as the sender declared it (or as we computed it). */
export interface Digest {
  method: DigestMethod;
  value: Buffer;
}

export type QualityCode = string;

export type Recipient =
  | { kind: 'citizen'; inss: string; qualityCode: QualityCode }
  | { kind: 'enterprise'; cbe: string; qualityCode: QualityCode };

/** The authenticated sender: the CBE and the application id (CN) of its certificate. */
export interface Sender {
  cbe: string;
  applicationId: string;
}

export type Language = 'fr' | 'nl' | 'de' | 'en' | 'bi';
export type CheckEboxStatus = 'BYPASS' | 'ACTIVATED' | 'PREFERRED';
export type ItemStatus = 'PENDING' | 'SENT' | 'ERROR';

/** What the sender says about the main document. */
export interface DocumentDescription {
  title: string;
  digest: Digest;
  downloadFileName: string;
  mime: string | undefined;
  type: string;
  language: Language | undefined;
}

/** What the sender says about an annex. */
export interface AnnexDescription {
  title: string;
  digest: Digest;
  downloadFileName: string;
  mime: string | undefined;
}

export interface Meta {
  type: string;
  values: string[];
}

/** A send request as the domain sees it; the bytes travel separately as {@link StagedContent}. */
export interface SendDocumentCommand {
  /** The sender's own identifier of the item; may be empty (then never a retry of another item). */
  token: string;
  recipient: Recipient;
  checkEboxStatus: CheckEboxStatus;
  document: DocumentDescription;
  annexes: AnnexDescription[];
  meta: Meta[];
}

/**
 * Where staged bytes wait until the request ends: small content in memory (bounded per request), the
 * rest in a staged file (removed when the request ends, whatever its outcome). Only storage reads it.
 */
export type StagedBytes = { kind: 'memory'; bytes: Buffer } | { kind: 'file'; path: string };

/**
 * Bytes that arrived with a request, hashed while they were staged. They become part of an item only
 * when the whole request succeeds (see `src/storage/staging-area.ts`).
 */
export interface StagedContent {
  staged: StagedBytes;
  size: number;
  /** Always computed: the blob store's address. */
  sha256: Buffer;
  /** Computed when a description declared SHA-512. */
  sha512: Buffer | undefined;
}

/** The receipt as issued: its bytes are kept and returned unchanged on retries. */
export interface IssuedReceipt {
  ticket: string;
  token: string;
  /** `Receipt.xml`: a `ReceiptContent`, exactly these bytes are signed. */
  content: Buffer;
  /** SHA-256 of {@link content}. */
  contentSha256: Buffer;
  /** DER of the detached CMS SignedData over {@link content}. */
  signature: Buffer;
  issuedAt: Date;
}

/** The proofs issued after the receipt: the item is in the e-Box (`DISPATCH`), the recipient opened it. */
export type ProofKind = 'DISPATCH' | 'CONSULTATION';

/** A proof as issued (evidence content and its detached CAdES signature): kept and handed out unchanged. */
export interface StoredProof {
  kind: ProofKind;
  /** The evidence's `EvidenceIdentifier`. */
  evidenceId: string;
  /** The `Evidence` XML; exactly these bytes are signed. */
  content: Buffer;
  /** SHA-256 of {@link content}. */
  contentSha256: Buffer;
  /** DER of the detached CMS SignedData over {@link content}. */
  signature: Buffer;
  issuedAt: Date;
}

export interface ItemStatusView {
  ticket: string;
  token: string;
  status: ItemStatus;
  /** Once the item is SENT: the ProofOfDispatch. */
  proofOfDispatch?: StoredProof;
}

/**
 * One thing that happened to an item, as its history records it. The names and what each means are
 * defined next to the code that writes them (`ACCEPTED_EVENT`, `DELIVERY_EVENTS` in `outbox.ts`).
 */
export interface ItemEvent {
  name: ItemEventName;
  /** When it happened; for `CONSULTED`, the time the e-Box reports for the recipient's first opening. */
  time: Date;
  /** The item's status after the event. */
  status: ItemStatus;
  /** For `PUBLISHED` and `NO_DIGITAL_USER`: the e-Box's identifier of the published message. */
  eboxMessageId?: string;
  /** The explanation stored with the event (for `PUBLICATION_FAILED`, the reason); never document content. */
  detail?: string;
}

/**
 * The status of an item and its whole history, oldest first (the first event is always `ACCEPTED`).
 * `proofOfDispatch` is never loaded here: the proofs are handed out by kind (see {@link ItemProofs}).
 */
export interface ItemHistoryView extends ItemStatusView {
  events: ItemEvent[];
}

/** The kinds of proof an item can have: its receipt and the proofs issued after it. */
export type ProofFileKind = 'RECEIPT' | ProofKind;

/** What a proof request asks for: one kind, or `ALL` the proofs issued so far. */
export type ProofSelection = ProofFileKind | 'ALL';

/** A proof as handed out: exactly the bytes issued and the detached CAdES signature over them. */
export interface ProofFileView {
  kind: ProofFileKind;
  /** The signed bytes: `Receipt.xml` for `RECEIPT`, the `Evidence` XML for the others. */
  content: Buffer;
  /** SHA-256 of {@link content}. */
  contentSha256: Buffer;
  /** DER of the detached CMS SignedData (CAdES-T) over {@link content}. */
  signature: Buffer;
  issuedAt: Date;
}

/** The proofs of one item that a proof request asked for, in the order RECEIPT, DISPATCH, CONSULTATION. */
export interface ItemProofs {
  ticket: string;
  token: string;
  proofs: ProofFileView[];
}
