/*
 * A few DER encoders for tests that build CMS structures byte by byte (a time-stamp token signed by an
 * arbitrary certificate, a SignerInfo whose attributes are deliberately not sorted).
 */

function length(size: number): Buffer {
  if (size < 0x80) return Buffer.from([size]);
  const octets: number[] = [];
  for (let rest = size; rest > 0; rest = Math.floor(rest / 256)) octets.unshift(rest % 256);
  return Buffer.from([0x80 | octets.length, ...octets]);
}

/** An element of the given identifier octet around the concatenated contents. */
export function tlv(tag: number, ...contents: Buffer[]): Buffer {
  const body = Buffer.concat(contents);
  return Buffer.concat([Buffer.from([tag]), length(body.length), body]);
}

export const sequence = (...contents: Buffer[]): Buffer => tlv(0x30, ...contents);
export const set = (...contents: Buffer[]): Buffer => tlv(0x31, ...contents);
export const octetString = (value: Buffer): Buffer => tlv(0x04, value);
export const nullValue = (): Buffer => Buffer.from([0x05, 0x00]);
export const integer = (value: number): Buffer => tlv(0x02, Buffer.from([value]));
/** `[n]` constructed, context-specific (EXPLICIT wrappers and IMPLICIT SET OF). */
export const context = (n: number, ...contents: Buffer[]): Buffer => tlv(0xa0 + n, ...contents);

/** An OBJECT IDENTIFIER from its dotted form. */
export function oid(dotted: string): Buffer {
  const [first, second, ...rest] = dotted.split('.').map(Number);
  const octets = [40 * first + second];
  for (const arc of rest) {
    const base128: number[] = [];
    for (let value = arc; ; value = Math.floor(value / 128)) {
      base128.unshift((value % 128) | (base128.length > 0 ? 0x80 : 0));
      if (value < 128) break;
    }
    octets.push(...base128);
  }
  return tlv(0x06, Buffer.from(octets));
}

/** `Attribute ::= SEQUENCE { attrType OID, attrValues SET OF }`. */
export function attribute(type: string, ...values: Buffer[]): Buffer {
  return sequence(oid(type), set(...values));
}
