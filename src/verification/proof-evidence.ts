import { attributeInstances, parseSignedData, ProofFormatError, VERIFICATION_OIDS } from './cms-signed-data';
import type { ParsedSignedData, ParsedSignerInfo } from './cms-signed-data';
import { findSignerCertificate, type CertificateFacts } from './certificate-facts';
import { parseTimeStampToken, type TimeStampToken } from './time-stamp-token';

/*
 * Everything the checks look at, read once from a proof: the signature, its signer certificate, the
 * signature-time-stamp token and its TSA certificate. Reading never throws: what cannot be read is kept
 * as a problem, and each check that needs it fails with that problem as its reason.
 */

/** The SignedFile metadata that comes with a proof in a response (`Digest`). */
export interface SignedFileDigest {
  /** `SHA-256`, `SHA-512`... as in the contract's DigestMethod. */
  digestMethod: string;
  /** Base64, as in the contract's DigestValue. */
  digestValue: string;
}

/** One proof to verify: a detached CMS signature and the bytes it signs. */
export interface ProofInput {
  /** What the report calls it. */
  label: string;
  /** DER of the CMS ContentInfo. */
  signature: Buffer;
  content: Buffer;
  signedFile?: SignedFileDigest;
}

/** What was read, or why it could not be. */
export type Readout<T> = { ok: true; value: T } | { ok: false; problem: string };

/** The signature's SignedData and its one SignerInfo. */
export interface SignatureReadout {
  signedData: ParsedSignedData;
  signerInfo: ParsedSignerInfo;
}

/** Everything read from one proof. */
export interface ProofEvidence {
  input: ProofInput;
  signature: Readout<SignatureReadout>;
  signerCertificate: Readout<CertificateFacts>;
  /** The first signature-time-stamp token; `absent` when the signature has none. */
  timeStamp: Readout<TimeStampToken> | { ok: false; absent: true; problem: string };
  /** How many signature-time-stamp tokens the signature carries. */
  timeStampCount: number;
  tsaCertificate: Readout<CertificateFacts>;
  /** Untrusted certificates that may complete a path: the signature's and the token's. */
  intermediates: Buffer[];
}

function problemOf(error: unknown): string {
  return error instanceof ProofFormatError ? error.message : 'unreadable';
}

function readSignature(der: Buffer): Readout<SignatureReadout> {
  try {
    const signedData = parseSignedData(der);
    if (signedData.signerInfos.length !== 1) {
      return {
        ok: false,
        problem: `the signature has ${signedData.signerInfos.length} SignerInfos (one expected)`,
      };
    }
    return { ok: true, value: { signedData, signerInfo: signedData.signerInfos[0] } };
  } catch (error) {
    return { ok: false, problem: `the signature is unreadable: ${problemOf(error)}` };
  }
}

/** The certificate a SignerInfo names, looked up among candidates. */
function signerOf(
  signerInfo: ParsedSignerInfo,
  candidates: readonly Buffer[],
  whose: string,
): Readout<CertificateFacts> {
  const found = findSignerCertificate(signerInfo.sid, candidates);
  return 'certificate' in found
    ? { ok: true, value: found.certificate }
    : { ok: false, problem: `${whose}: ${found.problem}` };
}

/**
 * Reads a proof.
 * @param trustAnchors also searched for a signer or TSA certificate that a signature does not carry
 */
export function readProofEvidence(input: ProofInput, trustAnchors: readonly Buffer[]): ProofEvidence {
  const signature = readSignature(input.signature);
  if (!signature.ok) {
    const missing = { ok: false as const, problem: signature.problem };
    return {
      input,
      signature,
      signerCertificate: missing,
      timeStamp: missing,
      timeStampCount: 0,
      tsaCertificate: missing,
      intermediates: [],
    };
  }
  const { signedData, signerInfo } = signature.value;
  const signerCertificate = signerOf(
    signerInfo,
    [...signedData.certificates, ...trustAnchors],
    'signer certificate',
  );

  const tokens = attributeInstances(
    signerInfo.unsignedAttributes,
    VERIFICATION_OIDS.signatureTimeStampToken,
  ).flat();
  let timeStamp: ProofEvidence['timeStamp'];
  let tsaCertificate: Readout<CertificateFacts>;
  const intermediates = [...signedData.certificates];
  if (tokens.length === 0) {
    timeStamp = { ok: false, absent: true, problem: 'the signature has no signature-time-stamp' };
    tsaCertificate = { ok: false, problem: timeStamp.problem };
  } else {
    try {
      timeStamp = { ok: true, value: parseTimeStampToken(tokens[0].der) };
    } catch (error) {
      timeStamp = { ok: false, problem: `the time-stamp token is unreadable: ${problemOf(error)}` };
    }
    if (timeStamp.ok) {
      const token = timeStamp.value;
      intermediates.push(...token.signedData.certificates);
      tsaCertificate = signerOf(
        token.signerInfo,
        [...token.signedData.certificates, ...signedData.certificates, ...trustAnchors],
        'TSA certificate',
      );
    } else {
      tsaCertificate = { ok: false, problem: timeStamp.problem };
    }
  }
  return {
    input,
    signature,
    signerCertificate,
    timeStamp,
    timeStampCount: tokens.length,
    tsaCertificate,
    intermediates,
  };
}
