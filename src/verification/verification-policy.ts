/** How proofs are judged. */
export interface VerificationPolicy {
  /** DER of the CA certificates trusted for signers and TSAs. */
  trustAnchors: readonly Buffer[];
  /** The time certificates are judged at when no verified time-stamp gives an earlier one. */
  validationTime: Date;
  /** How far clocks may disagree (signing-time vs genTime, times vs the validation time). */
  clockSkewMilliseconds?: number;
  /** How long after the signing-time the time-stamp may come. */
  maxTimeStampDelayMilliseconds?: number;
}

/** Default {@link VerificationPolicy.clockSkewMilliseconds}: two minutes. */
export const DEFAULT_CLOCK_SKEW_MILLISECONDS = 2 * 60 * 1000;

/**
 * Default {@link VerificationPolicy.maxTimeStampDelayMilliseconds}: one hour. The service time-stamps a
 * proof while it answers, so a token hours after the signing-time was not made for it then.
 */
export const DEFAULT_MAX_TIME_STAMP_DELAY_MILLISECONDS = 60 * 60 * 1000;
