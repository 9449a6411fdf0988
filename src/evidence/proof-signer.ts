import { hash } from 'node:crypto';
import { SigningUnavailableError } from '../errors/faults';
import type { TimeStampAuthority } from '../timestamping/time-stamp-authority';
import { createCadesSignature, type CadesLevel } from './cades-signature';
import type { DocumentSigner } from './document-signer';

/** What every proof is signed with, besides its content and time. */
export interface ProofSigningSettings {
  /** Gives every proof its signature-time-stamp. */
  tsa: TimeStampAuthority;
  level: CadesLevel;
  /** B-LT: certificates that may complete the signer's and the TSA's chains up to their roots. */
  extraCertificates?: readonly Buffer[];
  /** B-LT: the CRLs (DER) the service holds at the time of signing. */
  heldCrls?: () => readonly Buffer[];
}

/**
 * Signs proofs (receipts, and every later proof) as detached CAdES signatures: the service's signer,
 * its TSA and its CAdES level in one place, so that every issuer of proofs signs the same way.
 */
export class ProofSigner {
  constructor(
    readonly signer: DocumentSigner,
    private readonly settings: ProofSigningSettings,
  ) {}

  /** The CAdES level proofs are signed at. */
  get level(): CadesLevel {
    return this.settings.level;
  }

  /**
   * The DER of a detached CAdES signature over exactly `content`.
   * @param signingTime its signing-time attribute
   * @throws TimeStampUnavailableError or Error (signer, B-LT chain) as {@link createCadesSignature}
   */
  sign(content: Buffer, signingTime: Date): Promise<Buffer> {
    const { tsa, level, extraCertificates, heldCrls } = this.settings;
    return createCadesSignature(content, this.signer, signingTime, {
      tsa,
      level,
      extraCertificates,
      crls: heldCrls?.() ?? [],
    });
  }

  /**
   * Signs a proof's content as issued at `issuedAt` (also the signing-time), with its SHA-256 for the
   * SignedFile's Digest.
   * @throws SigningUnavailableError (SEPIA_T02, retry) when the signature or its time-stamp cannot be
   *   made: a TSA that does not answer or answers wrongly, or a signer that fails; nothing is stored and
   *   the sender retries
   */
  async signProof(content: Buffer, issuedAt: Date): Promise<SignedProof> {
    let signature: Buffer;
    try {
      signature = await this.sign(content, issuedAt);
    } catch (cause) {
      throw new SigningUnavailableError({ cause });
    }
    return { content, contentSha256: hash('sha256', content, 'buffer'), signature, issuedAt };
  }
}

/** A proof's content and its detached CAdES signature. */
export interface SignedProof {
  content: Buffer;
  contentSha256: Buffer;
  signature: Buffer;
  issuedAt: Date;
}
