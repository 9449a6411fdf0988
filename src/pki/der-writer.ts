/*
 * A minimal DER writer, the counterpart of the reader in der.ts: every value is built from its encoded
 * parts, so what is written is exactly DER (minimal lengths and integers, SET OF sorted by encoding,
 * times in UTC without trailing fraction zeros, BIT STRINGs without trailing zero bits) and parts that
 * arrive encoded (a certificate, a time-stamp token, a request's imprint) are copied byte for byte. It is
 * what the CMS signatures and the time-stamp protocol are written with, with no object model: small
 * elements are written at once (one copy of their bytes per nesting level), and the outer levels of a
 * SignedData, where certificates and tokens of kilobytes nest five or six deep, as a {@link DerTree}
 * written once ({@link writeDer}).
 */

import { LruCache } from './lru-cache';

/** How many octets the definite length of a content of `length` bytes takes. */
function lengthOctetCount(length: number): number {
  if (length < 0x80) return 1;
  let count = 1;
  for (let rest = length; rest > 0; rest = Math.floor(rest / 256)) count += 1;
  return count;
}

/** Writes the identifier and definite length octets at `offset`; returns the offset of the content. */
function writeHeader(target: Buffer, offset: number, tag: number, contentLength: number): number {
  const lengthOctets = lengthOctetCount(contentLength);
  target[offset] = tag;
  if (lengthOctets === 1) {
    target[offset + 1] = contentLength;
  } else {
    target[offset + 1] = 0x80 | (lengthOctets - 1);
    let rest = contentLength;
    for (let index = lengthOctets; index >= 2; index -= 1) {
      target[offset + index] = rest % 256;
      rest = Math.floor(rest / 256);
    }
  }
  return offset + 1 + lengthOctets;
}

/**
 * An element of the given identifier octet whose content is the concatenation of `parts`: one buffer,
 * its identifier and length octets written in place (no buffer of their own: a receipt and its
 * time-stamp token are a few hundred elements).
 */
export function derTlv(tag: number, ...parts: Buffer[]): Buffer {
  let contentLength = 0;
  for (const part of parts) contentLength += part.length;
  const element = Buffer.allocUnsafe(1 + lengthOctetCount(contentLength) + contentLength);
  let offset = writeHeader(element, 0, tag, contentLength);
  for (const part of parts) offset += part.copy(element, offset);
  return element;
}

/**
 * An element not written yet: its identifier octet and its content's parts, each encoded bytes or
 * another such element. {@link writeDer} writes a tree in one buffer, each part's bytes copied once
 * whatever its depth (written at once, a 2 KB time-stamp token nested in a SignedData was copied at
 * each of its eight levels).
 */
export interface DerTree {
  readonly tag: number;
  readonly parts: readonly DerPart[];
  readonly contentLength: number;
}

/** A part of a {@link DerTree}: encoded bytes (copied as they are), or an element not written yet. */
export type DerPart = Buffer | DerTree;

function encodedLength(part: DerPart): number {
  return Buffer.isBuffer(part) ? part.length : 1 + lengthOctetCount(part.contentLength) + part.contentLength;
}

/** An element of the given identifier octet around `parts`, to be written by {@link writeDer}. */
export function derTree(tag: number, ...parts: DerPart[]): DerTree {
  let contentLength = 0;
  for (const part of parts) contentLength += encodedLength(part);
  return { tag, parts, contentLength };
}

function writePart(target: Buffer, offset: number, part: DerPart): number {
  if (Buffer.isBuffer(part)) return offset + part.copy(target, offset);
  let next = writeHeader(target, offset, part.tag, part.contentLength);
  for (const child of part.parts) next = writePart(target, next, child);
  return next;
}

/** The DER of a {@link DerTree} (or of bytes, as they are), in one new buffer. */
export function writeDer(tree: DerPart): Buffer {
  const target = Buffer.allocUnsafe(encodedLength(tree));
  writePart(target, 0, tree);
  return target;
}

/** `SEQUENCE` of already encoded elements. */
export function derSequence(...elements: Buffer[]): Buffer {
  return derTlv(0x30, ...elements);
}

/** The DER components of a SET OF in their DER order: sorted as octet strings (X.690 section 11.6). */
export function sortByEncoding(encodings: readonly Buffer[]): Buffer[] {
  return [...encodings].sort(Buffer.compare);
}

/** `SET OF` already encoded elements, written in DER order ({@link sortByEncoding}). */
export function derSetOf(elements: readonly Buffer[]): Buffer {
  return derTlv(0x31, ...sortByEncoding(elements));
}

/**
 * The identifier octet of a context-specific constructed element `[tagNumber]` (0..30).
 * @throws RangeError for another tag number
 */
export function contextTag(tagNumber: number): number {
  if (!Number.isInteger(tagNumber) || tagNumber < 0 || tagNumber > 30)
    throw new RangeError(`not a low tag number: ${tagNumber}`);
  return 0xa0 | tagNumber;
}

/**
 * A context-specific constructed element `[tagNumber]` (0..30) around the concatenated `parts`: an
 * EXPLICIT tag around one element, or an IMPLICIT SET OF / SEQUENCE OF whose components are the parts
 * (sorted beforehand when it is a SET OF in DER).
 */
export function derContext(tagNumber: number, ...parts: Buffer[]): Buffer {
  return derTlv(contextTag(tagNumber), ...parts);
}

/** A non-negative `INTEGER` from its unsigned big-endian magnitude (minimal, sign octet when needed). */
export function derUnsignedInteger(magnitude: Buffer): Buffer {
  let start = 0;
  while (start < magnitude.length - 1 && magnitude[start] === 0) start += 1;
  const trimmed = magnitude.length === 0 ? Buffer.from([0]) : magnitude.subarray(start);
  return derTlv(0x02, (trimmed[0] & 0x80) !== 0 ? Buffer.from([0]) : Buffer.alloc(0), trimmed);
}

/** A small non-negative `INTEGER`. */
export function derSmallInteger(value: number): Buffer {
  if (!Number.isSafeInteger(value) || value < 0) throw new RangeError(`not a non-negative integer: ${value}`);
  const octets: number[] = [];
  for (let rest = value; rest > 0; rest = Math.floor(rest / 256)) octets.unshift(rest % 256);
  return derUnsignedInteger(Buffer.from(octets));
}

/**
 * Encodings of the object identifiers written so far: the same few dozen OIDs are in every receipt and
 * time-stamp, and encoding one (BigInt arcs) costs several microseconds. Bounded, as a caller may write
 * an OID it was given.
 */
const encodedObjectIdentifiers = new LruCache<Buffer>(256);

/** `OBJECT IDENTIFIER` from its dotted form. */
export function derObjectIdentifier(oid: string): Buffer {
  let encoded = encodedObjectIdentifiers.get(oid);
  if (encoded === undefined) {
    encoded = encodeObjectIdentifier(oid);
    encodedObjectIdentifiers.set(oid, encoded);
  }
  // A copy: the cached encoding must not change with what a caller does to its result.
  return Buffer.from(encoded);
}

function encodeObjectIdentifier(oid: string): Buffer {
  if (!/^[0-2](\.(0|[1-9]\d*))+$/.test(oid)) throw new RangeError(`not an object identifier: ${oid}`);
  const arcs = oid.split('.').map(BigInt);
  if (arcs[0] < 2n && arcs[1] >= 40n) throw new RangeError(`not an object identifier: ${oid}`);
  const octets: number[] = [];
  for (const arc of [arcs[0] * 40n + arcs[1], ...arcs.slice(2)]) {
    const base128: number[] = [Number(arc & 0x7fn)];
    for (let rest = arc >> 7n; rest > 0n; rest >>= 7n) base128.unshift(Number(rest & 0x7fn) | 0x80);
    octets.push(...base128);
  }
  return derTlv(0x06, Buffer.from(octets));
}

/** `OCTET STRING`. */
export function derOctetString(value: Buffer): Buffer {
  return derTlv(0x04, value);
}

/** `NULL`. */
export function derNull(): Buffer {
  return Buffer.from([0x05, 0x00]);
}

/** `BOOLEAN` (DER: TRUE is 0xFF). */
export function derBoolean(value: boolean): Buffer {
  return Buffer.from([0x01, 0x01, value ? 0xff : 0x00]);
}

/** `UTF8String`. */
export function derUtf8String(value: string): Buffer {
  return derTlv(0x0c, Buffer.from(value, 'utf8'));
}

/**
 * `GeneralizedTime` in UTC with the milliseconds of `time` as a fraction: DER drops trailing zeros of the
 * fraction and the fraction itself when it is zero (X.690 section 11.7).
 */
export function derGeneralizedTime(time: Date): Buffer {
  const iso = time.toISOString(); // YYYY-MM-DDTHH:MM:SS.sssZ
  if (!/^\d{4}-/.test(iso)) throw new RangeError(`year out of GeneralizedTime range: ${iso}`);
  const whole = iso.slice(0, 19).replace(/[-:T]/g, '');
  const fraction = iso.slice(20, 23).replace(/0+$/, '');
  return derTlv(0x18, Buffer.from(`${whole}${fraction ? `.${fraction}` : ''}Z`, 'latin1'));
}

/**
 * `UTCTime` `YYMMDDHHMMSSZ` (X.690 section 11.8: seconds always present, no fraction: the milliseconds
 * of `time` are dropped).
 * @throws RangeError outside 1950..2049, the years a two-digit year stands for (RFC 5280 section 4.1.2.5.1)
 */
export function derUtcTime(time: Date): Buffer {
  const year = time.getUTCFullYear();
  if (!(year >= 1950 && year < 2050)) throw new RangeError(`year out of UTCTime range: ${year}`);
  const whole = time.toISOString().slice(2, 19).replace(/[-:T]/g, ''); // YYMMDDHHMMSS
  return derTlv(0x17, Buffer.from(`${whole}Z`, 'latin1'));
}

/**
 * The `Time` of X.509 and CMS (RFC 5280 section 4.1.2.5, RFC 5652 section 11.3) to the whole second
 * (milliseconds dropped): UTCTime for the years 1950..2049, GeneralizedTime otherwise.
 */
export function derTime(time: Date): Buffer {
  const whole = new Date(Math.floor(time.getTime() / 1000) * 1000);
  const year = whole.getUTCFullYear();
  return year >= 1950 && year < 2050 ? derUtcTime(whole) : derGeneralizedTime(whole);
}

/** A named-bit-list `BIT STRING` with the given bits set, trailing zero bits removed (X.690 11.2.2). */
export function derNamedBits(bits: readonly number[]): Buffer {
  if (bits.length === 0) return Buffer.from([0x03, 0x01, 0x00]);
  const highest = Math.max(...bits);
  const octets = Buffer.alloc(Math.floor(highest / 8) + 1);
  for (const bit of bits) octets[Math.floor(bit / 8)] |= 0x80 >> (bit % 8);
  return derTlv(0x03, Buffer.from([7 - (highest % 8)]), octets);
}
