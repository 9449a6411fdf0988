import { createHash } from 'node:crypto';
import {
  CMS_OIDS,
  derSetOf,
  encodeAttribute,
  signingCertificateV2,
  sortByEncoding,
} from '../evidence/cms-detached-signature';
import type { DocumentSigner } from '../evidence/document-signer';
import { loadPkiLibraries, type Pkijs } from '../pki/crypto-engines';
import { readCertificateFields } from './certificate-fields';
import {
  derNull,
  derObjectIdentifier,
  derOctetString,
  derSequence,
  derSmallInteger,
  derTlv,
} from './der-writer';
import { TSP_OIDS } from './rfc3161';

/*
 * The TimeStampToken of RFC 3161 section 2.4.2: a ContentInfo holding a SignedData whose encapsulated
 * content is the TSTInfo (id-ct-TSTInfo), signed through a DocumentSigner (SHA-256, RSA PKCS#1 v1.5).
 * Its signed attributes are content-type (id-ct-TSTInfo), message-digest and signing-certificate-v2
 * (RFC 5816: ESSCertIDv2 with SHA-256), as one DER SET sorted by encoding, encoded by the helpers of the
 * detached CMS signature. The rest is written directly as DER, so the token is DER throughout and its
 * certificates appear byte for byte.
 */

type PkijsCertificate = InstanceType<Pkijs['Certificate']>;

/** Parsing with pkijs costs milliseconds, and a signer's certificate never changes. */
const parsedBySigner = new WeakMap<DocumentSigner, PkijsCertificate>();

/**
 * Signs a TSTInfo and returns the DER of the TimeStampToken.
 * @param tstInfoDer the TSTInfo, DER
 * @param includeCertificates whether SignedData carries the signer's certificate and chain (the
 *   request's certReq)
 */
export async function signTimeStampToken(
  tstInfoDer: Buffer,
  signer: DocumentSigner,
  includeCertificates: boolean,
): Promise<Buffer> {
  const libraries = await loadPkiLibraries();
  const { pkijs, asn1js } = libraries;
  let certificate = parsedBySigner.get(signer);
  if (certificate === undefined) {
    certificate = pkijs.Certificate.fromBER(new Uint8Array(signer.certificate));
    parsedBySigner.set(signer, certificate);
  }

  const signedAttributes = sortByEncoding([
    encodeAttribute(asn1js, CMS_OIDS.contentType, [new asn1js.ObjectIdentifier({ value: TSP_OIDS.tstInfo })]),
    encodeAttribute(asn1js, CMS_OIDS.messageDigest, [
      new asn1js.OctetString({ valueHex: createHash('sha256').update(tstInfoDer).digest() }),
    ]),
    encodeAttribute(asn1js, CMS_OIDS.signingCertificateV2, [
      signingCertificateV2(libraries, signer.certificate, certificate),
    ]),
  ]);
  const signature = await signer.sign(derSetOf(signedAttributes));

  const { issuerDer, serialNumberDer } = readCertificateFields(signer.certificate);
  const sha256 = derSequence(derObjectIdentifier(CMS_OIDS.sha256));
  const signerInfo = derSequence(
    derSmallInteger(1),
    derSequence(issuerDer, serialNumberDer),
    sha256,
    derTlv(0xa0, ...signedAttributes), // [0] IMPLICIT SET OF Attribute
    derSequence(derObjectIdentifier(CMS_OIDS.rsaEncryption), derNull()),
    derOctetString(signature),
  );
  const certificates = includeCertificates
    ? derTlv(0xa0, ...sortByEncoding([signer.certificate, ...signer.chain])) // [0] IMPLICIT CertificateSet
    : Buffer.alloc(0);
  // Version 3: the encapsulated content is not id-data (RFC 5652 section 5.1).
  const signedData = derSequence(
    derSmallInteger(3),
    derTlv(0x31, sha256),
    derSequence(derObjectIdentifier(TSP_OIDS.tstInfo), derTlv(0xa0, derOctetString(tstInfoDer))),
    certificates,
    derTlv(0x31, signerInfo),
  );
  return derSequence(derObjectIdentifier(CMS_OIDS.signedData), derTlv(0xa0, signedData));
}
