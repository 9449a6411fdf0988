import { x509 } from '../pki/crypto-engines';
import { TSP_OIDS } from './rfc3161';

const KEY_USAGE = '2.5.29.15';
const BASIC_CONSTRAINTS = '2.5.29.19';
/** The key usages a TSA key may have (OpenSSL's rule for the timestamp-signing purpose). */
const TSA_KEY_USAGES = x509.KeyUsageFlags.digitalSignature | x509.KeyUsageFlags.nonRepudiation;

/**
 * Why a certificate cannot sign time-stamp tokens, or undefined when it can. RFC 3161 section 2.3: the
 * extended key usage extension is present, critical, and holds timeStamping only. Like OpenSSL, a key
 * usage extension, when present, allows digitalSignature and/or nonRepudiation and nothing else; and the
 * certificate is no CA.
 */
export function timeStampingCertificateProblem(certificateDer: Buffer): string | undefined {
  let certificate: InstanceType<typeof x509.X509Certificate>;
  try {
    certificate = new x509.X509Certificate(new Uint8Array(certificateDer));
  } catch {
    return 'it is not a DER X.509 certificate';
  }
  const extendedKeyUsages = certificate.extensions.filter(
    (extension) => extension.type === TSP_OIDS.extendedKeyUsage,
  );
  if (extendedKeyUsages.length === 0)
    return 'it has no extended key usage extension (RFC 3161 requires timeStamping, critical)';
  if (extendedKeyUsages.length > 1) return 'it has more than one extended key usage extension';
  const [extendedKeyUsage] = extendedKeyUsages;
  if (!extendedKeyUsage.critical)
    return 'its extended key usage extension is not critical (RFC 3161 section 2.3 requires it critical)';
  const usages = new x509.ExtendedKeyUsageExtension(extendedKeyUsage.rawData).usages;
  if (usages.length !== 1 || usages[0] !== TSP_OIDS.timeStamping)
    return `its extended key usage must be timeStamping only, not ${usages.join(', ') || 'empty'}`;

  const keyUsage = certificate.getExtension<InstanceType<typeof x509.KeyUsagesExtension>>(KEY_USAGE);
  if (keyUsage !== null) {
    const flags = new x509.KeyUsagesExtension(keyUsage.rawData).usages;
    if ((flags & TSA_KEY_USAGES) === 0 || (flags & ~TSA_KEY_USAGES) !== 0)
      return 'its key usage must be digitalSignature and/or nonRepudiation only';
  }
  const basicConstraints = certificate.getExtension(BASIC_CONSTRAINTS);
  if (basicConstraints !== null && new x509.BasicConstraintsExtension(basicConstraints.rawData).ca)
    return 'it is a CA certificate';
  return undefined;
}
