import {
  derNull,
  derObjectIdentifier,
  derOctetString,
  derSequence,
  derSmallInteger,
  derTlv,
} from '../../src/pki/der-writer';

/*
 * Short names over the service's DER writer for tests that build CMS structures byte by byte (a
 * time-stamp token signed by an arbitrary certificate, a SignerInfo whose attributes are deliberately
 * not sorted: `set` keeps the order it is given).
 */

/** An element of the given identifier octet around the concatenated contents. */
export const tlv = derTlv;
export const sequence = derSequence;
export const set = (...contents: Buffer[]): Buffer => derTlv(0x31, ...contents);
export const octetString = derOctetString;
export const nullValue = derNull;
export const integer = derSmallInteger;
/** `[n]` constructed, context-specific (EXPLICIT wrappers and IMPLICIT SET OF). */
export const context = (n: number, ...contents: Buffer[]): Buffer => derTlv(0xa0 + n, ...contents);
/** An OBJECT IDENTIFIER from its dotted form. */
export const oid = derObjectIdentifier;

/** `Attribute ::= SEQUENCE { attrType OID, attrValues SET OF }`. */
export function attribute(type: string, ...values: Buffer[]): Buffer {
  return sequence(oid(type), set(...values));
}
