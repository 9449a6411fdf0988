import { isValidCbe, normaliseCbe } from '../domain/identifiers/cbe';
import { NotAuthorizedError } from '../errors/faults';
import { x509 } from './crypto-engines';
import { CBE_OU_PREFIX, isSenderEnvironment } from './sender-subject';

/** Who a sender certificate says the sender is. */
export interface SenderIdentity {
  /** 10-digit CBE / KBO enterprise number with valid check digits. */
  cbe: string;
  /** The subject CN: the sender's application id (1..150 characters). */
  applicationId: string;
  /** The environment OU (PRD, ACC, INT, TST, DEV or SIM) when the subject has one. */
  environment: string | undefined;
}

const CBE_OU = new RegExp(`^${CBE_OU_PREFIX.replace(/[.*+?^${}()|[\]\\]/g, '\\$&')}(\\d{9}|\\d{10})$`, 'i');
const MAX_APPLICATION_ID = 150;

/**
 * Reads the sender's identity from a (trusted) certificate subject: the CBE from the OU
 * `urn:be:fgov:kbo-bce:organization:cbe-number:<CBE>` (9 digits get a leading 0), the application id
 * from the CN, the environment from an OU among PRD, ACC, INT, TST, DEV, SIM.
 * @throws NotAuthorizedError (SOA-01002) when the subject names no valid CBE, no usable CN, or is
 *   ambiguous (two CBEs, two CNs, two environments)
 */
export function senderIdentityFromCertificate(certificateDer: Buffer): SenderIdentity {
  let subject: InstanceType<typeof x509.Name>;
  try {
    subject = new x509.X509Certificate(new Uint8Array(certificateDer)).subjectName;
  } catch {
    throw new NotAuthorizedError('sender certificate cannot be parsed');
  }
  const units = subject.getField('OU');

  const cbeNumbers = [
    ...new Set(units.flatMap((unit) => CBE_OU.exec(unit.trim())?.[1] ?? []).map(normaliseCbe)),
  ];
  if (cbeNumbers.length === 0)
    throw new NotAuthorizedError('sender certificate subject has no CBE number OU');
  if (cbeNumbers.length > 1)
    throw new NotAuthorizedError('sender certificate subject has several CBE numbers');
  const [cbe] = cbeNumbers;
  if (!isValidCbe(cbe)) throw new NotAuthorizedError(`sender certificate CBE number ${cbe} is not valid`);

  const commonNames = subject.getField('CN');
  if (commonNames.length !== 1) {
    throw new NotAuthorizedError(`sender certificate subject must have one CN, has ${commonNames.length}`);
  }
  const [applicationId] = commonNames;
  if (applicationId.length < 1 || applicationId.length > MAX_APPLICATION_ID) {
    throw new NotAuthorizedError(`sender certificate CN must be 1..${MAX_APPLICATION_ID} characters`);
  }

  const environments = [
    ...new Set(units.map((unit) => unit.trim().toUpperCase()).filter(isSenderEnvironment)),
  ];
  if (environments.length > 1) {
    throw new NotAuthorizedError('sender certificate subject has several environment OUs');
  }
  return { cbe, applicationId, environment: environments[0] };
}
