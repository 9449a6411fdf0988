import { certificateDigest } from './certificate-digest';
import { loadPkiLibraries, type PkiLibraries, type Pkijs } from './crypto-engines';
import { LruCache } from './lru-cache';

/*
 * Certificate revocation lists (RFC 5280 section 5): read (DER or PEM), checked against the trust
 * anchors, and asked about a certificate. Only complete, direct CRLs are understood: a CRL with a critical
 * extension (a delta CRL, an issuing distribution point that scopes it or makes it indirect) is refused,
 * as RFC 5280 requires of a CRL whose critical extensions are not processed. Parsed with pkijs, as the
 * certificate path is (one parser for both sides of the comparison).
 */

const PEM_CRL_BLOCK = /-----BEGIN X509 CRL-----([A-Za-z0-9+/=\s]*?)-----END X509 CRL-----/;
const KEY_USAGE = '2.5.29.15';
const REASON_CODE = '2.5.29.21';
/** First octet of the KeyUsage bits: cRLSign is bit 6. */
const CRL_SIGN_BIT = 0x02;
const SHORT_NAMES: Record<string, string> = {
  '2.5.4.3': 'CN',
  '2.5.4.5': 'serialNumber',
  '2.5.4.6': 'C',
  '2.5.4.7': 'L',
  '2.5.4.8': 'ST',
  '2.5.4.10': 'O',
  '2.5.4.11': 'OU',
};

type PkijsCertificate = InstanceType<Pkijs['Certificate']>;
type PkijsName = InstanceType<Pkijs['RelativeDistinguishedNames']>;

/** A CRL that cannot be used: unreadable, from an issuer that is not trusted, badly signed, ... */
export class CrlError extends Error {}

/** What a CRL says about one certificate it lists. */
export interface Revocation {
  revokedAt: Date;
  /** The CRL entry's reasonCode, when it has one. */
  reason: number | undefined;
}

/** A CRL whose signature verified against a trust anchor. */
export interface VerifiedCrl {
  /** Where it came from (a file path or a URL), for messages. */
  source: string;
  /** The CRL as DER. */
  der: Buffer;
  /** The issuer's distinguished name as text, for messages. */
  issuer: string;
  thisUpdate: Date;
  /** When the issuer promises the next CRL; undefined when the CRL names none. */
  nextUpdate: Date | undefined;
  /** Whether this CRL speaks for the certificate: its issuer is the CRL's issuer. */
  covers(certificate: CertificateForRevocation): boolean;
  /** The certificate's entry, when this CRL covers and lists it. */
  revocationOf(certificate: CertificateForRevocation): Revocation | undefined;
}

/** A certificate as the revocation check sees it (parsed once, by the same parser as the CRLs). */
export interface CertificateForRevocation {
  /** Its issuer's distinguished name as text, for messages. */
  issuer: string;
  /** Its subject's distinguished name as text, for messages. */
  subject: string;
  /** Its serial number in hex. */
  serialNumber: string;
  /** The parsed certificate (internal to this module). */
  readonly parsed: PkijsCertificate;
}

/** Whether the CRL may be relied on at `now`: issued, and its nextUpdate (when it has one) not passed. */
export function isCurrent(crl: Pick<VerifiedCrl, 'thisUpdate' | 'nextUpdate'>, now: Date): boolean {
  return crl.thisUpdate.getTime() <= now.getTime() && (crl.nextUpdate ?? now).getTime() >= now.getTime();
}

/**
 * The DER of a CRL given as DER or as PEM (`-----BEGIN X509 CRL-----`).
 * @throws CrlError when the bytes are PEM without a CRL
 */
export function crlDer(bytes: Buffer, source: string): Buffer {
  const head = bytes.subarray(0, 64).toString('latin1').trimStart();
  if (!head.startsWith('-----BEGIN')) return bytes;
  const match = PEM_CRL_BLOCK.exec(bytes.toString('latin1'));
  if (match === null) throw new CrlError(`CRL ${source}: PEM without an X509 CRL block`);
  return Buffer.from(match[1].replace(/\s+/g, ''), 'base64');
}

/** A distinguished name as `C=BE, O=..., CN=...` (for messages only; never compared as text). */
function describeName(name: PkijsName): string {
  return name.typesAndValues
    .map((entry) => {
      const value = (entry.value as { valueBlock?: { value?: unknown } }).valueBlock?.value;
      return `${SHORT_NAMES[entry.type] ?? entry.type}=${typeof value === 'string' ? value : '?'}`;
    })
    .join(', ');
}

function hex(view: Uint8Array): string {
  return Buffer.from(view).toString('hex');
}

/** How many certificates parsed for the revocation check are remembered. */
export const REVOCATION_PARSE_CACHE_SIZE = 1000;

// The parse is a pure function of the DER; what a CRL says about it is asked anew at every check.
const parsedForRevocation = new LruCache<{ der: Buffer; certificate: CertificateForRevocation }>(
  REVOCATION_PARSE_CACHE_SIZE,
);

/**
 * Parses a certificate for {@link VerifiedCrl.covers} and {@link VerifiedCrl.revocationOf}, once per
 * certificate (the same certificates are checked at every request).
 * @throws Error when `der` is not an X.509 certificate
 */
export async function certificateForRevocation(der: Buffer): Promise<CertificateForRevocation> {
  const digest = certificateDigest(der);
  const cached = parsedForRevocation.get(digest);
  if (cached !== undefined && cached.der.equals(der)) return cached.certificate;
  const { pkijs } = await loadPkiLibraries();
  const parsed = pkijs.Certificate.fromBER(new Uint8Array(der));
  const certificate: CertificateForRevocation = Object.freeze({
    issuer: describeName(parsed.issuer),
    subject: describeName(parsed.subject),
    serialNumber: hex(parsed.serialNumber.valueBlock.valueHexView),
    parsed,
  });
  parsedForRevocation.set(digest, { der: Buffer.from(der), certificate });
  return certificate;
}

function allowsCrlSigning(anchor: PkijsCertificate, { asn1js }: PkiLibraries): boolean {
  const keyUsage = anchor.extensions?.find((extension) => extension.extnID === KEY_USAGE);
  if (keyUsage === undefined) return true;
  const bits = keyUsage.parsedValue as unknown;
  return bits instanceof asn1js.BitString && ((bits.valueBlock.valueHexView[0] ?? 0) & CRL_SIGN_BIT) !== 0;
}

function reasonCode(
  entry: InstanceType<Pkijs['RevokedCertificate']>,
  { asn1js }: PkiLibraries,
): number | undefined {
  const extension = entry.crlEntryExtensions?.extensions.find((each) => each.extnID === REASON_CODE);
  const value = extension?.parsedValue as unknown;
  return value instanceof asn1js.Enumerated ? value.valueBlock.valueDec : undefined;
}

/**
 * Reads a CRL and checks it: it parses, has no critical extension, its issuer is one of the trust anchors
 * (by name), that anchor may sign CRLs (keyUsage cRLSign when the anchor has a keyUsage), and its
 * signature verifies with that anchor's key.
 * @param bytes DER or PEM
 * @param source named in messages
 * @param trustAnchors DER of the trusted CA certificates
 * @throws CrlError saying what is wrong
 */
export async function verifyCrl(
  bytes: Buffer,
  source: string,
  trustAnchors: readonly Buffer[],
): Promise<VerifiedCrl> {
  const libraries = await loadPkiLibraries();
  const { pkijs } = libraries;
  const der = crlDer(bytes, source);
  let crl: InstanceType<Pkijs['CertificateRevocationList']>;
  try {
    crl = pkijs.CertificateRevocationList.fromBER(new Uint8Array(der));
  } catch (error) {
    throw new CrlError(`CRL ${source}: not a DER or PEM X.509 CRL (${(error as Error).message})`);
  }
  const issuer = describeName(crl.issuer);
  const critical = (crl.crlExtensions?.extensions ?? []).filter((extension) => extension.critical);
  if (critical.length > 0) {
    throw new CrlError(
      `CRL ${source}: critical extension ${critical.map((extension) => extension.extnID).join(', ')} not supported (only complete, direct CRLs are)`,
    );
  }

  const candidates = trustAnchors
    .map((anchorDer) => pkijs.Certificate.fromBER(new Uint8Array(anchorDer)))
    .filter((anchor) => crl.issuer.isEqual(anchor.subject));
  if (candidates.length === 0) {
    throw new CrlError(`CRL ${source}: its issuer ${issuer} is not one of the trust anchors`);
  }
  let verified = false;
  for (const anchor of candidates.filter((candidate) => allowsCrlSigning(candidate, libraries))) {
    try {
      verified = await crl.verify({ issuerCertificate: anchor });
    } catch {
      verified = false;
    }
    if (verified) break;
  }
  if (!verified) {
    throw new CrlError(
      `CRL ${source}: its signature does not verify with the key of any trust anchor named ${issuer} allowed to sign CRLs`,
    );
  }

  const entries = new Map<string, InstanceType<Pkijs['RevokedCertificate']>>();
  for (const entry of crl.revokedCertificates ?? []) {
    entries.set(hex(entry.userCertificate.valueBlock.valueHexView), entry);
  }
  const covers = (certificate: CertificateForRevocation) => crl.issuer.isEqual(certificate.parsed.issuer);
  return {
    source,
    der,
    issuer,
    thisUpdate: crl.thisUpdate.value,
    nextUpdate: crl.nextUpdate?.value,
    covers,
    revocationOf(certificate) {
      if (!covers(certificate)) return undefined;
      const entry = entries.get(certificate.serialNumber);
      return entry === undefined
        ? undefined
        : { revokedAt: entry.revocationDate.value, reason: reasonCode(entry, libraries) };
    },
  };
}
