import type { Element } from '@xmldom/xmldom';
import type { SendDocumentCommand } from '../../domain/model';
import { AttachmentReferenceError, XsdComplianceError } from '../../errors/faults';
import { childElements, optionalText, requiredChild, requiredText, textOf } from '../../xml/element-reader';
import {
  mapAnnexDescription,
  mapCheckEboxStatus,
  mapDocumentDescription,
  mapMeta,
  mapRecipient,
} from '../map-v1-types';
import { contentIdFromCidUrl } from '../swa-reference';
import { decodeBase64Binary } from '../../xml/base64-binary';
import { RMS } from './namespace';

/** Where one file's bytes are: an MTOM/XOP part (by Content-ID), or inline in the payload (decoded). */
export type FileContent = { kind: 'xop'; contentId: string } | { kind: 'inline'; bytes: Buffer };

/** A `SendRegisteredMailRequest`: the domain command (the same as v1's) and where each file's bytes are. */
export interface SendRegisteredMailRequest {
  command: SendDocumentCommand;
  documentContent: FileContent;
  /** In annex order. */
  annexContents: FileContent[];
}

/**
 * The bytes of a file's `Content`. Under MTOM the element's `xop:Include` was taken out before XSD
 * validation (the element is then empty) and `xopReferences` names its part. Otherwise the element holds
 * the bytes in base64, which must be non-empty and decode strictly.
 *
 * An empty `Content` without an `xop:Include` is FILE_B04, like a v1 `cid:` without its part: it is what
 * a client sends when its MTOM optimisation did not happen (the part it meant to reference is missing),
 * and a registered mail item has no use for a file of zero bytes; reporting FILE_B01 (digest mismatch)
 * for it would point at the wrong cause. A `cid:` URL as the text is FILE_B04 too (a swaRef-style
 * reference, which this port does not have: under MTOM the reference is an `xop:Include`). Any other
 * text that is not xs:base64Binary is SOA-03006, the XSD compliance fault (libxml2 accepts some such
 * text as base64Binary; this check completes the validation).
 */
function fileContentOf(file: Element, xopReferences: ReadonlyMap<Element, string>): FileContent {
  const contentElement = requiredChild(file, RMS, 'Content');
  const text = textOf(contentElement);
  const empty = /^[ \t\r\n]*$/.test(text);
  const xopContentId = xopReferences.get(contentElement);
  if (xopContentId !== undefined) {
    if (!empty)
      throw new AttachmentReferenceError(`${file.localName} Content has both an xop:Include and text`);
    return { kind: 'xop', contentId: xopContentId };
  }
  if (empty) {
    throw new AttachmentReferenceError(`${file.localName} Content is empty and has no xop:Include`);
  }
  if (contentIdFromCidUrl(text) !== undefined) {
    throw new AttachmentReferenceError(
      `${file.localName} Content is a cid: URL; reference a MIME part with an xop:Include (MTOM)`,
    );
  }
  const bytes = decodeBase64Binary(text);
  if (bytes === undefined) {
    throw new XsdComplianceError(`${file.localName} Content is not valid base64Binary`);
  }
  return { kind: 'inline', bytes };
}

/**
 * Maps an XSD-valid `SendRegisteredMailRequest` payload to the domain command (the same command as v1
 * sendDocument) and the source of each file's bytes. Inline contents are decoded here (their size is
 * bounded by the envelope's); MTOM parts are only named, and read later. Every `xop:Include` must be a
 * Document's or Annex's Content and name a distinct part (FILE_B04 otherwise).
 * @param xopReferences the context's map of the Content elements whose `xop:Include` was taken out
 */
export function mapSendRegisteredMailRequest(
  payload: Element,
  xopReferences: ReadonlyMap<Element, string>,
): SendRegisteredMailRequest {
  const documentElement = requiredChild(payload, RMS, 'Document');
  const annexElements = childElements(payload, RMS, 'Annex');

  const documentContent = fileContentOf(documentElement, xopReferences);
  const annexContents = annexElements.map((annex) => fileContentOf(annex, xopReferences));
  const partReferences = [documentContent, ...annexContents].flatMap((content) =>
    content.kind === 'xop' ? [content.contentId] : [],
  );
  if (partReferences.length !== xopReferences.size) {
    throw new AttachmentReferenceError('an xop:Include is not the Content of the Document or an Annex');
  }
  if (new Set(partReferences).size !== partReferences.length) {
    throw new AttachmentReferenceError('a MIME part is referenced twice');
  }

  return {
    command: {
      token: requiredText(payload, RMS, 'Token'),
      recipient: mapRecipient(requiredChild(payload, RMS, 'Recipient')),
      checkEboxStatus: mapCheckEboxStatus(optionalText(payload, RMS, 'CheckEboxStatus')),
      document: mapDocumentDescription(documentElement, RMS),
      annexes: annexElements.map((annex) => mapAnnexDescription(annex, RMS)),
      meta: childElements(payload, RMS, 'Meta').map(mapMeta),
    },
    documentContent,
    annexContents,
  };
}
