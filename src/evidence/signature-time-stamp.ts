import { createHash } from 'node:crypto';
import { loadPkiLibraries, type PkiLibraries } from '../pki/crypto-engines';
import {
  TimeStampUnavailableError,
  type MessageImprint,
  type TimeStampAuthority,
} from '../timestamping/time-stamp-authority';
import { CMS_OIDS, type CmsAttribute } from './cms-detached-signature';

/*
 * The CAdES signature-time-stamp (ETSI EN 319 122-1 section 5.3, RFC 5126 section 6.1.1): an unsigned
 * attribute whose value is an RFC 3161 TimeStampToken over the SignerInfo's signature value. It proves
 * that the signature existed at the token's genTime, so the proof outlives the signer certificate.
 */

/** id-ct-TSTInfo, the eContentType of a TimeStampToken's SignedData (RFC 3161 section 2.4.2). */
export const TST_INFO_OID = '1.2.840.113549.1.9.16.1.4';

const SHA256_OID = '2.16.840.1.101.3.4.2.1';

/** The imprint a signature-time-stamp covers: SHA-256 of the signature value (the OCTET STRING's content). */
export function signatureTimeStampImprint(signatureValue: Buffer): MessageImprint {
  return { hashAlgorithm: 'SHA-256', digest: createHash('sha256').update(signatureValue).digest() };
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
  const libraries = await loadPkiLibraries();
  const { pkijs } = libraries;
  const contentInfo = pkijs.ContentInfo.fromBER(new Uint8Array(token));
  if (contentInfo.contentType !== CMS_OIDS.signedData) throw new Error('the token is not a SignedData');
  const signedData = new pkijs.SignedData({ schema: contentInfo.content });
  if (signedData.encapContentInfo.eContentType !== TST_INFO_OID) {
    throw new Error('the token does not hold a TSTInfo');
  }
  if (signedData.signerInfos.length !== 1) throw new Error('the token has not exactly one SignerInfo');
  const eContent = signedData.encapContentInfo.eContent;
  if (eContent === undefined) throw new Error('the token holds no TSTInfo');
  const tstInfo = pkijs.TSTInfo.fromBER(octetStringContent(libraries.asn1js, eContent));
  if (tstInfo.messageImprint.hashAlgorithm.algorithmId !== SHA256_OID) {
    throw new Error('the token imprint is not SHA-256');
  }
  const certificates = (signedData.certificates ?? []).flatMap((certificate) =>
    certificate instanceof pkijs.Certificate ? [Buffer.from(certificate.toSchema().toBER(false))] : [],
  );
  const sid = signedData.signerInfos[0].sid as unknown;
  return {
    digest: Buffer.from(tstInfo.messageImprint.hashedMessage.valueBlock.valueHexView),
    genTime: tstInfo.genTime,
    policy: tstInfo.policy,
    certificates,
    identifiesSigner: (certificateDer) => identifies(libraries, sid, certificateDer),
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
  let facts: TimeStampTokenFacts;
  try {
    facts = await readTimeStampToken(token);
  } catch (cause) {
    throw new TimeStampUnavailableError('the TSA answered something that is not a time-stamp token', {
      cause,
    });
  }
  // The TSA checks its reply; this guards the proof against a TSA implementation that does not.
  if (!facts.digest.equals(imprint.digest)) {
    throw new TimeStampUnavailableError('the time-stamp token covers other bytes than the signature value');
  }
  return { type: CMS_OIDS.signatureTimeStampToken, values: [token] };
}

type Asn1Value = InstanceType<PkiLibraries['asn1js']['BaseBlock']>;

/** The content of an OCTET STRING, primitive or (BER) constructed. */
function octetStringContent(asn1js: PkiLibraries['asn1js'], octetString: Asn1Value): Uint8Array {
  if (!(octetString instanceof asn1js.OctetString)) throw new Error('eContent is not an OCTET STRING');
  if (!octetString.idBlock.isConstructed) return octetString.valueBlock.valueHexView;
  const parts = (octetString.valueBlock.value as Asn1Value[]).map((part) =>
    Buffer.from(octetStringContent(asn1js, part)),
  );
  return Buffer.concat(parts);
}

const SUBJECT_KEY_IDENTIFIER_OID = '2.5.29.14';

/** Whether a SignerIdentifier (issuerAndSerialNumber or [0] subjectKeyIdentifier) names the certificate. */
function identifies({ pkijs, asn1js }: PkiLibraries, sid: unknown, certificateDer: Buffer): boolean {
  const certificate = pkijs.Certificate.fromBER(new Uint8Array(certificateDer));
  if (sid instanceof pkijs.IssuerAndSerialNumber) {
    return certificate.issuer.isEqual(sid.issuer) && certificate.serialNumber.isEqual(sid.serialNumber);
  }
  // pkijs keeps a subjectKeyIdentifier SignerIdentifier as the raw [0] block (seen constructed or not).
  const keyId = subjectKeyIdentifierOf(asn1js, sid);
  if (keyId === undefined) return false;
  const extension = certificate.extensions?.find((entry) => entry.extnID === SUBJECT_KEY_IDENTIFIER_OID);
  const parsed = extension?.parsedValue as InstanceType<typeof asn1js.OctetString> | undefined;
  return parsed !== undefined && Buffer.from(parsed.valueBlock.valueHexView).equals(keyId);
}

function subjectKeyIdentifierOf(asn1js: PkiLibraries['asn1js'], sid: unknown): Buffer | undefined {
  if (!(sid instanceof asn1js.BaseBlock)) return undefined;
  const block = sid as Asn1Value & { valueBlock: { value?: Asn1Value[]; valueHexView?: Uint8Array } };
  const inner = block.idBlock.isConstructed ? block.valueBlock.value?.[0] : block;
  const view = (inner as { valueBlock?: { valueHexView?: Uint8Array } } | undefined)?.valueBlock
    ?.valueHexView;
  return view === undefined ? undefined : Buffer.from(view);
}
