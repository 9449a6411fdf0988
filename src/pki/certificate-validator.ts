import type { Clock } from '../clock/clock';
import { certificateSetDigest } from './certificate-digest';
import { loadPkiLibraries, type PkiLibraries, type Pkijs } from './crypto-engines';
import type { RevocationChecker } from './crl-revocation-checker';
import { LruCache } from './lru-cache';

/** The outcome of a certificate check: the path to a trust anchor, or why there is none. */
export type CertificateVerdict = { valid: true; chain: Buffer[] } | { valid: false; reason: string };

type PkijsCertificate = InstanceType<Pkijs['Certificate']>;

/** How many validated paths a {@link CertificateValidator} remembers by default. */
export const DEFAULT_VERDICT_CACHE_SIZE = 1000;

/** How a {@link CertificateValidator} remembers the paths it validated. */
export interface CertificateValidatorOptions {
  /**
   * How many validated paths are remembered, the least recently used forgotten first (default
   * {@link DEFAULT_VERDICT_CACHE_SIZE}); 0 remembers none.
   */
  verdictCacheSize?: number;
}

/** A path that validated: reused while the clock is within every certificate's validity. */
interface ValidatedPath {
  /** The end-entity certificate (compared on every hit, besides the SHA-256 cache key). */
  der: Buffer;
  /** From the certificate (first) to its trust anchor (last). */
  chain: readonly Buffer[];
  /** The path's certificates that are not trust anchors: those the revocation check asks about. */
  notAnchors: readonly Buffer[];
  /** The latest notBefore along the path (ms since the epoch). */
  validFrom: number;
  /** The earliest notAfter along the path (ms since the epoch). */
  validUntil: number;
}

const KEY_USAGE = '2.5.29.15';
const BASIC_CONSTRAINTS = '2.5.29.19';
/** First octet of the KeyUsage bits: digitalSignature is bit 0, the most significant. */
const DIGITAL_SIGNATURE_BIT = 0x80;

/**
 * Checks end-entity certificates (WS-Security signers) against configured trust anchors, at the time
 * the injected clock gives: RFC 5280 path building and validation by pkijs, plus what a signing
 * certificate needs: no CA certificate as leaf, keyUsage (when present) allowing digitalSignature,
 * and no critical extension that cannot be understood.
 *
 * Revocation: when a {@link RevocationChecker} is given (RM_CRL), the path's certificates other than the
 * trust anchor are checked against it after path validation; a revoked certificate, or one whose
 * revocation status is unknown, is refused.
 *
 * Senders send the same certificate with every request, so a path that validated is remembered, keyed
 * by the SHA-256 of the certificate's DER (and of the intermediates offered): parsing and path
 * validation run again only once the clock leaves the validity period of one of the path's
 * certificates (or the entry was forgotten: at most `verdictCacheSize` are held, least recently used
 * forgotten first). Refusals are not remembered: only a certificate that chains to a trust anchor can
 * take a place, so certificates made up by an attacker cannot push out the senders'. The revocation
 * check is never remembered: it runs at every validation against the CRLs held then (itself cheap:
 * the certificates' parsed forms are cached), so a refreshed CRL that revokes a certificate, or a CRL
 * past its nextUpdate, refuses it at the next request.
 */
export class CertificateValidator {
  private readonly trustAnchors: Buffer[];
  private readonly paths: LruCache<ValidatedPath>;
  private pathValidations = 0;

  /**
   * @param trustAnchors DER of the trusted CA certificates (roots or intermediates)
   * @param clock gives the validation time
   * @param revocation checks the path's certificates for revocation; none: revocation is not checked
   * @param options how many validated paths are remembered
   */
  constructor(
    trustAnchors: readonly Buffer[],
    private readonly clock: Clock,
    private readonly revocation?: RevocationChecker,
    options: CertificateValidatorOptions = {},
  ) {
    this.trustAnchors = [...trustAnchors];
    this.paths = new LruCache(options.verdictCacheSize ?? DEFAULT_VERDICT_CACHE_SIZE);
  }

  /** How many times a path was built and validated (not answered from the cache), for tests and metrics. */
  get chainValidations(): number {
    return this.pathValidations;
  }

  /** How many validated paths are remembered now. */
  get cachedVerdicts(): number {
    return this.paths.size;
  }

  /**
   * Validates a certificate.
   * @param certificateDer the end-entity certificate
   * @param intermediates untrusted certificates that may complete the path (e.g. from the message)
   * @returns on success the path from the certificate (first) to its trust anchor (last), as DER
   */
  async validate(certificateDer: Buffer, intermediates: readonly Buffer[] = []): Promise<CertificateVerdict> {
    const now = this.clock.now();
    const key = certificateSetDigest(certificateDer, intermediates);
    let path = this.paths.get(key);
    if (path === undefined || !path.der.equals(certificateDer) || !isWithin(path, now)) {
      const outcome = await this.validatePath(certificateDer, intermediates, now);
      if (!('chain' in outcome)) {
        this.paths.delete(key);
        return outcome;
      }
      path = outcome;
      this.paths.set(key, path);
    }
    if (this.revocation !== undefined) {
      const problem = await this.revocation.problemWith(path.notAnchors);
      if (problem !== undefined) return refuse(problem);
    }
    return { valid: true, chain: [...path.chain] };
  }

  /** Builds and validates the path at `now` (RFC 5280, by pkijs), without the revocation check. */
  private async validatePath(
    certificateDer: Buffer,
    intermediates: readonly Buffer[],
    now: Date,
  ): Promise<ValidatedPath | { valid: false; reason: string }> {
    this.pathValidations += 1;
    const libraries = await loadPkiLibraries();
    const { pkijs } = libraries;
    const parsed = new Map<PkijsCertificate, Buffer>();
    const parse = (der: Buffer): PkijsCertificate => {
      const certificate = pkijs.Certificate.fromBER(new Uint8Array(der));
      parsed.set(certificate, der);
      return certificate;
    };

    let leaf: PkijsCertificate;
    try {
      leaf = parse(certificateDer);
    } catch {
      return refuse('not a DER X.509 certificate');
    }
    const leafProblem = endEntityProblem(leaf, libraries);
    if (leafProblem !== undefined) return refuse(leafProblem);
    if (this.trustAnchors.some((anchor) => anchor.equals(certificateDer))) {
      return refuse('a trust anchor cannot be used as an end-entity certificate');
    }

    let trustedCerts: PkijsCertificate[];
    let others: PkijsCertificate[];
    try {
      trustedCerts = this.trustAnchors.map(parse);
      others = intermediates
        .filter(
          (der) => !der.equals(certificateDer) && !this.trustAnchors.some((anchor) => anchor.equals(der)),
        )
        .map(parse);
    } catch {
      return refuse('an intermediate or trust anchor certificate is not DER X.509');
    }

    // pkijs takes the last of `certs` as the certificate to validate.
    const engine = new pkijs.CertificateChainValidationEngine({
      trustedCerts,
      certs: [...others, leaf],
      checkDate: now,
    });
    let result: Awaited<ReturnType<typeof engine.verify>>;
    try {
      result = await engine.verify();
    } catch (error) {
      return refuse(`path validation failed: ${error instanceof Error ? error.message : String(error)}`);
    }
    if (!result.result)
      return refuse(result.resultMessage || `path validation failed (${result.resultCode})`);
    const path = result.certificatePath ?? [];
    const chain = path.map((certificate) => parsed.get(certificate));
    if (path.length === 0 || chain.some((der) => der === undefined)) {
      return refuse('path validation returned an unknown certificate');
    }
    // Copies: the cache must not share buffers with a request.
    const validated = (chain as Buffer[]).map((der) => Buffer.from(der));
    return {
      der: validated[0],
      chain: validated,
      notAnchors: validated.filter((der) => !this.trustAnchors.some((anchor) => anchor.equals(der))),
      validFrom: Math.max(...path.map((certificate) => certificate.notBefore.value.getTime())),
      validUntil: Math.min(...path.map((certificate) => certificate.notAfter.value.getTime())),
    };
  }
}

function refuse(reason: string): { valid: false; reason: string } {
  return { valid: false, reason };
}

/** Whether `now` is within the validity period of every certificate of the path (as pkijs checks it). */
function isWithin(path: ValidatedPath, now: Date): boolean {
  const time = now.getTime();
  return path.validFrom <= time && time <= path.validUntil;
}

/** Why a certificate cannot be a signing end-entity, or undefined when it can. */
function endEntityProblem(
  certificate: PkijsCertificate,
  { pkijs, asn1js }: PkiLibraries,
): string | undefined {
  for (const extension of certificate.extensions ?? []) {
    const value = extension.parsedValue;
    if (extension.critical && value === undefined) {
      return `unsupported critical extension ${extension.extnID}`;
    }
    if (extension.extnID === BASIC_CONSTRAINTS && value instanceof pkijs.BasicConstraints && value.cA) {
      return 'a CA certificate cannot be used as an end-entity certificate';
    }
    if (extension.extnID === KEY_USAGE) {
      if (!(value instanceof asn1js.BitString)) return 'unreadable key usage extension';
      if (((value.valueBlock.valueHexView[0] ?? 0) & DIGITAL_SIGNATURE_BIT) === 0) {
        return 'key usage does not allow digitalSignature';
      }
    }
  }
  return undefined;
}
