import { hash } from 'node:crypto';
import {
  TimeStampUnavailableError,
  type MessageImprint,
  type TimeStampAuthority,
} from '../timestamping/time-stamp-authority';
import { IMPRINT_HASHES } from '../timestamping/rfc3161';
import type { DecodedMessageImprint } from '../timestamping/time-stamp-codec';
import { parseTimeStampToken, readTokenImprint } from '../timestamping/time-stamp-token';
import { identifiesTokenSigner } from '../timestamping/verify-time-stamp-token';
import { CMS_OIDS, type CmsAttribute } from './cms-detached-signature';

/*
 * The CAdES signature-time-stamp (ETSI EN 319 122-1 section 5.3, RFC 5126 section 6.1.1): an unsigned
 * attribute whose value is an RFC 3161 TimeStampToken over the SignerInfo's signature value. It proves
 * that the signature existed at the token's genTime, so the proof outlives the signer certificate.
 */

/** The imprint a signature-time-stamp covers: SHA-256 of the signature value (the OCTET STRING's content). */
export function signatureTimeStampImprint(signatureValue: Buffer): MessageImprint {
  return { hashAlgorithm: 'SHA-256', digest: hash('sha256', signatureValue, 'buffer') };
}

/** What {@link readTimeStampToken} reads from a token. */
export interface TimeStampTokenFacts {
  /** The imprint stated by the TSTInfo (SHA-256 only: nothing else is asked for here). */
  digest: Buffer;
  genTime: Date;
  /** The TSA policy the token was issued under (dotted OID). */
  policy: string;
  /** The certificates the token's SignedData carries (DER). */
  certificates: Buffer[];
  /** The SignerInfo's identifier, to find the TSA certificate among candidates. */
  identifiesSigner(certificateDer: Buffer): boolean;
}

/**
 * Reads a TimeStampToken: a ContentInfo holding a SignedData over a TSTInfo, with one SignerInfo.
 * Checks nothing cryptographic (the TSA did): it is for comparing the imprint and finding the TSA.
 * @throws Error when the bytes are not such a token
 */
export async function readTimeStampToken(token: Buffer): Promise<TimeStampTokenFacts> {
  const parsed = parseTimeStampToken(token);
  if (parsed.tstInfo.imprint.hashAlgorithmOid !== IMPRINT_HASHES['SHA-256'].oid)
    throw new Error('the token imprint is not SHA-256');
  return {
    digest: parsed.tstInfo.imprint.digest,
    genTime: parsed.tstInfo.genTime,
    policy: parsed.tstInfo.policy,
    certificates: parsed.certificates,
    identifiesSigner: (certificateDer) => identifiesTokenSigner(parsed, certificateDer),
  };
}

/**
 * Asks the TSA for a token over the signature value and returns it as the signature-time-stamp
 * attribute, after checking that the token states that imprint.
 * @throws TimeStampUnavailableError when the TSA gives no token, or one over other bytes
 */
export async function signatureTimeStampAttribute(
  tsa: TimeStampAuthority,
  signatureValue: Buffer,
): Promise<CmsAttribute> {
  const imprint = signatureTimeStampImprint(signatureValue);
  const token = await tsa.timestamp(imprint);
  let stated: DecodedMessageImprint;
  try {
    stated = readTokenImprint(token);
  } catch (cause) {
    throw new TimeStampUnavailableError('the TSA answered something that is not a time-stamp token', {
      cause,
    });
  }
  // The TSA checks its reply; this guards the proof against a TSA implementation that does not.
  if (
    stated.hashAlgorithmOid !== IMPRINT_HASHES[imprint.hashAlgorithm].oid ||
    !stated.digest.equals(imprint.digest)
  ) {
    throw new TimeStampUnavailableError('the time-stamp token covers other bytes than the signature value');
  }
  return { type: CMS_OIDS.signatureTimeStampToken, values: [token] };
}
