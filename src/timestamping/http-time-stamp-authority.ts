import { randomBytes } from 'node:crypto';
import type { Clock } from '../clock/clock';
import { postBytes } from './post-bytes';
import { assertImprintShape, describePkiStatus, PKI_STATUS } from './rfc3161';
import {
  TimeStampUnavailableError,
  type MessageImprint,
  type TimeStampAuthority,
} from './time-stamp-authority';
import {
  decodeTimeStampResponse,
  encodeTimeStampRequest,
  type DecodedTimeStampResponse,
} from './time-stamp-codec';
import { InvalidTimeStampTokenError, verifyTimeStampToken } from './verify-time-stamp-token';

/** How the client reaches and judges an external TSA. */
export interface HttpTimeStampAuthorityOptions {
  /** The TSA's RFC 3161 HTTP endpoint (RM_TSA_URL). */
  url: string;
  /** CA certificates (DER) trusted for the TSA certificate. */
  trustAnchors: readonly Buffer[];
  clock: Clock;
  /** The whole exchange must end within this (RM_TSA_TIMEOUT_MS); default 10000. */
  timeoutMs?: number;
  /** Longer answers are refused; default 256 KiB. */
  maxResponseBytes?: number;
  /** Requested as reqPolicy, and required of the token, when set (RM_TSA_POLICY_OID). */
  policy?: string;
  /** How far genTime may be from the clock; default 60 s. */
  maxClockSkewMs?: number;
}

/** Default of RM_TSA_TIMEOUT_MS. */
export const DEFAULT_TSA_TIMEOUT_MS = 10_000;
const DEFAULT_MAX_RESPONSE_BYTES = 256 * 1024;
const DEFAULT_MAX_CLOCK_SKEW_MS = 60_000;
const NONCE_OCTETS = 8;

/**
 * An external RFC 3161 TSA over HTTP (RFC 3161 section 3.4). Each request carries a fresh 64-bit random
 * nonce and certReq; the answer is used only once it passes every check of
 * {@link verifyTimeStampToken}: status granted (or grantedWithMods), the token parses, imprint and nonce
 * are those requested, the signature verifies with the token's TSA certificate, signing-certificate-v2
 * names that certificate, which has the extended key usage timeStamping (critical) and a path to the
 * TSA trust anchors, and genTime is near the service clock.
 */
export class HttpTimeStampAuthority implements TimeStampAuthority {
  private readonly url: URL;
  /** The URL as messages show it (never credentials or a query). */
  private readonly label: string;

  /** @throws TypeError when `url` is not an http(s) URL */
  constructor(private readonly options: HttpTimeStampAuthorityOptions) {
    this.url = new URL(options.url);
    if (this.url.protocol !== 'http:' && this.url.protocol !== 'https:')
      throw new TypeError('the TSA URL must be http or https');
    this.label = `${this.url.origin}${this.url.pathname}`;
  }

  /**
   * @throws RangeError when the digest length does not fit the hash algorithm
   * @throws TimeStampUnavailableError saying why no valid token could be had
   */
  async timestamp(imprint: MessageImprint): Promise<Buffer> {
    assertImprintShape(imprint);
    const nonce = randomBytes(NONCE_OCTETS);
    const request = encodeTimeStampRequest({ imprint, nonce, certReq: true, reqPolicy: this.options.policy });

    let answer: Awaited<ReturnType<typeof postBytes>>;
    try {
      answer = await postBytes(this.url, request, {
        contentType: 'application/timestamp-query',
        accept: 'application/timestamp-reply',
        timeoutMs: this.options.timeoutMs ?? DEFAULT_TSA_TIMEOUT_MS,
        maxResponseBytes: this.options.maxResponseBytes ?? DEFAULT_MAX_RESPONSE_BYTES,
      });
    } catch (error) {
      throw this.unavailable(error instanceof Error ? error.message : String(error), error);
    }
    if (answer.status !== 200) throw this.unavailable(`answered HTTP ${answer.status}`);

    let response: DecodedTimeStampResponse;
    try {
      response = decodeTimeStampResponse(answer.body);
    } catch (error) {
      throw this.unavailable('the answer is not a DER TimeStampResp', error);
    }
    if (response.status !== PKI_STATUS.granted && response.status !== PKI_STATUS.grantedWithMods) {
      const failures = response.failures.length > 0 ? `, failure ${response.failures.join(', ')}` : '';
      const text = response.statusStrings.length > 0 ? ` (${response.statusStrings.join('; ')})` : '';
      throw this.unavailable(`refused: status ${describePkiStatus(response.status)}${failures}${text}`);
    }
    if (response.token === undefined) throw this.unavailable('granted without a time-stamp token');

    try {
      await verifyTimeStampToken(response.token, {
        imprint,
        nonce: BigInt(`0x${nonce.toString('hex')}`),
        policy: this.options.policy,
        trustAnchors: this.options.trustAnchors,
        clock: this.options.clock,
        maxClockSkewMs: this.options.maxClockSkewMs ?? DEFAULT_MAX_CLOCK_SKEW_MS,
      });
    } catch (error) {
      if (error instanceof InvalidTimeStampTokenError) throw this.unavailable(error.message, error);
      throw error;
    }
    return response.token;
  }

  private unavailable(reason: string, cause?: unknown): TimeStampUnavailableError {
    // The TSA's own text can be anything: keep it to one printable line.
    const printable = reason.replace(/[^\x20-\x7e]+/g, ' ').slice(0, 500);
    return new TimeStampUnavailableError(`TSA ${this.label}: ${printable}`, { cause });
  }
}
