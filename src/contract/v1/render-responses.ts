import type { Element } from '@xmldom/xmldom';
import type { IssuedReceipt, ItemStatusView, ProofFileKind } from '../../domain/model';
import { appendElement, createDocument } from '../../xml/element-builder';
import { NS } from '../../xml/namespaces';
import type { RenderedResponse } from '../rendered-response';
import { fillSignedFile, type SignedFileBytes } from '../signed-file';
import { cidUrl } from '../swa-reference';

const T = NS.types;

function root(qualifiedName: string, namespace: string = NS.registeredMail): Element {
  const document = createDocument(namespace, qualifiedName);
  const element = document.documentElement as Element;
  element.setAttributeNS(NS.xmlns, 'xmlns:types', T);
  return element;
}

/** Appends a v1 `SignedFile` named `name` whose `Content` is the `cid:` of the part carrying the bytes. */
function appendSignedFile(
  parent: Element,
  name: string,
  kind: ProofFileKind,
  file: SignedFileBytes,
  contentId: string,
): void {
  appendElement(parent, T, `types:${name}`, (signed) =>
    fillSignedFile(signed, { namespace: T, prefix: 'types' }, kind, file, cidUrl(contentId)),
  );
}

/** `SendDocumentResponse`: the receipt as a `SignedFile` whose content is the attached `Receipt.xml`. */
export function renderSendDocumentResponse(receipt: IssuedReceipt, contentId: string): RenderedResponse {
  const payload = root('v1:SendDocumentResponse');
  appendElement(payload, T, 'types:Receipt', (element) => {
    appendElement(element, T, 'types:Ticket', receipt.ticket);
    appendElement(element, T, 'types:Token', receipt.token);
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
  appendElement(payload, T, 'types:Ticket', view.ticket);
  appendElement(payload, T, 'types:Token', view.token);
  appendElement(payload, T, 'types:Status', view.status);
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
