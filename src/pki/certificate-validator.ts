import type { Clock } from '../clock/clock';
import { loadPkiLibraries, type PkiLibraries, type Pkijs } from './crypto-engines';
import type { RevocationChecker } from './crl-revocation-checker';

/** The outcome of a certificate check: the path to a trust anchor, or why there is none. */
export type CertificateVerdict = { valid: true; chain: Buffer[] } | { valid: false; reason: string };

type PkijsCertificate = InstanceType<Pkijs['Certificate']>;

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
 */
export class CertificateValidator {
  private readonly trustAnchors: Buffer[];

  /**
   * @param trustAnchors DER of the trusted CA certificates (roots or intermediates)
   * @param clock gives the validation time
   * @param revocation checks the path's certificates for revocation; none: revocation is not checked
   */
  constructor(
    trustAnchors: readonly Buffer[],
    private readonly clock: Clock,
    private readonly revocation?: RevocationChecker,
  ) {
    this.trustAnchors = [...trustAnchors];
  }

  /**
   * Validates a certificate.
   * @param certificateDer the end-entity certificate
   * @param intermediates untrusted certificates that may complete the path (e.g. from the message)
   * @returns on success the path from the certificate (first) to its trust anchor (last), as DER
   */
  async validate(certificateDer: Buffer, intermediates: readonly Buffer[] = []): Promise<CertificateVerdict> {
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
      checkDate: this.clock.now(),
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
    if (this.revocation !== undefined) {
      const notAnchors = (chain as Buffer[]).filter(
        (der) => !this.trustAnchors.some((anchor) => anchor.equals(der)),
      );
      const problem = await this.revocation.problemWith(notAnchors);
      if (problem !== undefined) return refuse(problem);
    }
    return { valid: true, chain: chain as Buffer[] };
  }
}

function refuse(reason: string): CertificateVerdict {
  return { valid: false, reason };
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
