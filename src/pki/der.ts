/*
 * A minimal, bounds-checked DER reader: just what reading a certificate's issuer, serial number,
 * public key and extensions, and a `#hex` value of a distinguished name string, need. It reads definite
 * lengths only (DER) and throws DerError on anything malformed; it never reads past its buffer.
 */

import { LruCache } from './lru-cache';

/** Thrown on input that is not well-formed DER. */
export class DerError extends Error {
  constructor(message: string) {
    super(message);
    this.name = 'DerError';
  }
}

/** One DER element (tag, length, value). */
export interface DerElement {
  /** The identifier octet (class, constructed bit, tag number < 31). */
  tag: number;
  /** The whole encoding, identifier and length included. */
  der: Buffer;
  /** The content octets. */
  content: Buffer;
}

/** DER tags used by callers. */
export const DER_TAG = {
  integer: 0x02,
  bitString: 0x03,
  octetString: 0x04,
  objectIdentifier: 0x06,
  sequence: 0x30,
  set: 0x31,
} as const;

/** Lengths beyond this are not DER a certificate field needs (and would not fit a Buffer index anyway). */
const MAX_LENGTH_OCTETS = 4;

/**
 * Reads the element starting at `offset`.
 * @returns the element and the offset just after it
 * @throws DerError when the element is truncated, uses a high tag number or an indefinite length
 */
export function readDerElement(buffer: Buffer, offset = 0): { element: DerElement; next: number } {
  if (offset + 2 > buffer.length) throw new DerError('truncated DER element');
  const tag = buffer[offset];
  if ((tag & 0x1f) === 0x1f) throw new DerError('high tag numbers are not supported');
  let length = buffer[offset + 1];
  let header = 2;
  if (length & 0x80) {
    const octets = length & 0x7f;
    if (octets === 0) throw new DerError('indefinite length is not DER');
    if (octets > MAX_LENGTH_OCTETS) throw new DerError('DER length too large');
    if (offset + 2 + octets > buffer.length) throw new DerError('truncated DER length');
    length = 0;
    for (let i = 0; i < octets; i += 1) length = length * 256 + buffer[offset + 2 + i];
    header += octets;
  }
  const end = offset + header + length;
  if (end > buffer.length) throw new DerError('truncated DER content');
  return {
    element: { tag, der: buffer.subarray(offset, end), content: buffer.subarray(offset + header, end) },
    next: end,
  };
}

/**
 * Reads a buffer that holds exactly one element.
 * @throws DerError when it is malformed or followed by other bytes
 */
export function readSingleDerElement(buffer: Buffer): DerElement {
  const { element, next } = readDerElement(buffer);
  if (next !== buffer.length) throw new DerError('trailing bytes after a DER element');
  return element;
}

/**
 * The elements of a constructed element's content, in order.
 * @param expectedTag when given, the element's own tag must be this
 * @throws DerError when the tag differs or the content is not a sequence of elements
 */
export function derChildren(element: DerElement, expectedTag?: number): DerElement[] {
  if (expectedTag !== undefined && element.tag !== expectedTag) {
    throw new DerError(`expected DER tag 0x${expectedTag.toString(16)}, found 0x${element.tag.toString(16)}`);
  }
  if ((element.tag & 0x20) === 0) throw new DerError('a primitive DER element has no children');
  const children: DerElement[] = [];
  let offset = 0;
  while (offset < element.content.length) {
    const { element: child, next } = readDerElement(element.content, offset);
    children.push(child);
    offset = next;
  }
  return children;
}

/**
 * The dotted form of an OBJECT IDENTIFIER's content octets (`2.5.4.3`).
 * @throws DerError when the encoding is malformed
 */
export function decodeObjectIdentifier(content: Buffer): string {
  const key = content.toString('latin1');
  let oid = decodedObjectIdentifiers.get(key);
  if (oid === undefined) {
    oid = decodeArcs(content);
    decodedObjectIdentifiers.set(key, oid);
  }
  return oid;
}

/**
 * Dotted forms of the OBJECT IDENTIFIER contents read so far, by their octets: a time-stamp token holds
 * a dozen OIDs and decoding one (BigInt arcs) costs several microseconds. Bounded: the octets may come
 * from anyone.
 */
const decodedObjectIdentifiers = new LruCache<string>(256);

function decodeArcs(content: Buffer): string {
  if (content.length === 0) throw new DerError('empty OBJECT IDENTIFIER');
  const arcs: bigint[] = [];
  let value = 0n;
  let started = false;
  for (const octet of content) {
    if (!started && octet === 0x80) throw new DerError('non-minimal OBJECT IDENTIFIER arc');
    started = true;
    value = (value << 7n) | BigInt(octet & 0x7f);
    if ((octet & 0x80) === 0) {
      arcs.push(value);
      value = 0n;
      started = false;
    }
  }
  if (started) throw new DerError('truncated OBJECT IDENTIFIER');
  const first = arcs[0];
  const head = first < 40n ? [0n, first] : first < 80n ? [1n, first - 40n] : [2n, first - 80n];
  return [...head, ...arcs.slice(1)].join('.');
}

/**
 * An INTEGER's value (two's complement, as X.509 serial numbers are encoded).
 * @throws DerError when the element is not an INTEGER
 */
export function decodeInteger(element: DerElement): bigint {
  if (element.tag !== DER_TAG.integer || element.content.length === 0)
    throw new DerError('not a DER INTEGER');
  const unsigned = BigInt(`0x${element.content.toString('hex')}`);
  const negative = (element.content[0] & 0x80) !== 0;
  return negative ? unsigned - (1n << BigInt(element.content.length * 8)) : unsigned;
}

function decodeBigEndianCodeUnits(content: Buffer, width: 2 | 4): string | undefined {
  if (content.length % width !== 0) return undefined;
  let text = '';
  for (let offset = 0; offset < content.length; offset += width) {
    const codePoint = width === 2 ? content.readUInt16BE(offset) : content.readUInt32BE(offset);
    if (width === 4 && codePoint > 0x10ffff) return undefined;
    text += width === 2 ? String.fromCharCode(codePoint) : String.fromCodePoint(codePoint);
  }
  return text;
}

/**
 * The text of a character string element (UTF8String, PrintableString, IA5String, TeletexString,
 * NumericString, VisibleString, BMPString, UniversalString), or undefined for any other element.
 * TeletexString is read as Latin-1, as most software writes it.
 */
export function decodeDerString(element: DerElement): string | undefined {
  switch (element.tag) {
    case 0x0c: // UTF8String
      return element.content.toString('utf8');
    case 0x12: // NumericString
    case 0x13: // PrintableString
    case 0x14: // TeletexString (T61String)
    case 0x16: // IA5String
    case 0x1a: // VisibleString
      return element.content.toString('latin1');
    case 0x1e: // BMPString (UTF-16BE)
      return decodeBigEndianCodeUnits(element.content, 2);
    case 0x1c: // UniversalString (UTF-32BE)
      return decodeBigEndianCodeUnits(element.content, 4);
    default:
      return undefined;
  }
}
