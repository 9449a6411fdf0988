import { DER_TAG, readSingleDerElement } from '../pki/der';
import {
  contextTag,
  derObjectIdentifier,
  derSequence,
  derSmallInteger,
  derSetOf,
  derTime,
  derTree,
} from '../pki/der-writer';
import {
  CMS_OIDS,
  cmsSignerEncodings,
  encodeAttribute,
  messageDigestAttribute,
  SHA256_DIGEST_ALGORITHMS,
  signAttributes,
  signedDataContentInfo,
  signerInfoTree,
} from './cms-encoding';
import type { DocumentSigner } from './document-signer';

/*
 * A detached CMS SignedData (RFC 5652) in the CAdES-BES form the contract describes: SHA-256, RSA,
 * signed attributes content-type, message-digest, signing-time and signing-certificate-v2. It is written
 * directly as DER (pkijs took milliseconds per signature re-encoding certificates); what depends only on
 * the signer is encoded once per signer (cms-encoding.ts). The signed attributes are one DER SET OF
 * sorted by encoding (Bouncy Castle rejects an unsorted SET): exactly those bytes are signed and written,
 * and unsigned attribute values, certificates and CRLs are copied byte for byte (a time-stamp token, a
 * certificate and a CRL are signed structures themselves).
 */

export { CMS_OIDS };

/**
 * An attribute: its type and the encoding (DER) of each of its values. Values reach the output byte for
 * byte: a time-stamp token's own signature depends on it.
 */
export interface CmsAttribute {
  type: string;
  values: Buffer[];
}

/** Optional parts of a detached signature. */
export interface DetachedSignatureOptions {
  /**
   * Computes unsigned attributes from the signature value once it exists: the place for the RFC 3161
   * signature-time-stamp (whose message imprint is the hash of the signature value).
   */
  unsignedAttributes?: (signatureValue: Buffer) => Promise<CmsAttribute[]>;
  /**
   * Computes what SignedData carries for long-term validation (CAdES-B-LT), once the unsigned attributes
   * exist (a time-stamp token names the TSA whose chain belongs there). Without it: the signer's
   * certificate and chain, no CRLs.
   */
  validationData?: (unsignedAttributes: CmsAttribute[]) => Promise<ValidationData>;
}

/** SignedData's `certificates` and `crls` (DER each), written in the given order. */
export interface ValidationData {
  certificates: Buffer[];
  crls: Buffer[];
}

const CONTENT_TYPE_DATA_ATTRIBUTE = encodeAttribute(CMS_OIDS.contentType, [
  derObjectIdentifier(CMS_OIDS.data),
]);
const SIGNING_TIME_OID = derObjectIdentifier(CMS_OIDS.signingTime);
/** `EncapsulatedContentInfo` of a detached signature: id-data, no eContent. */
const DETACHED_DATA = derSequence(derObjectIdentifier(CMS_OIDS.data));
/** Version 1: id-data content, only X.509 certificates and CRLs, issuerAndSerialNumber (RFC 5652 5.1). */
const VERSION_1 = derSmallInteger(1);

/**
 * Signs `content` and returns the DER of a ContentInfo holding a detached SignedData: no eContent
 * (eContentType id-data), the signer's certificate and chain in `certificates`, one SignerInfo
 * (issuerAndSerialNumber, SHA-256, rsaEncryption) whose signature comes from `signer.sign`.
 * @param signingTime written as the signing-time attribute (UTCTime until 2049, then GeneralizedTime)
 * @throws DerError when an unsigned attribute value, a certificate or a CRL is not one DER element
 */
export async function createDetachedCmsSignature(
  content: Buffer,
  signer: DocumentSigner,
  signingTime: Date,
  options: DetachedSignatureOptions = {},
): Promise<Buffer> {
  const encodings = cmsSignerEncodings(signer);
  const signed = await signAttributes(signer, [
    CONTENT_TYPE_DATA_ATTRIBUTE,
    messageDigestAttribute(content),
    derSequence(SIGNING_TIME_OID, derSetOf([derTime(signingTime)])),
    encodings.signingCertificateV2Attribute,
  ]);

  const unsigned = (await options.unsignedAttributes?.(signed.signatureValue)) ?? [];
  const signerInfo = signerInfoTree(
    encodings,
    signed,
    unsigned.map(({ type, values }) => encodeAttribute(type, values)),
  );

  const validation = await options.validationData?.(unsigned);
  const certificates = validation ? validation.certificates : encodings.certificates;
  const crls = validation?.crls ?? [];
  if (validation) for (const value of [...certificates, ...crls]) readSingleDerElement(value);
  const signedData = derTree(
    DER_TAG.sequence,
    VERSION_1,
    SHA256_DIGEST_ALGORITHMS,
    DETACHED_DATA,
    derTree(contextTag(0), ...certificates), // [0] IMPLICIT CertificateSet, in the given order
    crls.length > 0 ? derTree(contextTag(1), ...crls) : Buffer.alloc(0), // [1] IMPLICIT RevocationInfoChoices
    derTree(DER_TAG.set, signerInfo),
  );
  return signedDataContentInfo(signedData);
}
