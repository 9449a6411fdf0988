/*
 * A signature as a recipient may hold it: DER (`.p7s`), the base64 text of a SignedFile's Signature
 * element, or PEM (`-----BEGIN CMS-----`, `PKCS7`).
 */

const PEM_BLOCK = /-----BEGIN [A-Z0-9 ]+-----([\s\S]*?)-----END [A-Z0-9 ]+-----/;
const BASE64 = /^[A-Za-z0-9+/]+={0,2}$/;
const SEQUENCE_TAG = 0x30;

/**
 * The DER of a CMS signature held as DER, base64 or PEM.
 * @throws Error when the bytes are none of these
 */
export function decodeSignatureFile(bytes: Buffer): Buffer {
  if (bytes[0] === SEQUENCE_TAG) return bytes;
  const text = bytes.toString('latin1');
  const body = (PEM_BLOCK.exec(text)?.[1] ?? text).replace(/\s+/g, '');
  const der = BASE64.test(body) ? Buffer.from(body, 'base64') : undefined;
  if (der === undefined || der[0] !== SEQUENCE_TAG) {
    throw new Error('the signature is neither DER nor base64 (or PEM) of a CMS signature');
  }
  return der;
}
