import type { Element } from '@xmldom/xmldom';
import type {
  AnnexDescription,
  CheckEboxStatus,
  Digest,
  DigestMethod,
  DocumentDescription,
  Language,
  Meta,
  Recipient,
} from '../domain/model';
import { ContentValidationError } from '../errors/faults';
import { NS } from '../xml/namespaces';
import {
  childElements,
  optionalText,
  requiredChild,
  requiredText,
  resolveQName,
  textOf,
} from '../xml/element-reader';

/*
 * Mapping of the v1 types (http://socialsecurity.be/registeredmail/types/v1) that both ports carry to the
 * domain: the v1 port inside its RegisteredMailItem, RegisteredMailService under its own element names.
 * The children of these types are in the v1 types namespace in both ports; the file descriptions' own
 * children are in the namespace of the port's element, passed in.
 */

const T = NS.types;

/** A `types:Digest` (DigestMethod, DigestValue). */
export function mapDigest(element: Element): Digest {
  return {
    method: requiredText(element, T, 'DigestMethod') as DigestMethod,
    value: Buffer.from(requiredText(element, T, 'DigestValue').replace(/\s+/g, ''), 'base64'),
  };
}

/**
 * A `types:Entity` recipient, by its `xsi:type`: `types:Citizen` (INSS) or `types:Enterprise` (CompanyID).
 * @throws ContentValidationError (SOA-03007) for any other type
 */
export function mapRecipient(element: Element): Recipient {
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

/** A `types:Meta` (Type and its Values, in order). */
export function mapMeta(element: Element): Meta {
  return {
    type: requiredText(element, T, 'Type'),
    values: childElements(element, T, 'Value').map(textOf),
  };
}

/** The `CheckEboxStatus` value, `ACTIVATED` when the element is absent (both ports' default). */
export function mapCheckEboxStatus(text: string | undefined): CheckEboxStatus {
  return (text ?? 'ACTIVATED') as CheckEboxStatus;
}

/**
 * The description of the main document: Title, Digest, DownloadFileName, MIME?, Type, Language?.
 * @param namespace the namespace of the file element's own children (the types namespace in v1)
 */
export function mapDocumentDescription(element: Element, namespace: string): DocumentDescription {
  return {
    title: requiredText(element, namespace, 'Title'),
    digest: mapDigest(requiredChild(element, namespace, 'Digest')),
    downloadFileName: requiredText(element, namespace, 'DownloadFileName'),
    mime: optionalText(element, namespace, 'MIME'),
    type: requiredText(element, namespace, 'Type'),
    language: optionalText(element, namespace, 'Language') as Language | undefined,
  };
}

/**
 * The description of an annex: Title, Digest, DownloadFileName, MIME?.
 * @param namespace the namespace of the file element's own children (the types namespace in v1)
 */
export function mapAnnexDescription(element: Element, namespace: string): AnnexDescription {
  return {
    title: requiredText(element, namespace, 'Title'),
    digest: mapDigest(requiredChild(element, namespace, 'Digest')),
    downloadFileName: requiredText(element, namespace, 'DownloadFileName'),
    mime: optionalText(element, namespace, 'MIME'),
  };
}
