import type { Element } from '@xmldom/xmldom';
import type { SendDocumentCommand } from '../../domain/model';
import { AttachmentReferenceError } from '../../errors/faults';
import { contentIdFromCidUrl } from '../swa-reference';
import {
  mapAnnexDescription,
  mapCheckEboxStatus,
  mapDocumentDescription,
  mapMeta,
  mapRecipient,
} from '../map-v1-types';
import type { ExpectedAttachment } from '../stage-attachments';
import { wantsSha512 } from '../send-services';
import { NS } from '../../xml/namespaces';
import { childElements, optionalText, requiredChild, requiredText } from '../../xml/element-reader';

/** A v1 `SendDocumentRequest`: the domain command plus where each file's bytes are (swaRef `cid:`). */
export interface SendDocumentRequestV1 {
  command: SendDocumentCommand;
  /** Content-ID of the document's part. */
  documentContentId: string;
  /** Content-IDs of the annexes' parts, in annex order. */
  annexContentIds: string[];
}

const T = NS.types;

function contentIdOf(file: Element): string {
  const url = requiredText(file, T, 'Content');
  const contentId = contentIdFromCidUrl(url);
  if (!contentId)
    throw new AttachmentReferenceError(`Content ${JSON.stringify(url.slice(0, 100))} is not a cid: URL`);
  return contentId;
}

/**
 * Maps an XSD-valid `SendDocumentRequest` payload to the domain command. Every `cid:` must name a
 * distinct part (FILE_B04 otherwise); whether each part arrives is checked while reading them.
 */
export function mapSendDocumentRequest(payload: Element): SendDocumentRequestV1 {
  const item = requiredChild(payload, T, 'RegisteredMailItem');
  const documentElement = requiredChild(item, T, 'Document');
  const annexElements = childElements(item, T, 'Annex');

  const documentContentId = contentIdOf(documentElement);
  const annexContentIds = annexElements.map(contentIdOf);
  const all = [documentContentId, ...annexContentIds];
  if (new Set(all).size !== all.length) throw new AttachmentReferenceError('a MIME part is referenced twice');

  return {
    command: {
      token: requiredText(item, T, 'Token'),
      recipient: mapRecipient(requiredChild(item, T, 'Recipient')),
      checkEboxStatus: mapCheckEboxStatus(optionalText(payload, T, 'CheckEboxStatus')),
      document: mapDocumentDescription(documentElement, T),
      annexes: annexElements.map((annex) => mapAnnexDescription(annex, T)),
      meta: childElements(item, T, 'Meta').map(mapMeta),
    },
    documentContentId,
    annexContentIds,
  };
}

/** The parts the request references, document first, each hashed as its Digest declares. */
export function expectedAttachmentsOf(request: SendDocumentRequestV1): ExpectedAttachment[] {
  const { document, annexes } = request.command;
  return [
    { contentId: request.documentContentId, sha512: wantsSha512(document) },
    ...request.annexContentIds.map((contentId, position) => ({
      contentId,
      sha512: wantsSha512(annexes[position]),
    })),
  ];
}
