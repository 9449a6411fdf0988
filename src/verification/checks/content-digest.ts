import { DER_TAG } from '../../pki/der';
import { singleAttributeValue, VERIFICATION_OIDS } from '../cms-signed-data';
import type { ProofEvidence, SignedFileDigest } from '../proof-evidence';
import { digest, digestAlgorithm, digestAlgorithmByName } from '../signature-algorithms';
import { fail, pass, type CheckResult } from '../verification-report';

const ID = 'content-digest';
const BASE64 = /^[A-Za-z0-9+/]+={0,2}$/;

function short(hash: Buffer): string {
  return hash.toString('hex');
}

/** The SignedFile's DigestValue against the content, or the problem. */
function signedFileProblem(signedFile: SignedFileDigest, content: Buffer): { problem?: string; ok?: string } {
  if (signedFile.digestMethod === '') return { problem: 'the SignedFile has no Digest' };
  const algorithm = digestAlgorithmByName(signedFile.digestMethod);
  if (algorithm === undefined) {
    return {
      problem: `SignedFile DigestMethod ${signedFile.digestMethod} is not accepted (SHA-256, SHA-384, SHA-512)`,
    };
  }
  const text = signedFile.digestValue.replace(/\s+/g, '');
  const claimed = BASE64.test(text) ? Buffer.from(text, 'base64') : Buffer.alloc(0);
  const actual = digest(algorithm, content);
  if (!claimed.equals(actual)) {
    return {
      problem: `SignedFile DigestValue (${algorithm.name} ${text}) does not match the content (${algorithm.name} ${actual.toString('base64')})`,
    };
  }
  return { ok: `SignedFile DigestValue (${algorithm.name})` };
}

/**
 * Content digest: the SignedFile's DigestValue (when the proof came in a SignedFile) and the CMS
 * message-digest signed attribute, each against the content.
 */
export function checkContentDigest(evidence: ProofEvidence): CheckResult {
  const { content, signedFile } = evidence.input;
  const problems: string[] = [];
  const matched: string[] = [];
  if (signedFile !== undefined) {
    const outcome = signedFileProblem(signedFile, content);
    if (outcome.problem) problems.push(outcome.problem);
    if (outcome.ok) matched.push(outcome.ok);
  }
  if (!evidence.signature.ok) {
    problems.push(`CMS message-digest not checked: ${evidence.signature.problem}`);
  } else {
    const { signerInfo } = evidence.signature.value;
    const algorithm = digestAlgorithm(signerInfo.digestAlgorithm);
    const attribute = singleAttributeValue(
      signerInfo.signedAttributes,
      VERIFICATION_OIDS.messageDigest,
      'message-digest',
    );
    if ('problem' in algorithm) problems.push(`CMS digestAlgorithm: ${algorithm.problem}`);
    else if ('problem' in attribute) problems.push(`CMS ${attribute.problem}`);
    else if (attribute.value.tag !== DER_TAG.octetString)
      problems.push('CMS message-digest is not an OCTET STRING');
    else {
      const actual = digest(algorithm.algorithm, content);
      if (attribute.value.content.equals(actual))
        matched.push(`CMS message-digest (${algorithm.algorithm.name})`);
      else {
        problems.push(
          `CMS message-digest (${algorithm.algorithm.name} ${short(attribute.value.content)}) does not match the content (${short(actual)}): the content is not what was signed`,
        );
      }
    }
  }
  if (problems.length > 0) return fail(ID, problems.join('; '));
  const verb = matched.length > 1 ? 'match' : 'matches';
  return pass(ID, `${matched.join(' and ')} ${verb} the content (${content.length} bytes)`);
}
