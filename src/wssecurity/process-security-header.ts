import type { Element } from '@xmldom/xmldom';
import { KnownCertificates } from '../pki/known-certificates';
import type { ParsedEnvelope } from '../soap/parse-envelope';
import { attributeValue, childElements, countComments, forEachElement, isElementNamed } from './dom';
import { evaluateSignature, type EvaluationCounters } from './evaluate-signature';
import { idResolutionProblem, indexIds } from './id-index';
import { DS_NS, SOAP11_NS, WSSE_NS, WSU_NS } from './namespaces';
import { readBinarySecurityToken } from './read-binary-security-token';
import { readSignature, type SignatureReading } from './read-signature';
import { readTimestamp } from './read-timestamp';
import { resolveSignatureKey, type ResolvedKey } from './resolve-signature-key';
import type {
  CertificateTrust,
  IdMatch,
  ReferenceFacts,
  SecurityFacts,
  SecurityHeaderFacts,
  SignatureKeyFacts,
} from './security-facts';

/** Bounds on the work one envelope may cause; beyond them, facts are recorded and nothing is computed. */
export interface ProcessingOptions {
  /** References per signature (default 30). */
  maxReferences?: number;
  /** Transforms per reference (default 5). */
  maxTransformsPerReference?: number;
  /** Signatures in all Security headers together (default 1, what the v1 policy accepts). */
  maxSignatures?: number;
  /**
   * The certificates that issuer-serial, subject key identifier and thumbprint references resolve
   * against (RM_SENDER_CERTS_DIR); default none, so that only a BinarySecurityToken names a key.
   */
  knownCertificates?: KnownCertificates;
  /**
   * Asked once a SignatureValue verifies and before any reference is digested, so that an untrusted
   * signer costs no digesting; its verdict is a fact the policy reads. Without it, trust is left to the
   * policy, after the digests.
   */
  certificateTrust?: CertificateTrust;
}

/** The limits used when {@link ProcessingOptions} leaves them out. */
export const DEFAULT_PROCESSING_LIMITS: Readonly<
  Required<Omit<ProcessingOptions, 'knownCertificates' | 'certificateTrust'>>
> = {
  maxReferences: 30,
  maxTransformsPerReference: 5,
  maxSignatures: 1,
};

/** DER of the certificate whose key a resolved signature key is, when there is one. */
function signingCertificate(key: SignatureKeyFacts): Buffer | undefined {
  if (key.kind === 'token-reference') return key.token.certificateDer;
  if (key.kind === 'known-certificate') return key.certificateDer;
  return undefined;
}

/** Resolves each reference's fragment to the one element carrying it, and counts what it hides. */
function resolveReferences(
  references: readonly ReferenceFacts[],
  idMatches: (id: string) => IdMatch[],
): void {
  const targets = new Set<Element>();
  for (const reference of references) {
    if (reference.fragment === undefined) continue;
    reference.matches = idMatches(reference.fragment);
    const problem = idResolutionProblem(reference.fragment, reference.matches);
    if (problem !== undefined) {
      reference.problems.push(problem);
      continue;
    }
    const element = reference.matches[0].element;
    reference.element = element;
    reference.commentsInElement = countComments(element);
    // Digesting the same element twice proves nothing and doubles the work an attacker can cause.
    if (targets.has(element)) reference.problems.push(`${reference.uri} is referenced twice`);
    targets.add(element);
  }
}

/** Every `wsse:Security` element of the envelope that is not a child of the SOAP Header. */
function securityElementsElsewhere(envelope: ParsedEnvelope): Element[] {
  const found: Element[] = [];
  forEachElement(envelope.envelope, (element) => {
    if (isElementNamed(element, WSSE_NS, 'Security') && element.parentNode !== envelope.header)
      found.push(element);
  });
  return found;
}

/**
 * The WS-Security processing step ("process", before the policy step "enforces"): reads every
 * `wsse:Security` header of the envelope and reports what it holds as {@link SecurityFacts}: tokens,
 * Timestamps, signatures with their references resolved by Id over the whole envelope (exactly one
 * element must carry an Id) and their key resolved to a BinarySecurityToken of the same header or to
 * one of the known certificates (`resolveSignatureKey`), and
 * the outcome of each cryptographic check. It decides nothing: accepting or refusing the request is
 * the policy's job, by node identity on the same DOM.
 *
 * Cheap structural checks come first; the SignatureValue is verified only when the structure, the
 * algorithms and the key are acceptable, and digests are computed only when it verifies.
 */
export async function processSecurityHeader(
  envelope: ParsedEnvelope,
  options: ProcessingOptions = {},
): Promise<SecurityFacts> {
  const limits = { ...DEFAULT_PROCESSING_LIMITS, ...options };
  const facts: SecurityFacts = {
    securityHeaders: [],
    securityElementsElsewhere: securityElementsElsewhere(envelope),
    digestedBytes: 0,
    signatureVerifications: 0,
  };

  const readings = new Map<SecurityHeaderFacts, SignatureReading[]>();
  const securityElements = envelope.header
    ? childElements(envelope.header).filter((child) => isElementNamed(child, WSSE_NS, 'Security'))
    : [];
  for (const element of securityElements) {
    const header: SecurityHeaderFacts = {
      element,
      actor: attributeValue(element, SOAP11_NS, 'actor'),
      mustUnderstand: attributeValue(element, SOAP11_NS, 'mustUnderstand'),
      binarySecurityTokens: [],
      timestamps: [],
      signatures: [],
      otherChildren: [],
    };
    const signatures: SignatureReading[] = [];
    for (const child of childElements(element)) {
      if (isElementNamed(child, WSSE_NS, 'BinarySecurityToken')) {
        header.binarySecurityTokens.push(readBinarySecurityToken(child));
      } else if (isElementNamed(child, WSU_NS, 'Timestamp')) {
        header.timestamps.push(readTimestamp(child));
      } else if (isElementNamed(child, DS_NS, 'Signature')) {
        const reading = readSignature(child, limits);
        signatures.push(reading);
        header.signatures.push(reading.facts);
      } else {
        header.otherChildren.push(child);
      }
    }
    facts.securityHeaders.push(header);
    readings.set(header, signatures);
  }

  const signatureCount = facts.securityHeaders.reduce((count, header) => count + header.signatures.length, 0);
  const refusal =
    signatureCount > limits.maxSignatures
      ? `${signatureCount} signatures, more than the limit of ${limits.maxSignatures}`
      : undefined;

  let ids: Map<string, IdMatch[]> | undefined;
  const idMatches = (id: string): IdMatch[] => {
    ids ??= indexIds(envelope.envelope);
    return ids.get(id) ?? [];
  };
  const counters: EvaluationCounters = { digestedBytes: 0, signatureVerifications: 0 };
  for (const [header, signatures] of readings) {
    for (const reading of signatures) {
      resolveReferences(reading.facts.references, idMatches);
      const key: ResolvedKey = resolveSignatureKey(
        reading.keyInfo,
        header.binarySecurityTokens,
        idMatches,
        options.knownCertificates ?? KnownCertificates.none,
      );
      reading.facts.key = key.facts;
      const certificateDer = signingCertificate(key.facts);
      const trust =
        options.certificateTrust && certificateDer
          ? () => (options.certificateTrust as CertificateTrust).validate(certificateDer)
          : undefined;
      await evaluateSignature(reading.facts, key.publicKey, counters, refusal, trust);
    }
  }
  facts.digestedBytes = counters.digestedBytes;
  facts.signatureVerifications = counters.signatureVerifications;
  return facts;
}
