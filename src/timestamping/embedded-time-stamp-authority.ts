import type { Clock } from '../clock/clock';
import { checkedSigner } from '../evidence/checked-signer';
import type { DocumentSigner } from '../evidence/document-signer';
import { readCertificateFields } from './certificate-fields';
import { newSerialNumber } from './serial-number';
import { signTimeStampToken } from './sign-time-stamp-token';
import {
  assertImprintShape,
  DEFAULT_TSA_POLICY_OID,
  IMPRINT_HASHES,
  imprintHashByOid,
  type FailureInfo,
} from './rfc3161';
import {
  TimeStampUnavailableError,
  type MessageImprint,
  type TimeStampAuthority,
} from './time-stamp-authority';
import {
  decodeTimeStampRequest,
  encodeGrantedResponse,
  encodeMessageImprint,
  encodeRejectedResponse,
  encodeTstInfo,
  type DecodedTimeStampRequest,
} from './time-stamp-codec';
import { timeStampingCertificateProblem } from './tsa-certificate';

/** How the embedded TSA signs and what its tokens say. */
export interface EmbeddedTimeStampAuthorityOptions {
  /** Signs the tokens; its certificate must have the extended key usage timeStamping, critical. */
  signer: DocumentSigner;
  /** Gives genTime. */
  clock: Clock;
  /** TSTInfo policy (RM_TSA_POLICY_OID); default {@link DEFAULT_TSA_POLICY_OID}. */
  policy?: string;
  /** TSTInfo accuracy in milliseconds (RM_TSA_ACCURACY_MS); default 1000. */
  accuracyMs?: number;
  /** Called with what went wrong when a token could not be signed (never with document bytes). */
  onSigningFailure?: (error: unknown) => void;
}

/** The default accuracy: the service clock is trusted to the second. */
export const DEFAULT_TSA_ACCURACY_MS = 1000;

/** What one token is issued for. */
interface TokenRequest {
  imprintDer: Buffer;
  nonceDer: Buffer | undefined;
  certReq: boolean;
}

/** A request the TSA refuses, with the PKIFailureInfo it answers. */
class Refusal {
  constructor(
    readonly failure: FailureInfo,
    readonly reason: string,
  ) {}
}

/**
 * The service's own RFC 3161 time-stamping authority: tokens with a TSTInfo (version 1, the configured
 * policy, the requested imprint, a fresh random serial number, genTime from the clock to the
 * millisecond, the configured accuracy, the request's nonce, the TSA's name) signed through a
 * DocumentSigner. In-process callers use {@link timestamp}; HTTP clients reach {@link respond} through
 * `POST /tsa`.
 */
export class EmbeddedTimeStampAuthority implements TimeStampAuthority {
  /** The policy of every token. */
  readonly policy: string;
  /** The accuracy of every token, in milliseconds. */
  readonly accuracyMs: number;
  private readonly tsaName: Buffer;
  private readonly signer: DocumentSigner;

  /**
   * @throws Error when the signer's certificate cannot time-stamp (no critical extended key usage
   *   timeStamping, see {@link timeStampingCertificateProblem})
   */
  constructor(private readonly options: EmbeddedTimeStampAuthorityOptions) {
    const problem = timeStampingCertificateProblem(options.signer.certificate);
    if (problem !== undefined) throw new Error(`the TSA certificate cannot time-stamp: ${problem}`);
    this.policy = options.policy ?? DEFAULT_TSA_POLICY_OID;
    this.accuracyMs = options.accuracyMs ?? DEFAULT_TSA_ACCURACY_MS;
    if (!Number.isSafeInteger(this.accuracyMs) || this.accuracyMs <= 0)
      throw new RangeError('the TSA accuracy must be a positive number of milliseconds');
    this.tsaName = readCertificateFields(options.signer.certificate).subjectDer;
    // A signer that returns a wrong signature must not produce a token that fails in court.
    this.signer = checkedSigner(options.signer);
  }

  /**
   * A token for the imprint, with the TSA certificate and its chain (certReq true, no nonce: nothing
   * travels over a network).
   * @throws RangeError when the digest length does not fit the hash algorithm
   * @throws TimeStampUnavailableError when the token cannot be signed
   */
  async timestamp(imprint: MessageImprint): Promise<Buffer> {
    assertImprintShape(imprint);
    try {
      return await this.issue({
        imprintDer: encodeMessageImprint(imprint),
        nonceDer: undefined,
        certReq: true,
      });
    } catch (error) {
      this.options.onSigningFailure?.(error);
      throw new TimeStampUnavailableError('the embedded TSA could not sign a time-stamp token', {
        cause: error,
      });
    }
  }

  /**
   * Answers a DER TimeStampReq with the DER of a TimeStampResp: granted with a token, or rejection with
   * the failure: badDataFormat (not a DER TimeStampReq, or a digest of the wrong length), badRequest
   * (version other than 1), badAlg (a hash other than SHA-256/384/512), unacceptedExtension (any
   * extension), unacceptedPolicy (a reqPolicy other than {@link policy}), systemFailure (signing failed).
   * Never throws.
   */
  async respond(requestDer: Buffer): Promise<Buffer> {
    let decoded: DecodedTimeStampRequest;
    try {
      decoded = decodeTimeStampRequest(requestDer);
    } catch {
      return encodeRejectedResponse('badDataFormat', 'the request is not a DER TimeStampReq');
    }
    const checked = this.check(decoded);
    if (checked instanceof Refusal) return encodeRejectedResponse(checked.failure, checked.reason);
    try {
      return encodeGrantedResponse(await this.issue(checked));
    } catch (error) {
      this.options.onSigningFailure?.(error);
      return encodeRejectedResponse('systemFailure', 'the time-stamp could not be signed');
    }
  }

  private check(request: DecodedTimeStampRequest): TokenRequest | Refusal {
    if (request.version !== 1n) return new Refusal('badRequest', 'only version 1 requests are answered');
    const { imprint } = request;
    const hash = imprintHashByOid(imprint.hashAlgorithmOid);
    if (hash === undefined || !imprint.parametersAbsentOrNull)
      return new Refusal(
        'badAlg',
        `hash algorithm ${imprint.hashAlgorithmOid} is not accepted: SHA-256, SHA-384 or SHA-512`,
      );
    if (imprint.digest.length !== IMPRINT_HASHES[hash].length)
      return new Refusal('badDataFormat', `a ${hash} digest has ${IMPRINT_HASHES[hash].length} bytes`);
    if (request.hasExtensions) return new Refusal('unacceptedExtension', 'no request extension is supported');
    if (request.reqPolicy !== undefined && request.reqPolicy !== this.policy)
      return new Refusal('unacceptedPolicy', `the only policy is ${this.policy}`);
    return { imprintDer: imprint.der, nonceDer: request.nonceDer, certReq: request.certReq };
  }

  private async issue(request: TokenRequest): Promise<Buffer> {
    const tstInfo = encodeTstInfo({
      policy: this.policy,
      imprintDer: request.imprintDer,
      serialNumber: newSerialNumber(),
      genTime: this.options.clock.now(),
      accuracyMs: this.accuracyMs,
      nonceDer: request.nonceDer,
      tsaName: this.tsaName,
    });
    return signTimeStampToken(tstInfo, this.signer, request.certReq);
  }
}
