import { attributeInstances, singleAttributeValue, VERIFICATION_OIDS } from '../cms-signed-data';
import { shortName } from '../certificate-facts';
import { essCertIdMismatch, readEssCertIds } from '../ess-signing-certificate';
import type { ProofEvidence } from '../proof-evidence';
import { fail, pass, type CheckResult } from '../verification-report';
import { notChecked } from './not-checked';

const ID = 'signing-certificate';

/**
 * signing-certificate-v2: the signed attribute's first ESSCertIDv2 is the hash (and issuer and serial,
 * when given) of the signer certificate, so the signature cannot be re-attributed to another certificate.
 */
export function checkSigningCertificate(evidence: ProofEvidence): CheckResult {
  if (!evidence.signature.ok) return notChecked(ID, evidence.signature.problem);
  if (!evidence.signerCertificate.ok) return notChecked(ID, evidence.signerCertificate.problem);
  const { signerInfo } = evidence.signature.value;
  const certificate = evidence.signerCertificate.value;
  const attribute = singleAttributeValue(
    signerInfo.signedAttributes,
    VERIFICATION_OIDS.signingCertificateV2,
    'signing-certificate-v2',
  );
  if ('problem' in attribute) {
    const legacy =
      attributeInstances(signerInfo.signedAttributes, VERIFICATION_OIDS.signingCertificate).length > 0;
    return fail(
      ID,
      legacy
        ? `${attribute.problem} (only the SHA-1 signing-certificate, which CAdES does not accept)`
        : attribute.problem,
    );
  }
  let ids;
  try {
    ids = readEssCertIds(attribute.value, 2);
  } catch (error) {
    return fail(ID, error instanceof Error ? error.message : 'malformed signing-certificate-v2');
  }
  const mismatch = essCertIdMismatch(ids, certificate);
  if (mismatch) return fail(ID, `signing-certificate-v2 does not name the signer certificate: ${mismatch}`);
  const parts = ids[0].issuerSerial ? 'hash, issuer and serial number' : 'hash';
  return pass(
    ID,
    `ESSCertIDv2 (${ids[0].hashAlgorithm.name}) matches the signer certificate ${shortName(certificate)} (${parts})`,
  );
}
