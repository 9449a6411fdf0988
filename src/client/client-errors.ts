/*
 * What can go wrong for a client of RegisteredMailService, in three kinds the command line tells apart:
 * the caller's own input (a usage problem), the exchange (network, an answer that cannot be read or
 * trusted), and a SOAP fault the service answered (with its contract code).
 */

/** The exchange failed: the service could not be reached, or its answer cannot be read or trusted. */
export class ClientError extends Error {
  constructor(message: string, options?: { cause?: unknown }) {
    super(message, options);
    this.name = 'ClientError';
  }
}

/** The caller's input cannot be used (an unreadable key store, a malformed ticket, a missing option). */
export class ClientUsageError extends ClientError {
  constructor(message: string, options?: { cause?: unknown }) {
    super(message, options);
    this.name = 'ClientUsageError';
  }
}

/** The answer's WS-Security signature does not verify, or its signer is not the trusted service. */
export class UntrustedAnswerError extends ClientError {
  constructor(reason: string) {
    super(`the answer cannot be trusted: ${reason}`);
    this.name = 'UntrustedAnswerError';
  }
}

/** A SOAP fault as the service answers it (see README, "Fault codes"). */
export interface ServiceFault {
  /** `BusinessError` or `SystemError` (the detail element's name). */
  kind: string;
  /** The contract code, e.g. `REPO_B01`, `SOA-01001`. */
  code: string;
  /** The first `Message` (the English one when several). */
  message: string;
  /** Whether the service says a retry may succeed (`Retry` true). */
  retry: boolean;
  /** The detail's `Id`: the request id under which the service logged the failure. */
  id: string | undefined;
}

/** The service answered a fault, whose signature verified. */
export class ServiceFaultError extends Error {
  constructor(readonly fault: ServiceFault) {
    super(`${fault.code} ${fault.message}`);
    this.name = 'ServiceFaultError';
  }
}
