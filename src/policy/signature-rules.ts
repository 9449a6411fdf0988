import type { SecuritySettings } from '../config/config';
import { NotAuthenticatedError } from '../errors/faults';
import type { ParsedEnvelope } from '../soap/parse-envelope';
import {
  DIGEST_ALGORITHM_URIS,
  SIGNATURE_ALGORITHM_URIS,
  SIGNATURE_KEY_TYPE,
} from '../wssecurity/algorithms';
import { BASE64_BINARY_ENCODING, X509V3_VALUE_TYPE } from '../wssecurity/namespaces';
import type {
  SecurityHeaderFacts,
  SignatureFacts,
  SignatureKeyFacts,
  TimestampFacts,
} from '../wssecurity/security-facts';

/** The smallest RSA modulus accepted for a signing key. */
export const MIN_RSA_MODULUS_BITS = 2048;

/** The signature the policy accepted, and the certificate that made it. */
export interface AcceptedSignature {
  facts: SignatureFacts;
  /**
   * DER of the certificate whose key verified the signature: the referenced BinarySecurityToken's, or
   * the known certificate an issuer-serial, subject key identifier or thumbprint reference named.
   */
  certificateDer: Buffer;
  signatureValue: Buffer;
}

function refuse(reason: string): never {
  throw new NotAuthenticatedError(reason);
}

function checkAlgorithms(signature: SignatureFacts, settings: SecuritySettings): void {
  const c14n = signature.canonicalizationMethod;
  if (c14n?.supported !== 'exc-c14n') refuse(`canonicalization method ${c14n?.uri ?? '(none)'} is refused`);
  if (c14n.problem !== undefined) refuse(c14n.problem);
  const method = signature.signatureMethod.supported;
  if (method === undefined)
    refuse(`signature method ${signature.signatureMethod.uri ?? '(none)'} is refused`);
  if (method === 'rsa-sha1' && !settings.allowSha1) {
    refuse(`signature method ${SIGNATURE_ALGORITHM_URIS['rsa-sha1']} is refused (SHA-1 is not allowed)`);
  }
  for (const reference of signature.references) {
    const digest = reference.digestMethod.supported;
    if (digest === undefined) refuse(`digest method ${reference.digestMethod.uri ?? '(none)'} is refused`);
    if (digest === 'sha1' && !settings.allowSha1) {
      refuse(`digest method ${DIGEST_ALGORITHM_URIS.sha1} is refused (SHA-1 is not allowed)`);
    }
    for (const transform of reference.transforms) {
      if (transform.supported !== 'exc-c14n') refuse(`transform ${transform.uri ?? '(none)'} is refused`);
    }
  }
}

/** The certificate of a direct reference to an X509v3 BinarySecurityToken of the header. */
function tokenCertificate(key: Extract<SignatureKeyFacts, { kind: 'token-reference' }>): Buffer {
  if (key.valueType !== undefined && key.valueType !== X509V3_VALUE_TYPE) {
    refuse(`the token Reference has ValueType ${key.valueType}, not X509v3`);
  }
  const token = key.token;
  if (token.valueType !== X509V3_VALUE_TYPE)
    refuse(`the BinarySecurityToken ValueType ${token.valueType ?? '(none)'} is not X509v3`);
  if (token.encodingType !== BASE64_BINARY_ENCODING) {
    refuse(`the BinarySecurityToken EncodingType ${token.encodingType ?? '(none)'} is not Base64Binary`);
  }
  if (token.certificateDer === undefined)
    refuse(`the BinarySecurityToken is unusable: ${token.contentProblem ?? 'no content'}`);
  return token.certificateDer;
}

/**
 * The certificate whose key signed: a resolved key (a BinarySecurityToken of the header referenced
 * directly, or a known certificate named by issuer-serial, subject key identifier or thumbprint), no
 * BinarySecurityToken in the header besides the one referenced, and a key that fits the signature
 * method (RSA of at least 2048 bits for RSA methods, EC for ECDSA).
 */
function checkKey(signature: SignatureFacts, header: SecurityHeaderFacts): Buffer {
  const key = signature.key;
  if (key.kind === 'unresolved') refuse(`the signature key is not resolved (${key.form}: ${key.reason})`);
  const unreferenced = header.binarySecurityTokens.filter(
    (token) => key.kind !== 'token-reference' || token !== key.token,
  );
  if (unreferenced.length > 0) {
    refuse(
      `${unreferenced.length} BinarySecurityToken(s) of the Security header not referenced by the signature`,
    );
  }
  const certificateDer = key.kind === 'token-reference' ? tokenCertificate(key) : key.certificateDer;
  if (key.problem !== undefined) refuse(key.problem);
  const method = signature.signatureMethod.supported;
  const publicKey = key.publicKey;
  if (method === undefined || publicKey === undefined) refuse('no signature method or no readable key');
  const keyType = SIGNATURE_KEY_TYPE[method];
  if (publicKey.type !== keyType) {
    refuse(
      `signature method ${SIGNATURE_ALGORITHM_URIS[method]} needs an ${keyType.toUpperCase()} key, the key is ${publicKey.type ?? 'unknown'}`,
    );
  }
  if (keyType === 'rsa') {
    const bits = publicKey.modulusBits;
    if (bits === undefined || bits < MIN_RSA_MODULUS_BITS) {
      refuse(`the RSA key has ${bits ?? 'an unknown number of'} bits, fewer than ${MIN_RSA_MODULUS_BITS}`);
    }
  }
  return certificateDer;
}

function checkReferences(
  envelope: ParsedEnvelope,
  signature: SignatureFacts,
  timestamp: TimestampFacts,
): void {
  // Each reference's own problem first: the others' digests only say they were not evaluated because of it.
  for (const reference of signature.references) {
    if (reference.problems.length > 0)
      refuse(`reference ${reference.uri ?? '(no URI)'}: ${reference.problems[0]}`);
    if (reference.element === undefined) refuse(`reference ${reference.uri ?? '(no URI)'} is not resolved`);
  }
  for (const reference of signature.references) {
    if (reference.digest.outcome !== 'valid') {
      refuse(`reference ${reference.uri ?? '(no URI)'}: ${reference.digest.reason}`);
    }
    // Canonicalization drops comments, so a comment spliced into signed text changes what a reader of
    // the first text node sees without changing the digest.
    if (reference.commentsInElement > 0) {
      refuse(`reference ${reference.uri ?? '(no URI)'}: the signed element contains comments`);
    }
  }
  // Node identity: the signed element must be the very Body (and Timestamp) that will be used.
  if (!signature.references.some((reference) => reference.element === envelope.body)) {
    refuse('the SOAP Body of the envelope is not signed');
  }
  if (!signature.references.some((reference) => reference.element === timestamp.element)) {
    refuse('the Timestamp of the Security header is not signed');
  }
}

/**
 * The signature rules of the v1 policy: exactly one `ds:Signature` in the Security header, well formed;
 * exc-c14n; RSA-SHA256 or RSA-SHA512 (RSA-SHA1 only with `allowSha1`); digests SHA-256 or SHA-512
 * (SHA-1 only with `allowSha1`); each reference resolved to exactly one element, transformed by exc-c14n
 * only, its digest valid and its content free of comments; the key either a direct reference to an
 * X509v3 BinarySecurityToken of the header, or an issuer-serial, subject key identifier or thumbprint
 * reference resolved to one known certificate (RM_SENDER_CERTS_DIR), and no other BinarySecurityToken
 * in the header; an RSA key of at least 2048 bits for RSA-SHA*, an EC key (P-256, P-384, P-521) for
 * ECDSA-SHA256/512 and nothing else; the SignatureValue valid with that key; the references covering
 * the envelope's own Body and the header's Timestamp, by node identity. The token may be signed too,
 * and so may other elements.
 * @throws NotAuthenticatedError (SOA-01001) with the precise reason
 */
export function checkSignature(
  envelope: ParsedEnvelope,
  header: SecurityHeaderFacts,
  timestamp: TimestampFacts,
  settings: SecuritySettings,
): AcceptedSignature {
  if (header.signatures.length !== 1) {
    refuse(`the Security header holds ${header.signatures.length} signatures, exactly one is required`);
  }
  const signature = header.signatures[0];
  if (signature.structureProblems.length > 0)
    refuse(`malformed signature: ${signature.structureProblems[0]}`);
  checkAlgorithms(signature, settings);
  const certificateDer = checkKey(signature, header);
  if (signature.signatureValue.outcome !== 'valid') refuse(`signature: ${signature.signatureValue.reason}`);
  if (signature.signatureValueBytes === undefined) refuse('signature: no SignatureValue');
  checkReferences(envelope, signature, timestamp);
  if (envelope.payload.parentNode !== envelope.body) refuse('the payload is not a child of the signed Body');
  return { facts: signature, certificateDer, signatureValue: signature.signatureValueBytes };
}
