import type { Element } from '@xmldom/xmldom';
import type { IssuedReceipt, ItemStatusView } from '../../domain/model';
import { appendElement, createDocument } from '../../xml/element-builder';
import { NS } from '../../xml/namespaces';
import type { RenderedResponse } from '../rendered-response';
import { cidUrl } from '../swa-reference';

const T = NS.types;

function root(qualifiedName: string, namespace: string = NS.registeredMail): Element {
  const document = createDocument(namespace, qualifiedName);
  const element = document.documentElement as Element;
  element.setAttributeNS(NS.xmlns, 'xmlns:types', T);
  return element;
}

/**
 * Appends a `SignedFile` for a receipt or proof: SHA-256 digest of the content, `text/xml`, language `en`,
 * `Content` = the `cid:` of its part, `Signature` = base64 of the detached CMS signature.
 */
function appendSignedFile(
  parent: Element,
  name: string,
  file: {
    title: string;
    fileName: string;
    type: string;
    content: Buffer;
    contentSha256: Buffer;
    signature: Buffer;
  },
  contentId: string,
): void {
  appendElement(parent, T, `types:${name}`, (signed) => {
    appendElement(signed, T, 'types:Title', file.title);
    appendElement(signed, T, 'types:Digest', (digest) => {
      appendElement(digest, T, 'types:DigestMethod', 'SHA-256');
      appendElement(digest, T, 'types:DigestValue', file.contentSha256.toString('base64'));
    });
    appendElement(signed, T, 'types:DownloadFileName', file.fileName);
    appendElement(signed, T, 'types:MIME', 'text/xml');
    appendElement(signed, T, 'types:Type', file.type);
    appendElement(signed, T, 'types:Language', 'en');
    appendElement(signed, T, 'types:Content', cidUrl(contentId));
    appendElement(signed, T, 'types:Signature', file.signature.toString('base64'));
  });
}

/** `SendDocumentResponse`: the receipt as a `SignedFile` whose content is the attached `Receipt.xml`. */
export function renderSendDocumentResponse(receipt: IssuedReceipt, contentId: string): RenderedResponse {
  const payload = root('v1:SendDocumentResponse');
  appendElement(payload, T, 'types:Receipt', (element) => {
    appendElement(element, T, 'types:Ticket', receipt.ticket);
    appendElement(element, T, 'types:Token', receipt.token);
    appendSignedFile(
      element,
      'Document',
      { title: 'Receipt', fileName: 'Receipt.xml', type: 'RECEIPT', ...receipt },
      contentId,
    );
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
  appendSignedFile(
    payload,
    'ProofOfDispatch',
    { title: 'ProofOfDispatch', fileName: 'ProofOfDispatch.xml', type: 'PROOF_OF_DISPATCH', ...proof },
    proofContentId,
  );
  return {
    payload,
    attachments: [{ contentId: proofContentId, contentType: 'text/xml', content: proof.content }],
  };
}
