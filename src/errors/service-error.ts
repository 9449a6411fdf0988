/**
 * Every failure that reaches a client is a {@link ServiceError}: a typed class carrying the contract's
 * fault code. One place (`src/soap/fault-envelope.ts`) turns them into SOAP faults; anything else
 * thrown becomes `SOA-00001` there, with details only in the log.
 */
export type ErrorKind = 'BusinessError' | 'SystemError';
/** Who caused the error, as the platform's error model says it. */
export type ErrorOrigin = 'Consumer' | 'Provider';

export abstract class ServiceError extends Error {
  /** Contract fault code, e.g. `SOA-01001` or `FILE_B01`. */
  abstract readonly code: string;
  abstract readonly kind: ErrorKind;
  abstract readonly origin: ErrorOrigin;
  /** Whether the client may retry the same request; omitted from the fault when undefined. */
  readonly retry: boolean | undefined = undefined;
  /**
   * The SOAP 1.1 faultcode's local name when the SOAP specification prescribes one (MustUnderstand);
   * otherwise Client or Server follows {@link origin}.
   */
  readonly soapFaultCode: 'MustUnderstand' | undefined = undefined;

  /**
   * @param message the client-facing message (English); never a stack trace or internal detail
   * @param cause internal cause, logged under the request id and never sent to the client
   */
  constructor(message: string, options?: { cause?: unknown }) {
    super(message, options);
    this.name = new.target.name;
  }
}

export abstract class SystemError extends ServiceError {
  readonly kind = 'SystemError' as const;
}

export abstract class BusinessError extends ServiceError {
  readonly kind = 'BusinessError' as const;
}
