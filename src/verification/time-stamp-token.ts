import {
  decodeInteger,
  decodeObjectIdentifier,
  DER_TAG,
  derChildren,
  DerError,
  readSingleDerElement,
  type DerElement,
} from '../pki/der';
import {
  algorithmOf,
  decodeDerTime,
  parseSignedData,
  ProofFormatError,
  VERIFICATION_OIDS,
  type ParsedSignedData,
  type ParsedSignerInfo,
} from './cms-signed-data';

/*
 * An RFC 3161 TimeStampToken: a SignedData whose encapsulated content is a DER TSTInfo.
 */

/** The fields of a TSTInfo the verification reads. */
export interface TstInfo {
  policy: string;
  /** The OID of the message imprint's hash algorithm. */
  imprintAlgorithm: string;
  hashedMessage: Buffer;
  serialNumber: bigint;
  genTime: Date;
  /** The accuracy in milliseconds; undefined when the token gives none. */
  accuracyMilliseconds?: number;
}

/** A parsed time-stamp token. */
export interface TimeStampToken {
  der: Buffer;
  signedData: ParsedSignedData;
  signerInfo: ParsedSignerInfo;
  /** The DER TSTInfo (the eContent the TSA signed). */
  tstInfoDer: Buffer;
  tstInfo: TstInfo;
}

function readAccuracy(element: DerElement): number {
  let milliseconds = 0;
  for (const field of derChildren(element, DER_TAG.sequence)) {
    const value = Number(decodeInteger({ ...field, tag: DER_TAG.integer }));
    if (field.tag === DER_TAG.integer) milliseconds += value * 1000;
    else if (field.tag === 0x80) milliseconds += value;
    else if (field.tag === 0x81) milliseconds += value / 1000;
  }
  return milliseconds;
}

function readTstInfo(der: Buffer): TstInfo {
  const [version, policy, imprint, serial, genTime, ...optional] = derChildren(
    readSingleDerElement(der),
    DER_TAG.sequence,
  );
  if (version?.tag !== DER_TAG.integer || decodeInteger(version) !== 1n) {
    throw new ProofFormatError('TSTInfo version is not 1');
  }
  if (policy?.tag !== DER_TAG.objectIdentifier) throw new ProofFormatError('TSTInfo without policy');
  const [imprintAlgorithm, hashedMessage] = derChildren(imprint, DER_TAG.sequence);
  if (hashedMessage?.tag !== DER_TAG.octetString) throw new ProofFormatError('malformed MessageImprint');
  if (genTime?.tag !== 0x18) throw new ProofFormatError('TSTInfo genTime is not a GeneralizedTime');
  const accuracy = optional.find((element) => element.tag === DER_TAG.sequence);
  return {
    policy: decodeObjectIdentifier(policy.content),
    imprintAlgorithm: algorithmOf(imprintAlgorithm, 'MessageImprint hashAlgorithm'),
    hashedMessage: hashedMessage.content,
    serialNumber: decodeInteger(serial),
    genTime: decodeDerTime(genTime),
    accuracyMilliseconds: accuracy === undefined ? undefined : readAccuracy(accuracy),
  };
}

/**
 * Reads a TimeStampToken (the DER of its ContentInfo).
 * @throws ProofFormatError when it is not a SignedData over a TSTInfo with one SignerInfo
 */
export function parseTimeStampToken(der: Buffer): TimeStampToken {
  const signedData = parseSignedData(der);
  if (signedData.eContentType !== VERIFICATION_OIDS.tstInfo) {
    throw new ProofFormatError(`the token's content type is ${signedData.eContentType}, not id-ct-TSTInfo`);
  }
  if (signedData.eContent === undefined) throw new ProofFormatError('the token carries no TSTInfo');
  if (signedData.signerInfos.length !== 1) {
    throw new ProofFormatError(`the token has ${signedData.signerInfos.length} SignerInfos (one expected)`);
  }
  let tstInfo: TstInfo;
  try {
    tstInfo = readTstInfo(signedData.eContent);
  } catch (error) {
    if (error instanceof ProofFormatError) throw error;
    throw new ProofFormatError(`malformed TSTInfo${error instanceof DerError ? `: ${error.message}` : ''}`);
  }
  return { der, signedData, signerInfo: signedData.signerInfos[0], tstInfoDer: signedData.eContent, tstInfo };
}
