import {
  decodeInteger,
  decodeObjectIdentifier,
  DER_TAG,
  derChildren,
  DerError,
  readSingleDerElement,
  type DerElement,
} from '../pki/der';
import { CMS_OIDS } from '../evidence/cms-detached-signature';

/*
 * A strict DER reading of a CMS ContentInfo holding a SignedData (RFC 5652), keeping the bytes of every
 * part as they were received: the signature covers the signed attributes' exact encoding, a time-stamp
 * covers the signature value's exact bytes, and the DER order of the attribute SET is itself a check.
 * Anything that is not DER (indefinite lengths included) is refused with a message, not guessed at.
 */

/** Object identifiers the verification reads, beyond {@link CMS_OIDS}. */
export const VERIFICATION_OIDS = {
  ...CMS_OIDS,
  /** id-ct-TSTInfo (RFC 3161). */
  tstInfo: '1.2.840.113549.1.9.16.1.4',
  /** id-aa-signingCertificate (RFC 2634, ESSCertID with SHA-1). */
  signingCertificate: '1.2.840.113549.1.9.16.2.12',
  /** id-kp-timeStamping. */
  timeStamping: '1.3.6.1.5.5.7.3.8',
  extendedKeyUsage: '2.5.29.37',
  keyUsage: '2.5.29.15',
} as const;

/** The input is not the CMS structure it should be. */
export class ProofFormatError extends Error {
  constructor(message: string) {
    super(message);
    this.name = 'ProofFormatError';
  }
}

/** One attribute of a SignerInfo. */
export interface ParsedAttribute {
  type: string;
  /** The whole `Attribute` encoding, as received. */
  der: Buffer;
  /** Each value of its `attrValues` SET, as received. */
  values: DerElement[];
}

/** The signed or unsigned attributes of a SignerInfo. */
export interface ParsedAttributes {
  /** The `[0]`/`[1] IMPLICIT SET OF Attribute` element as received. */
  der: Buffer;
  attributes: ParsedAttribute[];
}

/** How a SignerInfo names its certificate. */
export type SignerIdentifier =
  | { kind: 'issuer-and-serial'; issuerDer: Buffer; serialNumber: bigint }
  | { kind: 'subject-key-identifier'; keyIdentifier: Buffer };

/** One SignerInfo. */
export interface ParsedSignerInfo {
  sid: SignerIdentifier;
  digestAlgorithm: string;
  signedAttributes?: ParsedAttributes;
  signatureAlgorithm: string;
  signatureValue: Buffer;
  unsignedAttributes?: ParsedAttributes;
}

/** A SignedData, its parts as received. */
export interface ParsedSignedData {
  eContentType: string;
  /** The encapsulated content; absent for a detached signature. */
  eContent?: Buffer;
  /** DER of each X.509 certificate of `certificates` (other certificate formats are skipped). */
  certificates: Buffer[];
  signerInfos: ParsedSignerInfo[];
}

function malformed(what: string, cause?: unknown): ProofFormatError {
  const detail = cause instanceof DerError ? `: ${cause.message}` : '';
  return new ProofFormatError(`${what}${detail}`);
}

function oid(element: DerElement | undefined, what: string): string {
  if (element?.tag !== DER_TAG.objectIdentifier) throw malformed(`${what}: not an OBJECT IDENTIFIER`);
  return decodeObjectIdentifier(element.content);
}

/** `AlgorithmIdentifier ::= SEQUENCE { algorithm OID, parameters ANY OPTIONAL }`: the OID. */
export function algorithmOf(element: DerElement | undefined, what: string): string {
  if (element?.tag !== DER_TAG.sequence) throw malformed(`${what}: not an AlgorithmIdentifier`);
  return oid(derChildren(element)[0], what);
}

function readAttributes(element: DerElement, what: string): ParsedAttributes {
  const attributes = derChildren(element).map((attribute) => {
    const [type, values, ...rest] = derChildren(attribute, DER_TAG.sequence);
    if (values?.tag !== DER_TAG.set || rest.length > 0) throw malformed(`${what}: malformed Attribute`);
    return { type: oid(type, what), der: attribute.der, values: derChildren(values) };
  });
  return { der: element.der, attributes };
}

function readSignerIdentifier(element: DerElement | undefined): SignerIdentifier {
  if (element?.tag === DER_TAG.sequence) {
    const [issuer, serial] = derChildren(element);
    if (issuer?.tag !== DER_TAG.sequence || serial === undefined) {
      throw malformed('SignerInfo: malformed IssuerAndSerialNumber');
    }
    return { kind: 'issuer-and-serial', issuerDer: issuer.der, serialNumber: decodeInteger(serial) };
  }
  if (element?.tag === 0x80) return { kind: 'subject-key-identifier', keyIdentifier: element.content };
  throw malformed('SignerInfo: unknown signer identifier');
}

function readSignerInfo(element: DerElement): ParsedSignerInfo {
  const fields = derChildren(element, DER_TAG.sequence);
  const [, sid, digestAlgorithm, ...rest] = fields;
  let index = 0;
  let signedAttributes: ParsedAttributes | undefined;
  if (rest[index]?.tag === 0xa0) signedAttributes = readAttributes(rest[index++], 'signed attributes');
  const signatureAlgorithm = algorithmOf(rest[index++], 'SignerInfo signatureAlgorithm');
  const signature = rest[index++];
  if (signature?.tag !== DER_TAG.octetString) throw malformed('SignerInfo: no signature OCTET STRING');
  let unsignedAttributes: ParsedAttributes | undefined;
  if (rest[index]?.tag === 0xa1) unsignedAttributes = readAttributes(rest[index++], 'unsigned attributes');
  if (index !== rest.length) throw malformed('SignerInfo: unexpected trailing fields');
  return {
    sid: readSignerIdentifier(sid),
    digestAlgorithm: algorithmOf(digestAlgorithm, 'SignerInfo digestAlgorithm'),
    signedAttributes,
    signatureAlgorithm,
    signatureValue: signature.content,
    unsignedAttributes,
  };
}

/**
 * Reads the DER of a `ContentInfo` whose content is a `SignedData`.
 * @throws ProofFormatError naming what is wrong
 */
export function parseSignedData(contentInfoDer: Buffer): ParsedSignedData {
  try {
    const [contentType, explicitContent, ...extra] = derChildren(
      readSingleDerElement(contentInfoDer),
      DER_TAG.sequence,
    );
    if (oid(contentType, 'ContentInfo contentType') !== VERIFICATION_OIDS.signedData || extra.length > 0) {
      throw malformed('not a CMS ContentInfo holding a SignedData');
    }
    if (explicitContent?.tag !== 0xa0) throw malformed('ContentInfo without content');
    const [signedData] = derChildren(explicitContent);
    const [version, digestAlgorithms, encapsulated, ...rest] = derChildren(signedData, DER_TAG.sequence);
    if (version?.tag !== DER_TAG.integer || digestAlgorithms?.tag !== DER_TAG.set) {
      throw malformed('SignedData: malformed version or digestAlgorithms');
    }
    const [eContentType, eContentWrapper] = derChildren(encapsulated, DER_TAG.sequence);
    let eContent: Buffer | undefined;
    if (eContentWrapper !== undefined) {
      const [octets] = derChildren(eContentWrapper, 0xa0);
      if (octets?.tag !== DER_TAG.octetString) throw malformed('SignedData: eContent is not an OCTET STRING');
      eContent = octets.content;
    }
    const certificates: Buffer[] = [];
    let index = 0;
    if (rest[index]?.tag === 0xa0) {
      for (const choice of derChildren(rest[index++])) {
        if (choice.tag === DER_TAG.sequence) certificates.push(choice.der);
      }
    }
    if (rest[index]?.tag === 0xa1) index += 1; // crls: not used by this verification
    const signerInfos = rest[index++];
    if (signerInfos?.tag !== DER_TAG.set || index !== rest.length) {
      throw malformed('SignedData: no signerInfos SET');
    }
    return {
      eContentType: oid(eContentType, 'eContentType'),
      eContent,
      certificates,
      signerInfos: derChildren(signerInfos).map(readSignerInfo),
    };
  } catch (error) {
    if (error instanceof ProofFormatError) throw error;
    throw malformed('not a DER CMS SignedData', error);
  }
}

/** The values of every instance of an attribute type (one array per instance). */
export function attributeInstances(attributes: ParsedAttributes | undefined, type: string): DerElement[][] {
  return (attributes?.attributes ?? []).filter((entry) => entry.type === type).map((entry) => entry.values);
}

/**
 * The one value of an attribute that must occur once with one value, or a description of why not.
 */
export function singleAttributeValue(
  attributes: ParsedAttributes | undefined,
  type: string,
  name: string,
): { value: DerElement } | { problem: string } {
  const instances = attributeInstances(attributes, type);
  if (instances.length === 0) return { problem: `no ${name} attribute` };
  if (instances.length > 1) return { problem: `${instances.length} ${name} attributes (one allowed)` };
  if (instances[0].length !== 1)
    return { problem: `the ${name} attribute has ${instances[0].length} values` };
  return { value: instances[0][0] };
}

/** The bytes a SignerInfo's signature covers: the signed attributes with the explicit SET tag. */
export function signedAttributesForSignature(signedAttributes: ParsedAttributes): Buffer {
  return Buffer.concat([Buffer.from([DER_TAG.set]), signedAttributes.der.subarray(1)]);
}

/**
 * A UTCTime (RFC 5280: years 1950..2049) or GeneralizedTime (fractional seconds allowed) ending in Z.
 * @throws ProofFormatError for anything else
 */
export function decodeDerTime(element: DerElement): Date {
  const text = element.content.toString('latin1');
  const utc = /^(\d{2})(\d{2})(\d{2})(\d{2})(\d{2})(\d{2})Z$/.exec(text);
  const generalized = /^(\d{4})(\d{2})(\d{2})(\d{2})(\d{2})(\d{2})(?:\.(\d+))?Z$/.exec(text);
  let parts: string[];
  let fraction = '';
  if (element.tag === 0x17 && utc) {
    const year = Number(utc[1]);
    parts = [String(year < 50 ? 2000 + year : 1900 + year), ...utc.slice(2, 7)];
  } else if (element.tag === 0x18 && generalized) {
    parts = generalized.slice(1, 7);
    fraction = generalized[7] ?? '';
  } else {
    throw new ProofFormatError('not a UTCTime or GeneralizedTime in UTC');
  }
  const [year, month, day, hour, minute, second] = parts.map(Number);
  const milliseconds = fraction === '' ? 0 : Math.floor(Number(`0.${fraction}`) * 1000);
  const time = new Date(Date.UTC(year, month - 1, day, hour, minute, second, milliseconds));
  if (Number.isNaN(time.getTime()) || time.getUTCDate() !== day) throw new ProofFormatError('invalid date');
  return time;
}
