import {
  decodeInteger,
  decodeObjectIdentifier,
  DER_TAG,
  derChildren,
  DerError,
  readSingleDerElement,
} from '../pki/der';

const SUBJECT_KEY_IDENTIFIER = '2.5.29.14';

/** The parts of a certificate that identify it in CMS, as their own DER encodings. */
export interface CertificateFields {
  /** DER of the issuer Name. */
  issuerDer: Buffer;
  /** DER of the serialNumber INTEGER. */
  serialNumberDer: Buffer;
  serialNumber: bigint;
  /** DER of the subject Name. */
  subjectDer: Buffer;
  /** The subjectKeyIdentifier extension's key identifier, if the certificate has one. */
  subjectKeyIdentifier: Buffer | undefined;
}

/**
 * Reads issuer, serial number, subject and subject key identifier of a DER certificate.
 * @throws DerError when it is not a DER certificate
 */
export function readCertificateFields(certificateDer: Buffer): CertificateFields {
  const [tbs] = derChildren(readSingleDerElement(certificateDer), DER_TAG.sequence);
  if (tbs === undefined) throw new DerError('no TBSCertificate');
  const fields = derChildren(tbs, DER_TAG.sequence);
  // [0] EXPLICIT Version DEFAULT v1
  const [serial, , issuer, , subject, , ...optional] = fields[0]?.tag === 0xa0 ? fields.slice(1) : fields;
  if (serial === undefined || issuer === undefined || subject === undefined)
    throw new DerError('truncated TBSCertificate');
  const extensions = optional.find((element) => element.tag === 0xa3);
  let subjectKeyIdentifier: Buffer | undefined;
  for (const extension of extensions ? derChildren(derChildren(extensions)[0], DER_TAG.sequence) : []) {
    const parts = derChildren(extension, DER_TAG.sequence);
    const value = parts[parts.length - 1];
    if (parts[0]?.tag !== DER_TAG.objectIdentifier || value?.tag !== DER_TAG.octetString) continue;
    if (decodeObjectIdentifier(parts[0].content) === SUBJECT_KEY_IDENTIFIER) {
      const keyIdentifier = readSingleDerElement(value.content);
      if (keyIdentifier.tag === DER_TAG.octetString)
        subjectKeyIdentifier = Buffer.from(keyIdentifier.content);
    }
  }
  return {
    issuerDer: Buffer.from(issuer.der),
    serialNumberDer: Buffer.from(serial.der),
    serialNumber: decodeInteger(serial),
    subjectDer: Buffer.from(subject.der),
    subjectKeyIdentifier,
  };
}
