/** The hash of the data to time-stamp, as an RFC 3161 MessageImprint carries it. */
export interface MessageImprint {
  hashAlgorithm: 'SHA-256' | 'SHA-384' | 'SHA-512';
  digest: Buffer;
}

/**
 * Whoever gives trusted time: the embedded RFC 3161 TSA by default, or an external one over HTTP
 * (RM_TSA_URL). Callers (the CAdES-T signature-time-stamp of every proof) see only this.
 */
export interface TimeStampAuthority {
  /**
   * A TimeStampToken (DER of the ContentInfo holding the TSA's SignedData over a TSTInfo) for the imprint,
   * checked before it is returned (status, imprint, nonce, signature, TSA certificate).
   * @throws TimeStampUnavailableError when no valid token can be had
   */
  timestamp(imprint: MessageImprint): Promise<Buffer>;
}

/** No valid time-stamp could be had (the TSA did not answer, refused, or answered wrongly). */
export class TimeStampUnavailableError extends Error {
  constructor(message: string, options?: { cause?: unknown }) {
    super(message, options);
    this.name = 'TimeStampUnavailableError';
  }
}
