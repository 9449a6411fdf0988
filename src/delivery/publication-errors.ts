/**
 * The two ways a call to the e-Box can fail, as the outbox needs to know them: retry later
 * ({@link TransientPublicationError}) or give up on the item ({@link PermanentPublicationError}).
 * The e-Box clients throw nothing else.
 */
export abstract class PublicationError extends Error {
  constructor(message: string, options?: { cause?: unknown }) {
    super(message, options);
    this.name = new.target.name;
  }
}

/** The call may succeed later: network failure, timeout, 5xx, 429, or an answer we could not read. */
export class TransientPublicationError extends PublicationError {
  /**
   * @param retryAfterMs how long the e-Box asked us to wait (its `Retry-After`), when it said so
   * @param status the HTTP status when the e-Box answered at all
   */
  constructor(
    message: string,
    readonly retryAfterMs: number | undefined = undefined,
    readonly status: number | undefined = undefined,
    options?: { cause?: unknown },
  ) {
    super(message, options);
  }
}

/** The e-Box refused the call for good (a 4xx other than 408/429): retrying the same call cannot help. */
export class PermanentPublicationError extends PublicationError {
  /**
   * @param status the HTTP status
   * @param code the e-Box error code (e.g. `INVALID_INPUT`), `HTTP_<status>` when the answer had none
   * @param eboxMessage the e-Box's own explanation, when it gave one
   */
  constructor(
    readonly status: number,
    readonly code: string,
    readonly eboxMessage: string | undefined,
  ) {
    super(`the e-Box refused the call: ${status} ${code}${eboxMessage ? `: ${eboxMessage}` : ''}`);
  }
}
