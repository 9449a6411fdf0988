import { createHash, verify } from 'node:crypto';
import type { Clock } from '../clock/clock';
import { CMS_OIDS } from '../evidence/cms-detached-signature';
import { certificatePublicKey } from '../pki/certificate-public-key';
import { CertificateValidator } from '../pki/certificate-validator';
import {
  decodeInteger,
  decodeObjectIdentifier,
  DER_TAG,
  derChildren,
  DerError,
  type DerElement,
} from '../pki/der';
import { readCertificateFields } from './certificate-fields';
import { IMPRINT_HASHES, TSP_OIDS } from './rfc3161';
import type { MessageImprint } from './time-stamp-authority';
import type { DecodedTstInfo } from './time-stamp-codec';
import { algorithmOid, parseTimeStampToken, type ParsedTimeStampToken } from './time-stamp-token';
import { timeStampingCertificateProblem } from './tsa-certificate';

/*
 * The checks a time-stamp token passes before it is used: what it time-stamps (imprint, nonce, policy),
 * that its TSA signed it (content-type, message-digest, signature, signing certificate), that the TSA
 * may time-stamp (extended key usage timeStamping, critical) and is trusted (a path to a TSA trust
 * anchor), and that its time is plausible. The first failure ends the check with a precise message.
 */

/** A token that fails a check; the message says which check and why. */
export class InvalidTimeStampTokenError extends Error {
  constructor(message: string, options?: { cause?: unknown }) {
    super(message, options);
    this.name = 'InvalidTimeStampTokenError';
  }
}

/** What a token must show. */
export interface TokenExpectations {
  imprint: MessageImprint;
  /** The request's nonce; when given, the token must echo it. */
  nonce?: bigint;
  /** When given, the token's policy must be this one. */
  policy?: string;
  /** CA certificates (DER) trusted for TSA certificates. */
  trustAnchors: readonly Buffer[];
  /** Gives the time the TSA certificate must be valid at and genTime must be near. */
  clock: Clock;
  /** How far genTime may be from the clock, either way. */
  maxClockSkewMs: number;
}

/** A token that passed every check. */
export interface VerifiedTimeStampToken {
  tstInfo: DecodedTstInfo;
  /** DER of the TSA certificate. */
  tsaCertificate: Buffer;
  /** The path from the TSA certificate (first) to its trust anchor (last), DER. */
  chain: Buffer[];
}

/**
 * Runs every check of a token, in order: structure, version, imprint, nonce, policy, signature and
 * signing certificate ({@link checkTokenSignature}), TSA certificate usage, path to a trust anchor,
 * genTime.
 * @throws InvalidTimeStampTokenError naming the first check that fails
 */
export async function verifyTimeStampToken(
  token: Buffer,
  expectations: TokenExpectations,
): Promise<VerifiedTimeStampToken> {
  let parsed: ParsedTimeStampToken;
  try {
    parsed = parseTimeStampToken(token);
  } catch (error) {
    throw new InvalidTimeStampTokenError(`the token does not parse: ${messageOf(error)}`, { cause: error });
  }
  const { tstInfo } = parsed;
  if (tstInfo.version !== 1n)
    throw new InvalidTimeStampTokenError(`TSTInfo version ${tstInfo.version}, not 1`);
  checkImprint(tstInfo, expectations.imprint);
  if (expectations.nonce !== undefined && tstInfo.nonce !== expectations.nonce) {
    throw new InvalidTimeStampTokenError(
      tstInfo.nonce === undefined
        ? 'the token does not echo the request nonce'
        : 'the token nonce is not the request nonce',
    );
  }
  if (expectations.policy !== undefined && tstInfo.policy !== expectations.policy) {
    throw new InvalidTimeStampTokenError(
      `the token policy ${tstInfo.policy} is not the requested ${expectations.policy}`,
    );
  }

  const tsaCertificate = checkTokenSignature(parsed);
  const usageProblem = timeStampingCertificateProblem(tsaCertificate);
  if (usageProblem !== undefined)
    throw new InvalidTimeStampTokenError(`the TSA certificate cannot time-stamp: ${usageProblem}`);
  const verdict = await new CertificateValidator(expectations.trustAnchors, expectations.clock).validate(
    tsaCertificate,
    parsed.certificates,
  );
  if (!verdict.valid)
    throw new InvalidTimeStampTokenError(`the TSA certificate is not trusted: ${verdict.reason}`);

  const skew = tstInfo.genTime.getTime() - expectations.clock.now().getTime();
  if (Math.abs(skew) > expectations.maxClockSkewMs) {
    throw new InvalidTimeStampTokenError(
      `the token genTime ${tstInfo.genTime.toISOString()} is ${Math.round(Math.abs(skew) / 1000)} s ` +
        `${skew > 0 ? 'ahead of' : 'behind'} the service clock (at most ${expectations.maxClockSkewMs} ms allowed)`,
    );
  }
  return { tstInfo, tsaCertificate, chain: verdict.chain };
}

function checkImprint(tstInfo: DecodedTstInfo, expected: MessageImprint): void {
  const { imprint } = tstInfo;
  if (
    imprint.hashAlgorithmOid !== IMPRINT_HASHES[expected.hashAlgorithm].oid ||
    !imprint.parametersAbsentOrNull
  )
    throw new InvalidTimeStampTokenError(
      `the token imprint uses hash algorithm ${imprint.hashAlgorithmOid}, not the requested ${expected.hashAlgorithm}`,
    );
  if (!imprint.digest.equals(expected.digest))
    throw new InvalidTimeStampTokenError(
      'the token imprint is not the requested one (it time-stamps other data)',
    );
}

/* ---------------------------------------------------------------------------------------------- */
/* Signature                                                                                       */
/* ---------------------------------------------------------------------------------------------- */

/** Digest OIDs accepted for the SignerInfo (SHA-1 is not). */
function digestName(oid: string): string | undefined {
  return Object.values(IMPRINT_HASHES).find((hash) => hash.oid === oid)?.nodeName;
}

/** Signature algorithms accepted: RSA PKCS#1 v1.5 and ECDSA, with the key type each needs. */
const SIGNATURE_ALGORITHMS: Readonly<Record<string, { keyType: 'rsa' | 'ec'; digest?: string }>> = {
  [CMS_OIDS.rsaEncryption]: { keyType: 'rsa' },
  '1.2.840.113549.1.1.11': { keyType: 'rsa', digest: 'sha256' },
  '1.2.840.113549.1.1.12': { keyType: 'rsa', digest: 'sha384' },
  '1.2.840.113549.1.1.13': { keyType: 'rsa', digest: 'sha512' },
  '1.2.840.10045.4.3.2': { keyType: 'ec', digest: 'sha256' },
  '1.2.840.10045.4.3.3': { keyType: 'ec', digest: 'sha384' },
  '1.2.840.10045.4.3.4': { keyType: 'ec', digest: 'sha512' },
};

/**
 * Checks that the token's TSA signed it: the signer certificate is in the token; content-type is
 * id-ct-TSTInfo; message-digest is the digest of the TSTInfo; the signature over the signed attributes
 * verifies with the certificate's key; signing-certificate-v2 (or, from older TSAs, signing-certificate)
 * names that certificate.
 * @param knownCertificates where to look for the signer certificate besides the token's own (a token
 *   issued without certReq carries none)
 * @returns DER of the TSA certificate
 * @throws InvalidTimeStampTokenError naming the check that fails
 */
export function checkTokenSignature(
  token: ParsedTimeStampToken,
  knownCertificates: readonly Buffer[] = [],
): Buffer {
  const { signerInfo } = token;
  const certificate = signerCertificate(token, knownCertificates);

  const digest = digestName(signerInfo.digestAlgorithmOid);
  if (digest === undefined)
    throw new InvalidTimeStampTokenError(
      `unsupported signer digest algorithm ${signerInfo.digestAlgorithmOid}`,
    );
  const contentType = singleValue(token, CMS_OIDS.contentType, 'content-type');
  if (
    contentType.tag !== DER_TAG.objectIdentifier ||
    decodeObjectIdentifier(contentType.content) !== TSP_OIDS.tstInfo
  )
    throw new InvalidTimeStampTokenError('the content-type signed attribute is not id-ct-TSTInfo');
  const messageDigest = singleValue(token, CMS_OIDS.messageDigest, 'message-digest');
  if (
    messageDigest.tag !== DER_TAG.octetString ||
    !messageDigest.content.equals(createHash(digest).update(token.tstInfoDer).digest())
  )
    throw new InvalidTimeStampTokenError('the message-digest signed attribute does not match the TSTInfo');

  const algorithm = SIGNATURE_ALGORITHMS[signerInfo.signatureAlgorithmOid];
  if (algorithm === undefined)
    throw new InvalidTimeStampTokenError(
      `unsupported signature algorithm ${signerInfo.signatureAlgorithmOid}`,
    );
  // Parsed once per certificate: the embedded TSA checks every token it signs with the same one.
  const publicKey = certificatePublicKey(certificate);
  if (publicKey === undefined) throw new InvalidTimeStampTokenError('the TSA certificate cannot be read');
  if (publicKey.asymmetricKeyType !== algorithm.keyType)
    throw new InvalidTimeStampTokenError('the signature algorithm does not fit the TSA certificate key');
  let valid: boolean;
  try {
    valid = verify(
      algorithm.digest ?? digest,
      signerInfo.signedAttributesDer,
      publicKey,
      signerInfo.signature,
    );
  } catch (error) {
    throw new InvalidTimeStampTokenError(`the token signature cannot be checked: ${messageOf(error)}`);
  }
  if (!valid)
    throw new InvalidTimeStampTokenError('the token signature does not verify with the TSA certificate');

  checkSigningCertificate(token, certificate);
  return certificate;
}

/** Whether the token's SignerInfo (issuer and serial, or subject key identifier) names the certificate. */
export function identifiesTokenSigner(token: ParsedTimeStampToken, certificateDer: Buffer): boolean {
  const identifier = token.signerInfo.signerIdentifier;
  let fields: ReturnType<typeof readCertificateFields>;
  try {
    fields = readCertificateFields(certificateDer);
  } catch {
    return false;
  }
  return 'subjectKeyIdentifier' in identifier
    ? fields.subjectKeyIdentifier?.equals(identifier.subjectKeyIdentifier) === true
    : fields.serialNumber === identifier.serialNumber && fields.issuerDer.equals(identifier.issuerDer);
}

function signerCertificate(token: ParsedTimeStampToken, knownCertificates: readonly Buffer[]): Buffer {
  const matches = [...token.certificates, ...knownCertificates].filter((der) =>
    identifiesTokenSigner(token, der),
  );
  if (matches.length === 0)
    throw new InvalidTimeStampTokenError('the token does not carry the TSA certificate');
  return matches[0];
}

function singleValue(token: ParsedTimeStampToken, type: string, name: string): DerElement {
  const attributes = token.signerInfo.signedAttributes.filter((attribute) => attribute.type === type);
  if (attributes.length !== 1 || attributes[0].values.length !== 1)
    throw new InvalidTimeStampTokenError(
      `the token needs exactly one ${name} signed attribute with one value`,
    );
  return attributes[0].values[0];
}

/**
 * RFC 5816 / RFC 5035: the first ESSCertIDv2 of signing-certificate-v2 (or ESSCertID of the older
 * signing-certificate, SHA-1) identifies the signer certificate by hash and, when present, issuer and
 * serial number.
 */
function checkSigningCertificate(token: ParsedTimeStampToken, certificate: Buffer): void {
  const { signedAttributes } = token.signerInfo;
  const v2 = signedAttributes.find((attribute) => attribute.type === CMS_OIDS.signingCertificateV2);
  const v1 = signedAttributes.find((attribute) => attribute.type === TSP_OIDS.signingCertificate);
  const attribute = v2 ?? v1;
  if (attribute === undefined)
    throw new InvalidTimeStampTokenError('the token has no signing-certificate-v2 signed attribute');
  const name = v2 ? 'signing-certificate-v2' : 'signing-certificate';
  try {
    if (attribute.values.length !== 1) throw new DerError('one value expected');
    const [certs] = derChildren(attribute.values[0], DER_TAG.sequence);
    const [first] = derChildren(certs, DER_TAG.sequence);
    const parts = derChildren(first, DER_TAG.sequence);
    let hashName = v2 ? 'sha256' : 'sha1';
    if (v2 && parts[0]?.tag === DER_TAG.sequence) {
      const essHash = digestName(algorithmOid(parts.shift() as DerElement));
      if (essHash === undefined) throw new DerError('unsupported ESSCertIDv2 hash algorithm');
      hashName = essHash;
    }
    const [hash, issuerSerial] = parts;
    if (hash?.tag !== DER_TAG.octetString) throw new DerError('no certificate hash');
    if (!hash.content.equals(createHash(hashName).update(certificate).digest()))
      throw new InvalidTimeStampTokenError(
        `the ${name} attribute names another certificate than the signer's`,
      );
    if (issuerSerial !== undefined) checkIssuerSerial(issuerSerial, certificate, name);
  } catch (error) {
    if (error instanceof InvalidTimeStampTokenError) throw error;
    throw new InvalidTimeStampTokenError(`malformed ${name} attribute: ${messageOf(error)}`);
  }
}

/** `IssuerSerial ::= SEQUENCE { issuer GeneralNames, serialNumber CertificateSerialNumber }`. */
function checkIssuerSerial(issuerSerial: DerElement, certificate: Buffer, name: string): void {
  const [generalNames, serial] = derChildren(issuerSerial, DER_TAG.sequence);
  const fields = readCertificateFields(certificate);
  const directoryNames = derChildren(generalNames, DER_TAG.sequence)
    .filter((generalName) => generalName.tag === 0xa4)
    .map((generalName) => derChildren(generalName)[0]?.der);
  if (
    decodeInteger(serial) !== fields.serialNumber ||
    !directoryNames.some((issuer) => issuer?.equals(fields.issuerDer) === true)
  )
    throw new InvalidTimeStampTokenError(`the ${name} issuer and serial are not the signer certificate's`);
}

function messageOf(error: unknown): string {
  return error instanceof Error ? error.message : String(error);
}
