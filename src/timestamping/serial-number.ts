import { pooledRandomBytes } from '../random/random-bytes-pool';

/** Octets of a time-stamp serial number: RFC 3161 lets clients expect up to 160 bits. */
export const SERIAL_NUMBER_OCTETS = 20;

/**
 * A fresh TSTInfo serial number: 20 octets from the CSPRNG, the high bit cleared (a positive INTEGER)
 * and the next one set (no leading zero octet, so always 20 octets in DER). With 158 random bits, two
 * serials collide with negligible probability across restarts and across nodes sharing the key, without
 * a counter to store or coordinate.
 * @returns the unsigned big-endian magnitude
 */
export function newSerialNumber(): Buffer {
  const serial = pooledRandomBytes(SERIAL_NUMBER_OCTETS);
  serial[0] = (serial[0] & 0x7f) | 0x40;
  return serial;
}
