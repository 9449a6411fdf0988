import { X509Certificate } from 'node:crypto';
import { stat } from 'node:fs/promises';
import type { Clock } from '../clock/clock';
import { CertificateValidator } from '../pki/certificate-validator';
import { readCertificatesFromPemDirectory, readCertificatesFromPemFile } from '../pki/pem';
import type { CertificateTrust, TrustVerdict } from '../wssecurity/security-facts';
import { ClientUsageError } from './client-errors';

/** Decides whether the certificate that signed an answer is the service's. */
export interface ResponseTrust extends CertificateTrust {
  /** What is trusted, in words (for messages). */
  readonly description: string;
}

function subjectOf(certificateDer: Buffer): string {
  try {
    return new X509Certificate(certificateDer).subject.replace(/\n/g, ', ');
  } catch {
    return 'an unreadable certificate';
  }
}

/**
 * Trusts exactly these certificates (the service's own, "pinned"), within their validity at the clock's
 * time: what `xmlsec1 --pubkey-cert-pem` does. A replaced service certificate must be given anew.
 */
export function pinnedCertificates(certificates: readonly Buffer[], clock: Clock): ResponseTrust {
  const pinned = certificates.map((der) => Buffer.from(der));
  return {
    description: `the service certificate ${pinned.map(subjectOf).join(' or ')}`,
    async validate(certificateDer: Buffer): Promise<TrustVerdict> {
      const match = pinned.find((der) => der.equals(certificateDer));
      if (match === undefined) {
        return { valid: false, reason: `it is ${subjectOf(certificateDer)}` };
      }
      const certificate = new X509Certificate(match);
      const now = clock.now();
      if (now < new Date(certificate.validFrom) || now > new Date(certificate.validTo)) {
        return { valid: false, reason: `the service certificate is not valid now (${certificate.validTo})` };
      }
      return { valid: true, chain: [match] };
    },
  };
}

/**
 * Trusts a certificate with a path to one of these CA certificates at the clock's time (RFC 5280, the
 * service's own {@link CertificateValidator}; revocation is not checked): what WSS4J and zeep clients
 * configure. Any certificate those CAs issued for signing is then trusted to speak for the service.
 */
export function trustedAuthorities(anchors: readonly Buffer[], clock: Clock): ResponseTrust {
  const validator = new CertificateValidator(anchors, clock);
  return {
    description: `a certificate issued by ${anchors.map(subjectOf).join(' or ')}`,
    validate: (certificateDer: Buffer) => validator.validate(certificateDer),
  };
}

/** The certificates of a PEM file or of every PEM file of a directory; of a file, only the first when asked. */
async function readCertificates(file: string, option: string, firstOfFile = false): Promise<Buffer[]> {
  try {
    const found = (await stat(file)).isDirectory()
      ? await readCertificatesFromPemDirectory(file)
      : await readCertificatesFromPemFile(file);
    if (found.length > 0) return firstOfFile ? found.slice(0, 1) : found;
  } catch {
    // Said below, the same way for every cause.
  }
  throw new ClientUsageError(`${option} ${file}: no readable PEM certificate`);
}

/** Where the certificates that may sign answers come from. */
export interface ResponseTrustFiles {
  /**
   * PEM files (or directories) of the service's own certificate(s): pinned. Of a file only the first
   * certificate counts (RM_SIGNER_CERT's chain that may follow it is not the service).
   */
  serviceCertificates?: readonly string[];
  /** PEM files (or directories) of CA certificates: any certificate they issued. */
  authorities?: readonly string[];
}

/**
 * Reads {@link ResponseTrustFiles}: exactly one of the two kinds must be given.
 * @throws ClientUsageError when neither or both are given, or a file holds no readable certificate
 */
export async function loadResponseTrust(files: ResponseTrustFiles, clock: Clock): Promise<ResponseTrust> {
  const pinned = files.serviceCertificates ?? [];
  const authorities = files.authorities ?? [];
  if (pinned.length > 0 && authorities.length > 0) {
    throw new ClientUsageError('give either --service-cert or --trust, not both');
  }
  if (pinned.length > 0) {
    const certificates = (
      await Promise.all(pinned.map((file) => readCertificates(file, '--service-cert', true)))
    ).flat();
    return pinnedCertificates(certificates, clock);
  }
  if (authorities.length > 0) {
    const anchors = (await Promise.all(authorities.map((file) => readCertificates(file, '--trust')))).flat();
    return trustedAuthorities(anchors, clock);
  }
  throw new ClientUsageError(
    "nothing to check the service's answers against: give --service-cert <pem> (the service's certificate) or --trust <pem> (its CA)",
  );
}
