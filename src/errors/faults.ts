import { BusinessError, SystemError } from './service-error';

/*
 * The fault catalogue: one class per contract code. Platform codes (SOA-*) and service codes as the
 * published contract defines them; the cases the platform leaves open use the codes in README
 * ("Fault codes"). Messages are the contract's where it gives one.
 */

/** SOA-00001: anything unexpected; the details stay in the log. */
export class UnexpectedError extends SystemError {
  readonly code = 'SOA-00001';
  readonly origin = 'Provider' as const;
  constructor(options?: { cause?: unknown }) {
    super('Service error', options);
  }
}

/** SOA-01001: signature, token, Timestamp, certificate or replay check failed. */
export class NotAuthenticatedError extends SystemError {
  readonly code = 'SOA-01001';
  readonly origin = 'Consumer' as const;
  /** @param reason logged, never sent: the client only learns that authentication failed */
  constructor(readonly reason: string) {
    super('Service call not authenticated.');
  }
}

/** SOA-01002: trusted certificate, but no valid CBE, not on the allowlist, or another environment. */
export class NotAuthorizedError extends SystemError {
  readonly code = 'SOA-01002';
  readonly origin = 'Consumer' as const;
  constructor(readonly reason: string) {
    super('Service call not authorized.');
  }
}

/** SOA-02002: a dependency (the database) is temporarily unavailable; retrying should work. */
export class TemporarilyUnavailableError extends SystemError {
  readonly code = 'SOA-02002';
  readonly origin = 'Provider' as const;
  override readonly retry = true;
  constructor(options?: { cause?: unknown }) {
    super('Service temporarily not available. Please try later.', options);
  }
}

/** SOA-03001: not well-formed, DOCTYPE or processing instruction, a limit exceeded, a MIME error. */
export class MalformedMessageError extends SystemError {
  readonly code = 'SOA-03001';
  readonly origin = 'Consumer' as const;
  constructor(detail: string) {
    super(`Malformed message: ${detail}`);
  }
}

/** SOA-03002: not a SOAP 1.1 envelope. */
export class NotSoapError extends SystemError {
  readonly code = 'SOA-03002';
  readonly origin = 'Consumer' as const;
  constructor(detail: string) {
    super(`Message must be SOAP: ${detail}`);
  }
}

/** SOA-03003: no Body, or a Body without exactly one child element. */
export class MissingBodyError extends SystemError {
  readonly code = 'SOA-03003';
  readonly origin = 'Consumer' as const;
  constructor(detail: string) {
    super(`Message must contain SOAP body: ${detail}`);
  }
}

/**
 * SOA-03004: a header block addressed to us with `mustUnderstand="1"` that we do not process; faultcode
 * `soapenv:MustUnderstand` as SOAP 1.1 §4.2.3 and WS-I Basic Profile R1027 require.
 */
export class MustUnderstandError extends SystemError {
  readonly code = 'SOA-03004';
  readonly origin = 'Consumer' as const;
  override readonly soapFaultCode = 'MustUnderstand' as const;
  constructor(header: string) {
    super(`WS-I compliance failure: header ${header} must be understood and is not`);
  }
}

/** SOA-03005: the message does not match the WSDL (unknown operation, SOAPAction of another one). */
export class WsdlComplianceError extends SystemError {
  readonly code = 'SOA-03005';
  readonly origin = 'Consumer' as const;
  constructor(detail: string) {
    super(`WSDL compliance failure: ${detail}`);
  }
}

/** SOA-03006: the payload is not valid against the XSD; carries the validator's message. */
export class XsdComplianceError extends SystemError {
  readonly code = 'SOA-03006';
  readonly origin = 'Consumer' as const;
  constructor(validatorMessage: string) {
    super(`XSD compliance failure: ${validatorMessage}`);
  }
}

/** SOA-03007: content checks beyond the XSD failed (INSS/CBE check digits, recipient type). */
export class ContentValidationError extends SystemError {
  readonly code = 'SOA-03007';
  readonly origin = 'Consumer' as const;
  constructor(detail: string) {
    super(`Message content validation failure: ${detail}`);
  }
}

/** FILE_B01: a Digest does not match its attachment. */
export class DigestMismatchError extends BusinessError {
  readonly code = 'FILE_B01';
  readonly origin = 'Consumer' as const;
  constructor() {
    super("Digest doesn't match document.");
  }
}

/** FILE_B03: SHA-1 digests are refused. */
export class Sha1DigestRefusedError extends BusinessError {
  readonly code = 'FILE_B03';
  readonly origin = 'Consumer' as const;
  constructor() {
    super('The SHA-1 digest method cannot be used anymore');
  }
}

/** FILE_B04: a `cid:` without its part, a part referenced twice, or a part not referenced at all. */
export class AttachmentReferenceError extends BusinessError {
  readonly code = 'FILE_B04';
  readonly origin = 'Consumer' as const;
  constructor(detail: string) {
    super(`Attachment reference error: ${detail}`);
  }
}

/** REPO_B01: unknown ticket, or another sender's ticket (indistinguishable on purpose). */
export class TicketNotFoundError extends BusinessError {
  readonly code = 'REPO_B01';
  readonly origin = 'Consumer' as const;
  constructor() {
    super('Ticket provided does not match Registered Mail Item');
  }
}

/** REPO_B03: this sender already used the Token for another item (other recipient or digests). */
export class TokenConflictError extends BusinessError {
  readonly code = 'REPO_B03';
  readonly origin = 'Consumer' as const;
  constructor() {
    super('Token already used by this sender for another registered mail item');
  }
}

/** REPO_T01: repository error that is not a plain unavailability. */
export class RepositoryError extends SystemError {
  readonly code = 'REPO_T01';
  readonly origin = 'Provider' as const;
  constructor(options?: { cause?: unknown }) {
    super('Repository error', options);
  }
}

/** SEPIA_T02: the receipt could not be signed or time-stamped; retrying should work. */
export class SigningUnavailableError extends SystemError {
  readonly code = 'SEPIA_T02';
  readonly origin = 'Provider' as const;
  override readonly retry = true;
  constructor(options?: { cause?: unknown }) {
    super('Could not sign receipt', options);
  }
}

/** TNG_T02: no unique ticket could be created. */
export class TicketCreationError extends SystemError {
  readonly code = 'TNG_T02';
  readonly origin = 'Provider' as const;
  constructor(options?: { cause?: unknown }) {
    super('Cannot create ticket', options);
  }
}

/** EBOX_B01: CheckEboxStatus ACTIVATED or PREFERRED, and the recipient has no activated e-Box. */
export class EboxNotActivatedError extends BusinessError {
  readonly code = 'EBOX_B01';
  readonly origin = 'Consumer' as const;
  constructor() {
    super('The recipient has no activated e-Box');
  }
}

/** EBOX_B02: CheckEboxStatus PREFERRED, and the e-Box is not the recipient's preferred channel. */
export class EboxNotPreferredError extends BusinessError {
  readonly code = 'EBOX_B02';
  readonly origin = 'Consumer' as const;
  constructor() {
    super("The e-Box is not the recipient's preferred channel");
  }
}

/**
 * PROOF_B01: GetProof asked for a proof that is not issued yet (DISPATCH before the item is in the
 * e-Box, CONSULTATION before the recipient opened it). GetProof ALL never raises it.
 */
export class ProofNotIssuedError extends BusinessError {
  readonly code = 'PROOF_B01';
  readonly origin = 'Consumer' as const;
  constructor() {
    super('The proof is not issued yet');
  }
}
