import { ConfigError, type Config } from '../config/config';
import { chainProblem } from '../evidence/cades-signature';
import { ProofSigner } from '../evidence/proof-signer';
import type { CrlRevocationChecker } from '../pki/crl-revocation-checker';
import { readCertificatesFromPemDirectory } from '../pki/pem';
import type { TimeStampAuthority } from '../timestamping/time-stamp-authority';
import type { KeyMaterial } from './key-material';

/**
 * The one {@link ProofSigner} of the service: the configured signer, the TSA, RM_CADES_LEVEL. For B-LT
 * the chains are completed from the signer's own chain, the trust anchors (RM_TRUST_DIR,
 * RM_TSA_TRUST_DIR, the dev CA) and the time-stamp tokens, and the CRLs are those RM_CRL holds at the
 * time of signing.
 * @throws ConfigError when B-LT is asked for and the signer's chain cannot reach a root
 */
export async function createProofSigner(
  config: Config,
  keys: Pick<KeyMaterial, 'signer' | 'trustAnchors' | 'devPki'>,
  tsa: TimeStampAuthority,
  revocation: Pick<CrlRevocationChecker, 'heldCrls'> | undefined,
): Promise<ProofSigner> {
  if (config.cadesLevel === 'B-T') return new ProofSigner(keys.signer, { tsa, level: 'B-T' });

  const extraCertificates = [
    ...keys.trustAnchors,
    ...(config.tsa.trustDir ? await readCertificatesFromPemDirectory(config.tsa.trustDir) : []),
    ...(keys.devPki ? [keys.devPki.ca.certificateDer] : []),
  ];
  // Found now rather than on the first sendDocument; the TSA's chain is checked with each token.
  const problem = chainProblem(
    keys.signer.certificate,
    [...keys.signer.chain, ...extraCertificates],
    'signer',
  );
  if (problem !== undefined) {
    throw new ConfigError(
      `RM_CADES_LEVEL=B-LT: ${problem} (add it to the signer's chain or to RM_TRUST_DIR)`,
    );
  }
  return new ProofSigner(keys.signer, {
    tsa,
    level: 'B-LT',
    extraCertificates,
    heldCrls: () => revocation?.heldCrls().map((crl) => crl.der) ?? [],
  });
}
