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
import { TSP_OIDS } from './rfc3161';
import {
  decodeMessageImprint,
  decodeTstInfo,
  type DecodedMessageImprint,
  type DecodedTstInfo,
} from './time-stamp-codec';

/*
 * Reading a TimeStampToken (RFC 3161 section 2.4.2): the ContentInfo, its SignedData and its one
 * SignerInfo, keeping the exact bytes that signatures and hashes cover. Strict DER: a token that is not
 * DER is refused (DerError) rather than re-encoded.
 */

/** How a SignerInfo names its certificate. */
export type SignerIdentifier = { issuerDer: Buffer; serialNumber: bigint } | { subjectKeyIdentifier: Buffer };

/** A signed attribute: its type and its values (each a DER element). */
export interface TokenAttribute {
  type: string;
  values: DerElement[];
}

/** The SignerInfo of a token. */
export interface TokenSignerInfo {
  signerIdentifier: SignerIdentifier;
  digestAlgorithmOid: string;
  /** The signed attributes as the DER SET OF the signature covers (explicit SET tag). */
  signedAttributesDer: Buffer;
  signedAttributes: TokenAttribute[];
  signatureAlgorithmOid: string;
  signature: Buffer;
}

/** A TimeStampToken as read. */
export interface ParsedTimeStampToken {
  /** The encapsulated TSTInfo, DER (what message-digest covers). */
  tstInfoDer: Buffer;
  tstInfo: DecodedTstInfo;
  /** DER of the X.509 certificates SignedData carries (other certificate choices are skipped). */
  certificates: Buffer[];
  signerInfo: TokenSignerInfo;
}

/** The SignedData of a token: the content of its ContentInfo. */
function signedDataOf(der: Buffer): DerElement {
  const [contentType, explicitContent, ...rest] = derChildren(readSingleDerElement(der), DER_TAG.sequence);
  if (contentType?.tag !== DER_TAG.objectIdentifier || explicitContent?.tag !== 0xa0 || rest.length > 0)
    throw new DerError('not a ContentInfo');
  if (decodeObjectIdentifier(contentType.content) !== CMS_OIDS.signedData)
    throw new DerError('the ContentInfo does not hold a SignedData');
  const [signedData, ...more] = derChildren(explicitContent);
  if (signedData === undefined || more.length > 0) throw new DerError('malformed ContentInfo content');
  return signedData;
}

/**
 * Reads a TimeStampToken.
 * @throws DerError when `der` is not a DER ContentInfo holding a SignedData over a TSTInfo with exactly
 *   one SignerInfo
 */
export function parseTimeStampToken(der: Buffer): ParsedTimeStampToken {
  const [version, digestAlgorithms, encapsulated, ...tail] = derChildren(signedDataOf(der), DER_TAG.sequence);
  if (encapsulated === undefined) throw new DerError('truncated SignedData');
  decodeInteger(version);
  derChildren(digestAlgorithms, DER_TAG.set);
  const signerInfos = tail.pop();
  const certificates: Buffer[] = [];
  for (const element of tail) {
    if (element.tag === 0xa0) {
      for (const choice of derChildren(element))
        if (choice.tag === DER_TAG.sequence) certificates.push(Buffer.from(choice.der));
    } else if (element.tag !== 0xa1) throw new DerError('unexpected field in SignedData');
  }
  if (signerInfos === undefined) throw new DerError('SignedData has no signerInfos');
  const signers = derChildren(signerInfos, DER_TAG.set);
  if (signers.length !== 1)
    throw new DerError(`a time-stamp token has one SignerInfo, not ${signers.length}`);

  const tstInfoDer = encapsulatedTstInfo(encapsulated);
  return {
    tstInfoDer,
    tstInfo: decodeTstInfo(tstInfoDer),
    certificates,
    signerInfo: parseSignerInfo(signers[0]),
  };
}

/**
 * The MessageImprint that a TimeStampToken's TSTInfo states, read without the rest of the token (its
 * certificates, its SignerInfo, the TSTInfo's other fields): what the caller that asked for the token
 * compares with what it asked for.
 * @throws DerError when `der` is not a DER ContentInfo holding a SignedData over a TSTInfo
 */
export function readTokenImprint(der: Buffer): DecodedMessageImprint {
  const [, , encapsulated] = derChildren(signedDataOf(der), DER_TAG.sequence);
  if (encapsulated === undefined) throw new DerError('truncated SignedData');
  const [, , imprint] = derChildren(
    readSingleDerElement(encapsulatedTstInfo(encapsulated)),
    DER_TAG.sequence,
  );
  if (imprint === undefined) throw new DerError('TSTInfo lacks a mandatory field');
  return decodeMessageImprint(imprint);
}

function encapsulatedTstInfo(encapsulated: DerElement): Buffer {
  const [eContentType, explicitContent] = derChildren(encapsulated, DER_TAG.sequence);
  if (eContentType?.tag !== DER_TAG.objectIdentifier) throw new DerError('malformed EncapsulatedContentInfo');
  const type = decodeObjectIdentifier(eContentType.content);
  if (type !== TSP_OIDS.tstInfo) throw new DerError(`the encapsulated content is ${type}, not id-ct-TSTInfo`);
  if (explicitContent?.tag !== 0xa0) throw new DerError('the token encapsulates no TSTInfo');
  const [octets] = derChildren(explicitContent);
  if (octets?.tag !== DER_TAG.octetString) throw new DerError('eContent is not a primitive OCTET STRING');
  return Buffer.from(octets.content);
}

function parseSignerInfo(signerInfo: DerElement): TokenSignerInfo {
  const [version, sid, digestAlgorithm, ...rest] = derChildren(signerInfo, DER_TAG.sequence);
  if (digestAlgorithm === undefined) throw new DerError('truncated SignerInfo');
  decodeInteger(version);
  const signed = rest[0]?.tag === 0xa0 ? rest.shift() : undefined;
  const [signatureAlgorithm, signature] = rest;
  if (signatureAlgorithm === undefined || signature?.tag !== DER_TAG.octetString)
    throw new DerError('SignerInfo lacks its signature');
  if (signed === undefined) throw new DerError('SignerInfo has no signed attributes');
  return {
    signerIdentifier: parseSignerIdentifier(sid),
    digestAlgorithmOid: algorithmOid(digestAlgorithm),
    signedAttributesDer: Buffer.concat([Buffer.from([DER_TAG.set]), signed.der.subarray(1)]),
    signedAttributes: derChildren(signed).map(parseAttribute),
    signatureAlgorithmOid: algorithmOid(signatureAlgorithm),
    signature: Buffer.from(signature.content),
  };
}

function parseSignerIdentifier(sid: DerElement): SignerIdentifier {
  if (sid.tag === 0x80) return { subjectKeyIdentifier: Buffer.from(sid.content) };
  const [issuer, serial, ...rest] = derChildren(sid, DER_TAG.sequence);
  if (issuer?.tag !== DER_TAG.sequence || serial === undefined || rest.length > 0)
    throw new DerError('malformed IssuerAndSerialNumber');
  return { issuerDer: Buffer.from(issuer.der), serialNumber: decodeInteger(serial) };
}

/** The OID of an AlgorithmIdentifier. */
export function algorithmOid(algorithm: DerElement): string {
  const [oid] = derChildren(algorithm, DER_TAG.sequence);
  if (oid?.tag !== DER_TAG.objectIdentifier) throw new DerError('malformed AlgorithmIdentifier');
  return decodeObjectIdentifier(oid.content);
}

function parseAttribute(attribute: DerElement): TokenAttribute {
  const [type, values, ...rest] = derChildren(attribute, DER_TAG.sequence);
  if (type?.tag !== DER_TAG.objectIdentifier || values === undefined || rest.length > 0)
    throw new DerError('malformed Attribute');
  return { type: decodeObjectIdentifier(type.content), values: derChildren(values, DER_TAG.set) };
}
