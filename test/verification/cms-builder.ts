import { createHash, sign, type KeyObject } from 'node:crypto';
import { CMS_OIDS } from '../../src/evidence/cms-detached-signature';
import { DER_TAG, derChildren, readSingleDerElement } from '../../src/pki/der';
import { attribute, context, integer, nullValue, octetString, oid, sequence, set } from './der-builder';

/*
 * A SignedData built by hand, so that tests can make what the service never would: signed attributes
 * in a chosen (unsorted) order, or a time-stamp token signed by a certificate openssl refuses to use.
 */

export const ID_CT_TST_INFO = '1.2.840.113549.1.9.16.1.4';

/** What goes into one SignedData with one SignerInfo (RSA, SHA-256). */
export interface SignedDataSpec {
  eContentType: string;
  /** Encapsulated content; omitted: detached. */
  eContent?: Buffer;
  /** The signed attributes' DER, written and signed in exactly this order. */
  signedAttributes: Buffer[];
  signerKey: KeyObject;
  signerCertificate: Buffer;
  /** More certificates for `certificates` (after the signer's). */
  chain?: Buffer[];
  /** Unsigned attributes from the signature value (e.g. a signature-time-stamp). */
  unsignedAttributes?: (signatureValue: Buffer) => Buffer[];
}

function issuerAndSerial(certificate: Buffer): Buffer {
  const [tbs] = derChildren(readSingleDerElement(certificate), DER_TAG.sequence);
  const fields = derChildren(tbs, DER_TAG.sequence);
  const offset = fields[0].tag === 0xa0 ? 1 : 0;
  return sequence(fields[offset + 2].der, fields[offset].der);
}

const sha256Algorithm = () => sequence(oid(CMS_OIDS.sha256));

/** The DER of a ContentInfo holding the SignedData the spec describes. */
export function buildSignedData(spec: SignedDataSpec): Buffer {
  const signedSet = set(...spec.signedAttributes);
  const signatureValue = sign('sha256', signedSet, spec.signerKey);
  const unsigned = spec.unsignedAttributes?.(signatureValue) ?? [];
  const signerInfo = sequence(
    integer(1),
    issuerAndSerial(spec.signerCertificate),
    sha256Algorithm(),
    context(0, ...spec.signedAttributes),
    sequence(oid(CMS_OIDS.rsaEncryption), nullValue()),
    octetString(signatureValue),
    ...(unsigned.length > 0 ? [context(1, ...unsigned)] : []),
  );
  const encapsulated =
    spec.eContent === undefined
      ? sequence(oid(spec.eContentType))
      : sequence(oid(spec.eContentType), context(0, octetString(spec.eContent)));
  const signedData = sequence(
    integer(spec.eContent === undefined ? 1 : 3),
    set(sha256Algorithm()),
    encapsulated,
    context(0, spec.signerCertificate, ...(spec.chain ?? [])),
    set(signerInfo),
  );
  return sequence(oid(CMS_OIDS.signedData), context(0, signedData));
}

function sha256(data: Buffer): Buffer {
  return createHash('sha256').update(data).digest();
}

/** `SigningCertificateV2` naming a certificate by its SHA-256 hash. */
export function signingCertificateV2(certificate: Buffer): Buffer {
  return attribute(
    CMS_OIDS.signingCertificateV2,
    sequence(sequence(sequence(octetString(sha256(certificate))))),
  );
}

/**
 * A TimeStampToken over an existing TSTInfo, signed by any key and certificate (RFC 3161 layout:
 * content-type id-ct-TSTInfo, message-digest, signing-certificate-v2, sorted as DER requires).
 */
export function timeStampTokenSignedBy(tstInfo: Buffer, key: KeyObject, certificate: Buffer): Buffer {
  return buildSignedData({
    eContentType: ID_CT_TST_INFO,
    eContent: tstInfo,
    signedAttributes: [
      attribute(CMS_OIDS.contentType, oid(ID_CT_TST_INFO)),
      attribute(CMS_OIDS.messageDigest, octetString(sha256(tstInfo))),
      signingCertificateV2(certificate),
    ].sort(Buffer.compare),
    signerKey: key,
    signerCertificate: certificate,
  });
}

/** The signature value and signed attributes (each attribute's DER, in order) of a detached signature. */
export function signerInfoParts(contentInfo: Buffer): { signedAttributes: Buffer[]; certificates: Buffer[] } {
  const [, wrapper] = derChildren(readSingleDerElement(contentInfo), DER_TAG.sequence);
  const [signedData] = derChildren(wrapper);
  const fields = derChildren(signedData, DER_TAG.sequence);
  const certificates = derChildren(fields.find((field) => field.tag === 0xa0)!).map((element) => element.der);
  const [signerInfo] = derChildren(fields[fields.length - 1], DER_TAG.set);
  const signed = derChildren(signerInfo, DER_TAG.sequence).find((field) => field.tag === 0xa0)!;
  return { signedAttributes: derChildren(signed).map((element) => element.der), certificates };
}

/** The TSTInfo (eContent) of a time-stamp token. */
export function tstInfoOf(token: Buffer): Buffer {
  const [, wrapper] = derChildren(readSingleDerElement(token), DER_TAG.sequence);
  const [signedData] = derChildren(wrapper);
  const [, , encapsulated] = derChildren(signedData, DER_TAG.sequence);
  const [, eContent] = derChildren(encapsulated, DER_TAG.sequence);
  return derChildren(eContent)[0].content;
}
