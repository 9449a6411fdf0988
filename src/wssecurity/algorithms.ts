/*
 * The algorithms this service computes with. Any other URI is recorded as a fact and never evaluated.
 */

/** Exclusive canonicalization without comments: the only canonicalization and transform supported. */
export const EXC_C14N_ALGORITHM = 'http://www.w3.org/2001/10/xml-exc-c14n#';

/** A supported digest algorithm. */
export type DigestAlgorithmName = 'sha1' | 'sha256' | 'sha512';

/** A supported signature algorithm: RSASSA-PKCS1-v1_5, or ECDSA (for EC keys only). */
export type SignatureAlgorithmName =
  'rsa-sha1' | 'rsa-sha256' | 'rsa-sha512' | 'ecdsa-sha256' | 'ecdsa-sha512';

/** The key type each signature algorithm needs: the SignatureMethod and the key must agree. */
export const SIGNATURE_KEY_TYPE: Readonly<Record<SignatureAlgorithmName, 'rsa' | 'ec'>> = {
  'rsa-sha1': 'rsa',
  'rsa-sha256': 'rsa',
  'rsa-sha512': 'rsa',
  'ecdsa-sha256': 'ec',
  'ecdsa-sha512': 'ec',
};

/** The EC curves a signing key may use (Node's names of P-256, P-384 and P-521). */
export const ACCEPTED_EC_CURVES: readonly string[] = ['prime256v1', 'secp384r1', 'secp521r1'];

/** Digest algorithm URIs (XML Signature and XML Encryption) by name. */
export const DIGEST_ALGORITHM_URIS: Readonly<Record<DigestAlgorithmName, string>> = {
  sha1: 'http://www.w3.org/2000/09/xmldsig#sha1',
  sha256: 'http://www.w3.org/2001/04/xmlenc#sha256',
  sha512: 'http://www.w3.org/2001/04/xmlenc#sha512',
};

/** Signature method URIs by name. */
export const SIGNATURE_ALGORITHM_URIS: Readonly<Record<SignatureAlgorithmName, string>> = {
  'rsa-sha1': 'http://www.w3.org/2000/09/xmldsig#rsa-sha1',
  'rsa-sha256': 'http://www.w3.org/2001/04/xmldsig-more#rsa-sha256',
  'rsa-sha512': 'http://www.w3.org/2001/04/xmldsig-more#rsa-sha512',
  'ecdsa-sha256': 'http://www.w3.org/2001/04/xmldsig-more#ecdsa-sha256',
  'ecdsa-sha512': 'http://www.w3.org/2001/04/xmldsig-more#ecdsa-sha512',
};

/** Node's hash name for each supported algorithm. */
export const NODE_HASH: Readonly<Record<DigestAlgorithmName | SignatureAlgorithmName, string>> = {
  sha1: 'sha1',
  sha256: 'sha256',
  sha512: 'sha512',
  'rsa-sha1': 'sha1',
  'rsa-sha256': 'sha256',
  'rsa-sha512': 'sha512',
  'ecdsa-sha256': 'sha256',
  'ecdsa-sha512': 'sha512',
};

function nameOf<Name extends string>(table: Readonly<Record<Name, string>>, uri: string | undefined) {
  if (uri === undefined) return undefined;
  return (Object.keys(table) as Name[]).find((name) => table[name] === uri);
}

/** The supported digest algorithm a URI names, or undefined. */
export function digestAlgorithmNamed(uri: string | undefined): DigestAlgorithmName | undefined {
  return nameOf(DIGEST_ALGORITHM_URIS, uri);
}

/** The supported signature algorithm a URI names, or undefined. */
export function signatureAlgorithmNamed(uri: string | undefined): SignatureAlgorithmName | undefined {
  return nameOf(SIGNATURE_ALGORITHM_URIS, uri);
}
