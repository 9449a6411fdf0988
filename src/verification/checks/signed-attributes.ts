import { decodeObjectIdentifier, DER_TAG } from '../../pki/der';
import {
  decodeDerTime,
  singleAttributeValue,
  VERIFICATION_OIDS,
  type ParsedAttributes,
} from '../cms-signed-data';
import type { ProofEvidence } from '../proof-evidence';
import { fail, pass, type CheckResult } from '../verification-report';
import { notChecked } from './not-checked';

const ID = 'signed-attributes';

const ATTRIBUTE_NAMES: Readonly<Record<string, string>> = {
  [VERIFICATION_OIDS.contentType]: 'content-type',
  [VERIFICATION_OIDS.messageDigest]: 'message-digest',
  [VERIFICATION_OIDS.signingTime]: 'signing-time',
  [VERIFICATION_OIDS.signingCertificateV2]: 'signing-certificate-v2',
  [VERIFICATION_OIDS.signingCertificate]: 'signing-certificate',
  [VERIFICATION_OIDS.signatureTimeStampToken]: 'signature-time-stamp',
};

function nameOf(type: string): string {
  return ATTRIBUTE_NAMES[type] ?? type;
}

/** DER SET OF order (X.690 section 11.6): each encoding sorts after the one before it. */
function orderProblem(attributes: ParsedAttributes, which: string): string | undefined {
  const list = attributes.attributes;
  for (let index = 1; index < list.length; index += 1) {
    const order = Buffer.compare(list[index - 1].der, list[index].der);
    if (order > 0) {
      return `${which} attributes are not in DER order (X.690 section 11.6): ${nameOf(list[index - 1].type)} is encoded before ${nameOf(list[index].type)}, whose encoding sorts first`;
    }
    if (order === 0) return `${which} attributes hold the same attribute twice (${nameOf(list[index].type)})`;
  }
  return undefined;
}

/** RFC 5652: `SET SIZE (1..MAX) OF Attribute`, and each attribute's `SET OF AttributeValue` non-empty. */
function emptinessProblems(attributes: ParsedAttributes | undefined, which: string): string[] {
  if (attributes === undefined) return [];
  const problems: string[] = [];
  if (attributes.attributes.length === 0) problems.push(`the ${which} attribute set is empty`);
  for (const attribute of attributes.attributes) {
    if (attribute.values.length === 0)
      problems.push(`${which} attribute ${nameOf(attribute.type)} has an empty value set`);
  }
  return problems;
}

/**
 * Signed attributes: a DER SET OF in sorted order, content-type id-data (matching eContentType), a
 * message-digest, one signing-time, and no empty attribute set (signed or unsigned).
 */
export function checkSignedAttributes(evidence: ProofEvidence): CheckResult {
  if (!evidence.signature.ok) return notChecked(ID, evidence.signature.problem);
  const { signedData, signerInfo } = evidence.signature.value;
  const signed = signerInfo.signedAttributes;
  if (signed === undefined) return fail(ID, 'the SignerInfo has no signed attributes');

  const problems: string[] = [];
  const order = orderProblem(signed, 'signed');
  if (order) problems.push(order);
  problems.push(
    ...emptinessProblems(signed, 'signed'),
    ...emptinessProblems(signerInfo.unsignedAttributes, 'unsigned'),
  );

  const contentType = singleAttributeValue(signed, VERIFICATION_OIDS.contentType, 'content-type');
  if ('problem' in contentType) problems.push(contentType.problem);
  else if (contentType.value.tag !== DER_TAG.objectIdentifier)
    problems.push('content-type is not an OBJECT IDENTIFIER');
  else {
    const type = decodeObjectIdentifier(contentType.value.content);
    if (type !== VERIFICATION_OIDS.data) problems.push(`content-type is ${type}, not id-data`);
    else if (signedData.eContentType !== type)
      problems.push(`content-type differs from eContentType ${signedData.eContentType}`);
  }

  const messageDigest = singleAttributeValue(signed, VERIFICATION_OIDS.messageDigest, 'message-digest');
  if ('problem' in messageDigest) problems.push(messageDigest.problem);

  let signingTime: Date | undefined;
  const time = singleAttributeValue(signed, VERIFICATION_OIDS.signingTime, 'signing-time');
  if ('problem' in time) problems.push(time.problem);
  else {
    try {
      signingTime = decodeDerTime(time.value);
    } catch {
      problems.push('signing-time is not a valid UTCTime or GeneralizedTime');
    }
  }

  if (problems.length > 0) return fail(ID, problems.join('; '));
  const names = signed.attributes.map((attribute) => nameOf(attribute.type)).join(', ');
  return pass(
    ID,
    `DER-sorted SET of ${signed.attributes.length} (${names}); content-type id-data; signing-time ${signingTime?.toISOString()}; no empty attribute set`,
  );
}
