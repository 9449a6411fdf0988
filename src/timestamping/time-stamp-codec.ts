import {
  decodeInteger,
  decodeObjectIdentifier,
  DER_TAG,
  derChildren,
  DerError,
  readSingleDerElement,
  type DerElement,
} from '../pki/der';
import {
  derGeneralizedTime,
  derNamedBits,
  derNull,
  derObjectIdentifier,
  derOctetString,
  derSequence,
  derSmallInteger,
  derTlv,
  derUnsignedInteger,
  derUtf8String,
  derBoolean,
} from '../pki/der-writer';
import { FAILURE_INFO_BITS, IMPRINT_HASHES, PKI_STATUS, type FailureInfo } from './rfc3161';
import type { MessageImprint } from './time-stamp-authority';

/*
 * RFC 3161 messages as DER: TimeStampReq, TimeStampResp (PKIStatusInfo) and TSTInfo, written exactly and
 * read strictly (definite lengths, no trailing bytes; DerError on anything else). What a request asks
 * for is decoded here; whether it can be granted is the authority's decision.
 */

const TAG = {
  boolean: 0x01,
  utf8String: 0x0c,
  generalizedTime: 0x18,
  null: 0x05,
  /** `[0]` constructed: TimeStampReq extensions, TSTInfo tsa. */
  context0Constructed: 0xa0,
  /** `[1]` constructed: TSTInfo extensions. */
  context1Constructed: 0xa1,
  /** `[0] IMPLICIT INTEGER`: Accuracy millis. */
  context0Primitive: 0x80,
  /** `[1] IMPLICIT INTEGER`: Accuracy micros. */
  context1Primitive: 0x81,
  /** GeneralName directoryName `[4] EXPLICIT Name`. */
  directoryName: 0xa4,
} as const;

/* ---------------------------------------------------------------------------------------------- */
/* MessageImprint                                                                                  */
/* ---------------------------------------------------------------------------------------------- */

/** A MessageImprint as read: the hash algorithm's OID, whether its parameters are absent or NULL, the digest. */
export interface DecodedMessageImprint {
  hashAlgorithmOid: string;
  /** RFC 5754: SHA-2 parameters are absent or NULL; anything else is another algorithm. */
  parametersAbsentOrNull: boolean;
  digest: Buffer;
  /** The MessageImprint's own encoding. */
  der: Buffer;
}

/** `MessageImprint ::= SEQUENCE { hashAlgorithm AlgorithmIdentifier, hashedMessage OCTET STRING }` (NULL parameters, as OpenSSL and Bouncy Castle write them). */
export function encodeMessageImprint(imprint: MessageImprint): Buffer {
  const hash = IMPRINT_HASHES[imprint.hashAlgorithm];
  return derSequence(derSequence(derObjectIdentifier(hash.oid), derNull()), derOctetString(imprint.digest));
}

export function decodeMessageImprint(element: DerElement): DecodedMessageImprint {
  const [algorithm, hashed, ...rest] = derChildren(element, DER_TAG.sequence);
  if (algorithm === undefined || hashed === undefined || rest.length > 0)
    throw new DerError('MessageImprint must hold an algorithm and a digest');
  const [oid, parameters, ...more] = derChildren(algorithm, DER_TAG.sequence);
  if (oid?.tag !== DER_TAG.objectIdentifier || more.length > 0)
    throw new DerError('malformed MessageImprint hashAlgorithm');
  if (hashed.tag !== DER_TAG.octetString)
    throw new DerError('MessageImprint hashedMessage is not an OCTET STRING');
  return {
    hashAlgorithmOid: decodeObjectIdentifier(oid.content),
    parametersAbsentOrNull:
      parameters === undefined || (parameters.tag === TAG.null && parameters.content.length === 0),
    digest: Buffer.from(hashed.content),
    der: Buffer.from(element.der),
  };
}

/* ---------------------------------------------------------------------------------------------- */
/* TimeStampReq                                                                                    */
/* ---------------------------------------------------------------------------------------------- */

/** What a client asks for in a TimeStampReq. */
export interface TimeStampRequestFields {
  imprint: MessageImprint;
  /** Unsigned big-endian magnitude of the nonce; none: no nonce. */
  nonce?: Buffer;
  certReq: boolean;
  reqPolicy?: string;
}

/** The DER of a version 1 TimeStampReq without extensions. */
export function encodeTimeStampRequest(fields: TimeStampRequestFields): Buffer {
  return derSequence(
    derSmallInteger(1),
    encodeMessageImprint(fields.imprint),
    fields.reqPolicy === undefined ? Buffer.alloc(0) : derObjectIdentifier(fields.reqPolicy),
    fields.nonce === undefined ? Buffer.alloc(0) : derUnsignedInteger(fields.nonce),
    // certReq is BOOLEAN DEFAULT FALSE: DER leaves the default out.
    fields.certReq ? derBoolean(true) : Buffer.alloc(0),
  );
}

/** A TimeStampReq as read, before the authority decides whether it can answer it. */
export interface DecodedTimeStampRequest {
  version: bigint;
  imprint: DecodedMessageImprint;
  reqPolicy: string | undefined;
  /** The nonce INTEGER's own encoding (echoed byte for byte in TSTInfo). */
  nonceDer: Buffer | undefined;
  certReq: boolean;
  /** Whether the request carries an extensions field (even an empty one). */
  hasExtensions: boolean;
}

/**
 * Reads a TimeStampReq.
 * @throws DerError when `der` is not one DER TimeStampReq
 */
export function decodeTimeStampRequest(der: Buffer): DecodedTimeStampRequest {
  const [version, imprint, ...optional] = derChildren(readSingleDerElement(der), DER_TAG.sequence);
  if (version === undefined || imprint === undefined)
    throw new DerError('TimeStampReq needs a version and a messageImprint');
  const request: DecodedTimeStampRequest = {
    version: decodeInteger(version),
    imprint: decodeMessageImprint(imprint),
    reqPolicy: undefined,
    nonceDer: undefined,
    certReq: false,
    hasExtensions: false,
  };
  // The optional fields, each at most once and in this order.
  const order = [DER_TAG.objectIdentifier, DER_TAG.integer, TAG.boolean, TAG.context0Constructed];
  let position = 0;
  for (const element of optional) {
    const index = order.indexOf(element.tag as (typeof order)[number]);
    if (index < position) throw new DerError('TimeStampReq fields out of order or unknown');
    position = index + 1;
    if (element.tag === DER_TAG.objectIdentifier) request.reqPolicy = decodeObjectIdentifier(element.content);
    else if (element.tag === DER_TAG.integer) {
      decodeInteger(element);
      request.nonceDer = Buffer.from(element.der);
    } else if (element.tag === TAG.boolean) request.certReq = decodeBoolean(element);
    else request.hasExtensions = true;
  }
  return request;
}

function decodeBoolean(element: DerElement): boolean {
  if (element.content.length !== 1 || (element.content[0] !== 0 && element.content[0] !== 0xff))
    throw new DerError('BOOLEAN is neither DER TRUE nor FALSE');
  return element.content[0] === 0xff;
}

/* ---------------------------------------------------------------------------------------------- */
/* TimeStampResp                                                                                   */
/* ---------------------------------------------------------------------------------------------- */

/** `TimeStampResp` granting a token: status granted and the token (DER of its ContentInfo). */
export function encodeGrantedResponse(token: Buffer): Buffer {
  return derSequence(derSequence(derSmallInteger(PKI_STATUS.granted)), token);
}

/**
 * `TimeStampResp` refusing a request: status rejection, the reason as PKIFreeText and the failure as a
 * PKIFailureInfo bit.
 */
export function encodeRejectedResponse(failure: FailureInfo, reason: string): Buffer {
  return derSequence(
    derSequence(
      derSmallInteger(PKI_STATUS.rejection),
      derSequence(derUtf8String(reason)),
      derNamedBits([FAILURE_INFO_BITS[failure]]),
    ),
  );
}

/** A TimeStampResp as read. */
export interface DecodedTimeStampResponse {
  status: number;
  /** The PKIFreeText, if any. */
  statusStrings: string[];
  /** The PKIFailureInfo bits set, by name (bits RFC 3161 does not name are listed as `bit<n>`). */
  failures: string[];
  /** DER of the TimeStampToken (a ContentInfo), if any. */
  token: Buffer | undefined;
}

/**
 * Reads a TimeStampResp.
 * @throws DerError when `der` is not one DER TimeStampResp
 */
export function decodeTimeStampResponse(der: Buffer): DecodedTimeStampResponse {
  const [statusInfo, token, ...rest] = derChildren(readSingleDerElement(der), DER_TAG.sequence);
  if (statusInfo === undefined || rest.length > 0)
    throw new DerError('TimeStampResp must hold a status and at most a token');
  const [status, ...optional] = derChildren(statusInfo, DER_TAG.sequence);
  if (status === undefined) throw new DerError('PKIStatusInfo without a status');
  const statusValue = decodeInteger(status);
  const response: DecodedTimeStampResponse = {
    status: statusValue > 1000n || statusValue < 0n ? -1 : Number(statusValue),
    statusStrings: [],
    failures: [],
    token: token === undefined ? undefined : Buffer.from(token.der),
  };
  for (const element of optional) {
    if (element.tag === DER_TAG.sequence) {
      response.statusStrings = derChildren(element).map((text) => {
        if (text.tag !== TAG.utf8String) throw new DerError('PKIFreeText holds a non-UTF8String');
        return text.content.toString('utf8');
      });
    } else if (element.tag === DER_TAG.bitString) {
      response.failures = decodeNamedBits(element).map(
        (bit) => Object.entries(FAILURE_INFO_BITS).find(([, value]) => value === bit)?.[0] ?? `bit${bit}`,
      );
    } else throw new DerError('unexpected field in PKIStatusInfo');
  }
  return response;
}

function decodeNamedBits(element: DerElement): number[] {
  const unused = element.content[0];
  if (unused === undefined || unused > 7) throw new DerError('malformed BIT STRING');
  const bits: number[] = [];
  const octets = element.content.subarray(1);
  for (let bit = 0; bit < octets.length * 8 - unused; bit += 1) {
    if (octets[Math.floor(bit / 8)] & (0x80 >> (bit % 8))) bits.push(bit);
  }
  return bits;
}

/* ---------------------------------------------------------------------------------------------- */
/* TSTInfo                                                                                         */
/* ---------------------------------------------------------------------------------------------- */

/** What a TSA puts in a TSTInfo. */
export interface TstInfoFields {
  policy: string;
  /** DER of the MessageImprint (the request's, byte for byte). */
  imprintDer: Buffer;
  /** Unsigned big-endian magnitude of the serial number. */
  serialNumber: Buffer;
  genTime: Date;
  /** Accuracy in milliseconds (seconds and millis); none: no accuracy field. */
  accuracyMs?: number;
  /** DER of the request's nonce INTEGER. */
  nonceDer?: Buffer;
  /** DER of the Name given as the `tsa` field (a directoryName). */
  tsaName?: Buffer;
}

/** DER of a version 1 TSTInfo (ordering left out: DEFAULT FALSE; no extensions). */
export function encodeTstInfo(fields: TstInfoFields): Buffer {
  return derSequence(
    derSmallInteger(1),
    derObjectIdentifier(fields.policy),
    fields.imprintDer,
    derUnsignedInteger(fields.serialNumber),
    derGeneralizedTime(fields.genTime),
    fields.accuracyMs === undefined ? Buffer.alloc(0) : encodeAccuracy(fields.accuracyMs),
    fields.nonceDer ?? Buffer.alloc(0),
    fields.tsaName === undefined
      ? Buffer.alloc(0)
      : derTlv(TAG.context0Constructed, derTlv(TAG.directoryName, fields.tsaName)),
  );
}

/** `Accuracy ::= SEQUENCE { seconds INTEGER OPTIONAL, millis [0] INTEGER (1..999) OPTIONAL, ... }`. */
function encodeAccuracy(milliseconds: number): Buffer {
  if (!Number.isSafeInteger(milliseconds) || milliseconds <= 0)
    throw new RangeError('accuracy must be a positive number of milliseconds');
  const seconds = Math.floor(milliseconds / 1000);
  const millis = milliseconds % 1000;
  return derSequence(
    seconds > 0 ? derSmallInteger(seconds) : Buffer.alloc(0),
    millis > 0 ? retag(derSmallInteger(millis), TAG.context0Primitive) : Buffer.alloc(0),
  );
}

function retag(element: Buffer, tag: number): Buffer {
  const copy = Buffer.from(element);
  copy[0] = tag;
  return copy;
}

/** A TSTInfo as read. */
export interface DecodedTstInfo {
  version: bigint;
  policy: string;
  imprint: DecodedMessageImprint;
  serialNumber: bigint;
  genTime: Date;
  /** Seconds, millis and micros together, in milliseconds (micros rounded up); undefined when absent. */
  accuracyMs: number | undefined;
  ordering: boolean;
  nonce: bigint | undefined;
  /** DER of the GeneralName in the `tsa` field, if any. */
  tsaName: Buffer | undefined;
  hasExtensions: boolean;
}

/**
 * Reads a TSTInfo.
 * @throws DerError when `der` is not one DER TSTInfo
 */
export function decodeTstInfo(der: Buffer): DecodedTstInfo {
  const [version, policy, imprint, serial, genTime, ...optional] = derChildren(
    readSingleDerElement(der),
    DER_TAG.sequence,
  );
  if (genTime === undefined) throw new DerError('TSTInfo lacks a mandatory field');
  if (policy.tag !== DER_TAG.objectIdentifier) throw new DerError('TSTInfo policy is not an OID');
  const info: DecodedTstInfo = {
    version: decodeInteger(version),
    policy: decodeObjectIdentifier(policy.content),
    imprint: decodeMessageImprint(imprint),
    serialNumber: decodeInteger(serial),
    genTime: decodeGeneralizedTime(genTime),
    accuracyMs: undefined,
    ordering: false,
    nonce: undefined,
    tsaName: undefined,
    hasExtensions: false,
  };
  const order = [
    DER_TAG.sequence,
    TAG.boolean,
    DER_TAG.integer,
    TAG.context0Constructed,
    TAG.context1Constructed,
  ];
  let position = 0;
  for (const element of optional) {
    const index = order.indexOf(element.tag as (typeof order)[number]);
    if (index < position) throw new DerError('TSTInfo fields out of order or unknown');
    position = index + 1;
    if (element.tag === DER_TAG.sequence) info.accuracyMs = decodeAccuracy(element);
    else if (element.tag === TAG.boolean) info.ordering = decodeBoolean(element);
    else if (element.tag === DER_TAG.integer) info.nonce = decodeInteger(element);
    else if (element.tag === TAG.context0Constructed) info.tsaName = Buffer.from(element.content);
    else info.hasExtensions = true;
  }
  return info;
}

function decodeAccuracy(element: DerElement): number {
  let total = 0;
  for (const part of derChildren(element)) {
    const value = Number(decodeInteger(retagElement(part)));
    if (part.tag === DER_TAG.integer) total += value * 1000;
    else if (part.tag === TAG.context0Primitive) total += value;
    else if (part.tag === TAG.context1Primitive) total += Math.ceil(value / 1000);
    else throw new DerError('unexpected field in Accuracy');
  }
  return total;
}

/** An implicitly tagged INTEGER read as an INTEGER. */
function retagElement(element: DerElement): DerElement {
  return element.tag === DER_TAG.integer ? element : { ...element, tag: DER_TAG.integer };
}

const GENERALIZED_TIME = /^(\d{4})(\d{2})(\d{2})(\d{2})(\d{2})(\d{2})(?:\.(\d*[1-9]))?Z$/;

/**
 * A DER GeneralizedTime (UTC, `Z`, optional fraction without trailing zeros); fractions beyond the
 * millisecond are cut.
 */
function decodeGeneralizedTime(element: DerElement): Date {
  const match =
    element.tag === TAG.generalizedTime ? GENERALIZED_TIME.exec(element.content.toString('latin1')) : null;
  if (match === null) throw new DerError('not a DER GeneralizedTime');
  const [, year, month, day, hour, minute, second, fraction] = match;
  const milliseconds = Number((fraction ?? '').padEnd(3, '0').slice(0, 3));
  const time = new Date(
    Date.UTC(
      Number(year),
      Number(month) - 1,
      Number(day),
      Number(hour),
      Number(minute),
      Number(second),
      milliseconds,
    ),
  );
  if (Number.isNaN(time.getTime()) || time.getUTCDate() !== Number(day))
    throw new DerError('invalid GeneralizedTime');
  return time;
}
