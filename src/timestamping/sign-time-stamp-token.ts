import {
  CMS_OIDS,
  cmsSignerEncodings,
  encodeAttribute,
  messageDigestAttribute,
  SHA256_DIGEST_ALGORITHMS,
  signAttributes,
  signedDataContentInfo,
  signerInfoTree,
} from '../evidence/cms-encoding';
import type { DocumentSigner } from '../evidence/document-signer';
import { DER_TAG } from '../pki/der';
import {
  contextTag,
  derObjectIdentifier,
  derOctetString,
  derSmallInteger,
  derTree,
  sortByEncoding,
} from '../pki/der-writer';
import { TSP_OIDS } from './rfc3161';

/*
 * The TimeStampToken of RFC 3161 section 2.4.2: a ContentInfo holding a SignedData whose encapsulated
 * content is the TSTInfo (id-ct-TSTInfo), signed through a DocumentSigner (SHA-256, RSA PKCS#1 v1.5).
 * Its signed attributes are content-type (id-ct-TSTInfo), message-digest and signing-certificate-v2
 * (RFC 5816: ESSCertIDv2 with SHA-256), as one DER SET sorted by encoding. Everything is written
 * directly as DER, what depends only on the signer once per signer (cms-encoding.ts), so the token is
 * DER throughout and its certificates appear byte for byte.
 */

const CONTENT_TYPE_TST_INFO_ATTRIBUTE = encodeAttribute(CMS_OIDS.contentType, [
  derObjectIdentifier(TSP_OIDS.tstInfo),
]);
const TST_INFO_OID = derObjectIdentifier(TSP_OIDS.tstInfo);

/**
 * Signs a TSTInfo and returns the DER of the TimeStampToken.
 * @param tstInfoDer the TSTInfo, DER
 * @param includeCertificates whether SignedData carries the signer's certificate and chain (the
 *   request's certReq), as a SET OF in DER order
 */
export async function signTimeStampToken(
  tstInfoDer: Buffer,
  signer: DocumentSigner,
  includeCertificates: boolean,
): Promise<Buffer> {
  const encodings = cmsSignerEncodings(signer);
  const signed = await signAttributes(signer, [
    CONTENT_TYPE_TST_INFO_ATTRIBUTE,
    messageDigestAttribute(tstInfoDer),
    encodings.signingCertificateV2Attribute,
  ]);

  const signerInfo = signerInfoTree(encodings, signed);
  const certificates = includeCertificates
    ? derTree(contextTag(0), ...sortByEncoding(encodings.certificates)) // [0] IMPLICIT CertificateSet
    : Buffer.alloc(0);
  // Version 3: the encapsulated content is not id-data (RFC 5652 section 5.1).
  const signedData = derTree(
    DER_TAG.sequence,
    derSmallInteger(3),
    SHA256_DIGEST_ALGORITHMS,
    derTree(DER_TAG.sequence, TST_INFO_OID, derTree(contextTag(0), derOctetString(tstInfoDer))),
    certificates,
    derTree(DER_TAG.set, signerInfo),
  );
  return signedDataContentInfo(signedData);
}
