import { constants, hash, timingSafeEqual, verify, type KeyObject } from 'node:crypto';
import { NODE_HASH, SIGNATURE_KEY_TYPE, SIGNATURE_ALGORITHM_URIS } from './algorithms';
import { canonicalizeExclusive } from './exclusive-c14n';
import type { Evaluation, ReferenceFacts, SignatureFacts, TrustVerdict } from './security-facts';

/** Work done while evaluating, summed over an envelope. */
export interface EvaluationCounters {
  digestedBytes: number;
  signatureVerifications: number;
}

/** Why nothing of a signature may be computed, or undefined when the cheap checks all pass. */
function signatureGate(facts: SignatureFacts, publicKey: KeyObject | undefined): string | undefined {
  if (facts.structureProblems.length > 0) return facts.structureProblems[0];
  const c14n = facts.canonicalizationMethod;
  if (c14n === undefined || c14n.supported === undefined) {
    return `canonicalization method ${c14n?.uri ?? '(none)'} is not supported`;
  }
  if (c14n.problem !== undefined) return c14n.problem;
  if (facts.signatureMethod.supported === undefined) {
    return `signature method ${facts.signatureMethod.uri ?? '(none)'} is not supported`;
  }
  if (facts.key.kind === 'unresolved') return `key not resolved: ${facts.key.reason}`;
  if (facts.key.problem !== undefined) return facts.key.problem;
  // Node verifies with whatever the key is: an RSA method with an EC key would verify as ECDSA.
  const keyType = SIGNATURE_KEY_TYPE[facts.signatureMethod.supported];
  if (facts.key.publicKey?.type !== keyType || publicKey?.asymmetricKeyType !== keyType) {
    return `signature method ${SIGNATURE_ALGORITHM_URIS[facts.signatureMethod.supported]} needs an ${keyType.toUpperCase()} key, the key is ${facts.key.publicKey?.type ?? 'unknown'}`;
  }
  if (publicKey === undefined || facts.signatureValueBytes === undefined)
    return 'no key or no signature value';
  return undefined;
}

function notEvaluated(reason: string): Evaluation {
  return { outcome: 'not-evaluated', reason };
}

function verifySignatureValue(
  facts: SignatureFacts,
  publicKey: KeyObject,
  counters: EvaluationCounters,
): Evaluation {
  const signedInfo = facts.signedInfo;
  const algorithm = facts.signatureMethod.supported;
  const signatureValue = facts.signatureValueBytes;
  const c14n = facts.canonicalizationMethod;
  if (!signedInfo || !algorithm || !signatureValue || !c14n) return notEvaluated('incomplete signature');
  let canonical: Buffer;
  try {
    canonical = Buffer.from(canonicalizeExclusive(signedInfo, c14n.inclusivePrefixes), 'utf8');
  } catch {
    return { outcome: 'invalid', reason: 'SignedInfo cannot be canonicalized' };
  }
  counters.signatureVerifications += 1;
  // XML Signature's ECDSA SignatureValue is r || s (IEEE P1363), not a DER SEQUENCE.
  const keyOptions =
    SIGNATURE_KEY_TYPE[algorithm] === 'ec'
      ? { key: publicKey, dsaEncoding: 'ieee-p1363' as const }
      : { key: publicKey, padding: constants.RSA_PKCS1_PADDING };
  let verified: boolean;
  try {
    verified = verify(NODE_HASH[algorithm], canonical, keyOptions, signatureValue);
  } catch {
    verified = false;
  }
  const keyName =
    facts.key.kind === 'known-certificate' ? "the referenced certificate's key" : "the token's key";
  return verified
    ? { outcome: 'valid' }
    : { outcome: 'invalid', reason: `SignatureValue does not verify with ${keyName}` };
}

function evaluateDigest(reference: ReferenceFacts, counters: EvaluationCounters): Evaluation {
  const { element, declaredDigest } = reference;
  const algorithm = reference.digestMethod.supported;
  const transform = reference.transforms[0];
  if (!element || !declaredDigest || !algorithm || !transform) return notEvaluated('incomplete reference');
  let canonical: string;
  try {
    canonical = canonicalizeExclusive(element, transform.inclusivePrefixes);
  } catch {
    return { outcome: 'invalid', reason: 'the referenced element cannot be canonicalized' };
  }
  // Digested as UTF-8 straight from the string: no Buffer of the canonical form is made.
  const digestedBytes = Buffer.byteLength(canonical, 'utf8');
  reference.digestedBytes = digestedBytes;
  counters.digestedBytes += digestedBytes;
  const digest = hash(NODE_HASH[algorithm], canonical, 'buffer');
  const equal = digest.length === declaredDigest.length && timingSafeEqual(digest, declaredDigest);
  return equal
    ? { outcome: 'valid' }
    : { outcome: 'invalid', reason: `digest mismatch for ${reference.uri}` };
}

/**
 * Evaluates a signature whose references and key are resolved, cheapest refusal first: nothing is
 * computed unless the structure, the algorithms and the key are acceptable; then the SignatureValue is
 * verified over the exc-c14n of SignedInfo with the token's key; then, when `trust` is given, the key's
 * certificate must be trusted; only then, and when every reference is acceptable, are the referenced
 * elements canonicalized and digested (an untrusted signer costs no digesting).
 * @param refusal a reason, decided by the caller, not to evaluate this signature at all
 * @param trust asks whether the key's certificate is trusted; its verdict is recorded in the facts
 */
export async function evaluateSignature(
  facts: SignatureFacts,
  publicKey: KeyObject | undefined,
  counters: EvaluationCounters,
  refusal?: string,
  trust?: () => Promise<TrustVerdict>,
): Promise<void> {
  const skipDigests = (reason: string) => {
    for (const reference of facts.references) reference.digest = notEvaluated(reason);
  };
  const gate = refusal ?? signatureGate(facts, publicKey);
  if (gate !== undefined || publicKey === undefined) {
    const reason = gate ?? 'no key';
    facts.signatureValue = notEvaluated(reason);
    return skipDigests(`signature not evaluated: ${reason}`);
  }
  facts.signatureValue = verifySignatureValue(facts, publicKey, counters);
  if (facts.signatureValue.outcome !== 'valid') return skipDigests('the SignatureValue does not verify');
  if (trust) {
    facts.trust = await trust();
    if (!facts.trust.valid)
      return skipDigests(`the signing certificate is not trusted: ${facts.trust.reason}`);
  }
  const unacceptable = facts.references.some((reference) => reference.problems.length > 0);
  for (const reference of facts.references) {
    if (reference.problems.length > 0) reference.digest = notEvaluated(reference.problems[0]);
    else if (unacceptable)
      reference.digest = notEvaluated('another reference of the signature cannot be evaluated');
    else reference.digest = evaluateDigest(reference, counters);
  }
}
