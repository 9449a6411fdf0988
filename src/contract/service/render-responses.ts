import type {
  IssuedReceipt,
  ItemEvent,
  ItemHistoryView,
  ItemProofs,
  ProofFileKind,
  ProofSelection,
} from '../../domain/model';
import {
  appendPayloadElement,
  Base64Text,
  createPayloadElement,
  type PayloadContent,
  type PayloadElement,
} from '../../xml/payload-element';
import type { RenderedResponse } from '../rendered-response';
import { fillSignedFile, type SignedFileBytes } from '../signed-file';
import { RMS } from './namespace';

/*
 * RegisteredMailService's responses. Proofs travel inline as base64 (they are small XML, never
 * documents), so no response has attachment parts; element order follows the XSD's sequences.
 */

const PREFIX = 'rms';
/** The order of GetProofResponse's proofs (the XSD's documentation): RECEIPT, DISPATCH, CONSULTATION. */
const PROOF_ORDER: readonly ProofFileKind[] = ['RECEIPT', 'DISPATCH', 'CONSULTATION'];

function root(localName: string): PayloadElement {
  return createPayloadElement(RMS, `${PREFIX}:${localName}`);
}

function append(parent: PayloadElement, localName: string, content?: PayloadContent): PayloadElement {
  return appendPayloadElement(parent, RMS, `${PREFIX}:${localName}`, content);
}

function inlineOnly(payload: PayloadElement): RenderedResponse {
  return { payload, attachments: [] };
}

/**
 * Appends a `ProofFile` named `name`: Title, Digest (SHA-256), DownloadFileName, MIME `text/xml`, Type,
 * Language `en` as the kind says (the receipt and the ProofOfDispatch as v1 describes them), Content =
 * the bytes in base64, Signature = the detached CMS signature in base64.
 */
export function appendProofFile(
  parent: PayloadElement,
  name: string,
  kind: ProofFileKind,
  file: SignedFileBytes,
): void {
  append(parent, name, (element) =>
    fillSignedFile(element, { namespace: RMS, prefix: PREFIX }, kind, file, new Base64Text(file.content)),
  );
}

/** `SendRegisteredMailResponse`: Ticket, Token and the receipt as a `ProofFile`. */
export function renderSendRegisteredMailResponse(receipt: IssuedReceipt): RenderedResponse {
  const payload = root('SendRegisteredMailResponse');
  append(payload, 'Ticket', receipt.ticket);
  append(payload, 'Token', receipt.token);
  appendProofFile(payload, 'Receipt', 'RECEIPT', receipt);
  return inlineOnly(payload);
}

function appendEvent(parent: PayloadElement, event: ItemEvent): void {
  append(parent, 'Event', (element) => {
    append(element, 'Name', event.name);
    append(element, 'Time', event.time.toISOString());
    append(element, 'Status', event.status);
    // The schema's EboxMessageId has minLength 1: an empty one is as good as none.
    if (event.eboxMessageId) append(element, 'EboxMessageId', event.eboxMessageId);
    if (event.detail !== undefined) append(element, 'Detail', event.detail);
  });
}

/**
 * `GetStatusResponse`: Ticket, Token, the current Status and every event, oldest first, each with its
 * time in UTC.
 * @throws Error when the history is empty (a bug upstream: an item is at least ACCEPTED)
 */
export function renderGetStatusResponse(view: ItemHistoryView): RenderedResponse {
  if (view.events.length === 0) throw new Error(`Item ${view.ticket}: a history without events`);
  const payload = root('GetStatusResponse');
  append(payload, 'Ticket', view.ticket);
  append(payload, 'Token', view.token);
  append(payload, 'Status', view.status);
  for (const event of view.events) appendEvent(payload, event);
  return inlineOnly(payload);
}

/**
 * `GetProofResponse`: Ticket and each proof (Kind, File) in the order RECEIPT, DISPATCH, CONSULTATION.
 * @param selection what the request asked for: a proof is never handed out under another kind's request
 * @throws Error when the proofs do not answer the selection (none, two of a kind, another kind than the
 *   one asked for): a bug upstream, since the domain answers PROOF_B01 for a proof not issued yet
 */
export function renderGetProofResponse(selection: ProofSelection, result: ItemProofs): RenderedResponse {
  const kinds = result.proofs.map((proof) => proof.kind);
  const wrong =
    kinds.length === 0 ||
    new Set(kinds).size !== kinds.length ||
    (selection !== 'ALL' && (kinds.length !== 1 || kinds[0] !== selection));
  if (wrong) {
    throw new Error(
      `Item ${result.ticket}: proofs [${kinds.join(', ')}] do not answer the request for ${selection}`,
    );
  }
  const proofs = [...result.proofs].sort((a, b) => PROOF_ORDER.indexOf(a.kind) - PROOF_ORDER.indexOf(b.kind));

  const payload = root('GetProofResponse');
  append(payload, 'Ticket', result.ticket);
  for (const proof of proofs) {
    append(payload, 'Proof', (element) => {
      append(element, 'Kind', proof.kind);
      appendProofFile(element, 'File', proof.kind, proof);
    });
  }
  return inlineOnly(payload);
}
