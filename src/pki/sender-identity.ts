import { isValidCbe, normaliseCbe } from '../domain/identifiers/cbe';
import { NotAuthorizedError } from '../errors/faults';
import { certificateDigest } from './certificate-digest';
import { x509 } from './crypto-engines';
import { LruCache } from './lru-cache';
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

/** How many certificates' identities (or reasons for having none) are remembered. */
export const SENDER_IDENTITY_CACHE_SIZE = 1000;

/** What a certificate's subject gave: the identity, or why it names none. */
interface CachedIdentity {
  der: Buffer;
  outcome: { identity: SenderIdentity } | { refusal: string };
}

// A pure function of the DER, asked only of certificates already trusted: every outcome is remembered.
const identities = new LruCache<CachedIdentity>(SENDER_IDENTITY_CACHE_SIZE);

/**
 * Reads the sender's identity from a (trusted) certificate subject: the CBE from the OU
 * `urn:be:fgov:kbo-bce:organization:cbe-number:<CBE>` (9 digits get a leading 0), the application id
 * from the CN, the environment from an OU among PRD, ACC, INT, TST, DEV, SIM.
 * @throws NotAuthorizedError (SOA-01002) when the subject names no valid CBE, no usable CN, or is
 *   ambiguous (two CBEs, two CNs, two environments)
 */
export function senderIdentityFromCertificate(certificateDer: Buffer): SenderIdentity {
  const digest = certificateDigest(certificateDer);
  let cached = identities.get(digest);
  if (cached === undefined || !cached.der.equals(certificateDer)) {
    cached = { der: Buffer.from(certificateDer), outcome: readSenderIdentity(certificateDer) };
    identities.set(digest, cached);
  }
  const { outcome } = cached;
  if ('refusal' in outcome) throw new NotAuthorizedError(outcome.refusal);
  return { ...outcome.identity };
}

function readSenderIdentity(certificateDer: Buffer): CachedIdentity['outcome'] {
  try {
    return { identity: identityFromSubject(certificateDer) };
  } catch (error) {
    if (error instanceof NotAuthorizedError) return { refusal: error.reason };
    throw error;
  }
}

function identityFromSubject(certificateDer: Buffer): SenderIdentity {
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
