import type { IssuedReceipt, ItemStatusView, ProofFileKind } from '../../domain/model';
import { NS } from '../../xml/namespaces';
import { appendPayloadElement, createPayloadElement, type PayloadElement } from '../../xml/payload-element';
import type { RenderedResponse } from '../rendered-response';
import { fillSignedFile, type SignedFileBytes } from '../signed-file';
import { cidUrl } from '../swa-reference';

const T = NS.types;

function root(qualifiedName: string): PayloadElement {
  return createPayloadElement(NS.registeredMail, qualifiedName);
}

/** Appends a v1 `SignedFile` named `name` whose `Content` is the `cid:` of the part carrying the bytes. */
function appendSignedFile(
  parent: PayloadElement,
  name: string,
  kind: ProofFileKind,
  file: SignedFileBytes,
  contentId: string,
): void {
  appendPayloadElement(parent, T, `types:${name}`, (signed) =>
    fillSignedFile(signed, { namespace: T, prefix: 'types' }, kind, file, cidUrl(contentId)),
  );
}

/** `SendDocumentResponse`: the receipt as a `SignedFile` whose content is the attached `Receipt.xml`. */
export function renderSendDocumentResponse(receipt: IssuedReceipt, contentId: string): RenderedResponse {
  const payload = root('v1:SendDocumentResponse');
  appendPayloadElement(payload, T, 'types:Receipt', (element) => {
    appendPayloadElement(element, T, 'types:Ticket', receipt.ticket);
    appendPayloadElement(element, T, 'types:Token', receipt.token);
    appendSignedFile(element, 'Document', 'RECEIPT', receipt, contentId);
  });
  return { payload, attachments: [{ contentId, contentType: 'text/xml', content: receipt.content }] };
}

/**
 * `GetStatusResponse`: Ticket, Token, Status and, once the item is SENT, the `ProofOfDispatch`: a
 * `SignedFile` of the same form as the receipt, whose content is the attached `ProofOfDispatch.xml` (the
 * evidence bytes exactly as signed). Without a proof the response has no attachment.
 * @param proofContentId the Content-ID of the proof's part; used only when there is a proof
 * @throws Error when the view carries a proof that is not a dispatch proof (a bug upstream: a proof is
 *   never handed out under another proof's name)
 */
export function renderGetStatusResponse(view: ItemStatusView, proofContentId: string): RenderedResponse {
  const payload = root('v1:GetStatusResponse');
  appendPayloadElement(payload, T, 'types:Ticket', view.ticket);
  appendPayloadElement(payload, T, 'types:Token', view.token);
  appendPayloadElement(payload, T, 'types:Status', view.status);
  const proof = view.proofOfDispatch;
  if (proof === undefined) return { payload, attachments: [] };
  if (proof.kind !== 'DISPATCH') {
    throw new Error(`Item ${view.ticket}: a ${proof.kind} proof was offered as the proof of dispatch`);
  }
  appendSignedFile(payload, 'ProofOfDispatch', 'DISPATCH', proof, proofContentId);
  return {
    payload,
    attachments: [{ contentId: proofContentId, contentType: 'text/xml', content: proof.content }],
  };
}
