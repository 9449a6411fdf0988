import type { Element } from '@xmldom/xmldom';
import type {
  AnnexDescription,
  CheckEboxStatus,
  Digest,
  DigestMethod,
  DocumentDescription,
  Language,
  Recipient,
  SendDocumentCommand,
} from '../../domain/model';
import { AttachmentReferenceError, ContentValidationError } from '../../errors/faults';
import { contentIdFromCidUrl } from '../swa-reference';
import { NS } from '../../xml/namespaces';
import {
  childElements,
  optionalText,
  requiredChild,
  requiredText,
  resolveQName,
  textOf,
} from '../../xml/element-reader';

/** A v1 `SendDocumentRequest`: the domain command plus where each file's bytes are (swaRef `cid:`). */
export interface SendDocumentRequestV1 {
  command: SendDocumentCommand;
  /** Content-ID of the document's part. */
  documentContentId: string;
  /** Content-IDs of the annexes' parts, in annex order. */
  annexContentIds: string[];
}

const T = NS.types;

function mapDigest(element: Element): Digest {
  return {
    method: requiredText(element, T, 'DigestMethod') as DigestMethod,
    value: Buffer.from(requiredText(element, T, 'DigestValue').replace(/\s+/g, ''), 'base64'),
  };
}

function mapRecipient(element: Element): Recipient {
  const xsiType = element.getAttributeNS(NS.xsi, 'type');
  const type = xsiType ? resolveQName(element, xsiType) : undefined;
  if (type?.namespace === T && type.localName === 'Citizen') {
    return {
      kind: 'citizen',
      inss: requiredText(element, T, 'INSS'),
      qualityCode: requiredText(element, T, 'QualityCode'),
    };
  }
  if (type?.namespace === T && type.localName === 'Enterprise') {
    return {
      kind: 'enterprise',
      cbe: requiredText(element, T, 'CompanyID'),
      qualityCode: requiredText(element, T, 'QualityCode'),
    };
  }
  throw new ContentValidationError('the Recipient must be of type Citizen or Enterprise');
}

function contentIdOf(file: Element): string {
  const url = requiredText(file, T, 'Content');
  const contentId = contentIdFromCidUrl(url);
  if (!contentId)
    throw new AttachmentReferenceError(`Content ${JSON.stringify(url.slice(0, 100))} is not a cid: URL`);
  return contentId;
}

function mapDocument(element: Element): DocumentDescription {
  return {
    title: requiredText(element, T, 'Title'),
    digest: mapDigest(requiredChild(element, T, 'Digest')),
    downloadFileName: requiredText(element, T, 'DownloadFileName'),
    mime: optionalText(element, T, 'MIME'),
    type: requiredText(element, T, 'Type'),
    language: optionalText(element, T, 'Language') as Language | undefined,
  };
}

function mapAnnex(element: Element): AnnexDescription {
  return {
    title: requiredText(element, T, 'Title'),
    digest: mapDigest(requiredChild(element, T, 'Digest')),
    downloadFileName: requiredText(element, T, 'DownloadFileName'),
    mime: optionalText(element, T, 'MIME'),
  };
}

/**
 * Maps an XSD-valid `SendDocumentRequest` payload to the domain command. Every `cid:` must name a
 * distinct part (FILE_B04 otherwise); whether each part arrives is checked while reading them.
 */
export function mapSendDocumentRequest(payload: Element): SendDocumentRequestV1 {
  const item = requiredChild(payload, T, 'RegisteredMailItem');
  const documentElement = requiredChild(item, T, 'Document');
  const annexElements = childElements(item, T, 'Annex');
  const checkEboxStatus = (optionalText(payload, T, 'CheckEboxStatus') ?? 'ACTIVATED') as CheckEboxStatus;

  const documentContentId = contentIdOf(documentElement);
  const annexContentIds = annexElements.map(contentIdOf);
  const all = [documentContentId, ...annexContentIds];
  if (new Set(all).size !== all.length) throw new AttachmentReferenceError('a MIME part is referenced twice');

  return {
    command: {
      token: requiredText(item, T, 'Token'),
      recipient: mapRecipient(requiredChild(item, T, 'Recipient')),
      checkEboxStatus,
      document: mapDocument(documentElement),
      annexes: annexElements.map(mapAnnex),
      meta: childElements(item, T, 'Meta').map((meta) => ({
        type: requiredText(meta, T, 'Type'),
        values: childElements(meta, T, 'Value').map(textOf),
      })),
    },
    documentContentId,
    annexContentIds,
  };
}
