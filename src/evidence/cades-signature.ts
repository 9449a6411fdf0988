import { X509Certificate } from 'node:crypto';
import { DER_TAG, derChildren, DerError, readSingleDerElement } from '../pki/der';
import { nameFromDer, sameName } from '../pki/distinguished-name';
import { readCertificateFields } from '../timestamping/certificate-fields';
import type { TimeStampAuthority } from '../timestamping/time-stamp-authority';
import {
  CMS_OIDS,
  createDetachedCmsSignature,
  type CmsAttribute,
  type ValidationData,
} from './cms-detached-signature';
import type { DocumentSigner } from './document-signer';
import { readTimeStampToken, signatureTimeStampAttribute } from './signature-time-stamp';

/*
 * Every proof the service issues is a detached CAdES signature (ETSI EN 319 122-1) at one of two levels:
 * B-T: the CAdES-BES signature of cms-detached-signature.ts plus a signature-time-stamp;
 * B-LT: B-T plus, in SignedData, what a validator needs years later without asking anyone: the signer's
 * and the TSA's whole chains (root included) in `certificates`, and the CRLs the service holds for those
 * CAs in `crls` (never the legacy revocation-values attribute, which B-LT forbids).
 */

/** The CAdES baseline levels the service issues (RM_CADES_LEVEL). */
export const CADES_LEVELS = ['B-T', 'B-LT'] as const;

/** A CAdES baseline level: `B-T` (the default) or `B-LT`. */
export type CadesLevel = (typeof CADES_LEVELS)[number];

/** How a proof is signed besides the signer itself. */
export interface CadesSignatureOptions {
  /** Gives the signature-time-stamp. */
  tsa: TimeStampAuthority;
  /** Default B-T. */
  level?: CadesLevel;
  /**
   * B-LT: certificates that may complete the signer's and the TSA's chains (e.g. the TSA's CA and the
   * trust anchors); only those on one of the two chains are written.
   */
  extraCertificates?: readonly Buffer[];
  /** B-LT: CRLs (DER) the service holds; those issued by a CA of the two chains are written. */
  crls?: readonly Buffer[];
}

/**
 * Signs `content` as a detached CAdES-B-T or -B-LT signature and returns the DER of its ContentInfo.
 * @param signingTime the signing-time attribute
 * @throws TimeStampUnavailableError when no valid signature-time-stamp can be had
 * @throws Error when the signer fails, or (B-LT) a chain cannot be completed up to a root
 */
export async function createCadesSignature(
  content: Buffer,
  signer: DocumentSigner,
  signingTime: Date,
  options: CadesSignatureOptions,
): Promise<Buffer> {
  const level = options.level ?? 'B-T';
  return createDetachedCmsSignature(content, signer, signingTime, {
    unsignedAttributes: async (signatureValue) => [
      await signatureTimeStampAttribute(options.tsa, signatureValue),
    ],
    validationData:
      level === 'B-LT' ? (unsigned) => longTermValidationData(signer, unsigned, options) : undefined,
  });
}

/** B-LT: the signer's chain and the TSA's chain up to their roots, and the CRLs of their CAs. */
async function longTermValidationData(
  signer: DocumentSigner,
  unsigned: CmsAttribute[],
  options: CadesSignatureOptions,
): Promise<ValidationData> {
  const token = unsigned.find((attribute) => attribute.type === CMS_OIDS.signatureTimeStampToken)?.values[0];
  if (token === undefined) throw new Error('B-LT needs the signature-time-stamp');
  const facts = await readTimeStampToken(token);
  const pool = uniqueCertificates([
    signer.certificate,
    ...signer.chain,
    ...facts.certificates,
    ...(options.extraCertificates ?? []),
  ]);
  const tsaCertificate = pool.find((candidate) => facts.identifiesSigner(candidate.der));
  if (tsaCertificate === undefined) {
    throw new Error('B-LT: the TSA certificate is neither in the token nor among the known certificates');
  }
  const signerChain = chainToRoot(new ParsedCertificate(signer.certificate), pool, 'signer');
  const tsaChain = chainToRoot(tsaCertificate, pool, 'TSA');
  const certificates = uniqueCertificates([...signerChain, ...tsaChain].map((entry) => entry.der));
  return {
    certificates: certificates.map((entry) => entry.der),
    crls: crlsOfIssuers(options.crls ?? [], certificates),
  };
}

/**
 * Why `certificate` cannot be given a chain up to a self-signed root from `pool` (what B-LT writes), or
 * undefined when it can: for checking the configuration at start-up.
 */
export function chainProblem(certificate: Buffer, pool: readonly Buffer[], role: string): string | undefined {
  try {
    chainToRoot(new ParsedCertificate(certificate), uniqueCertificates([certificate, ...pool]), role);
    return undefined;
  } catch (error) {
    return (error as Error).message;
  }
}

class ParsedCertificate {
  readonly x509: X509Certificate;
  constructor(readonly der: Buffer) {
    this.x509 = new X509Certificate(der);
  }

  /** Whether `issuer` issued this certificate: names and key identifiers match, and its signature verifies. */
  issuedBy(issuer: ParsedCertificate): boolean {
    return this.x509.checkIssued(issuer.x509) && this.x509.verify(issuer.x509.publicKey);
  }
}

function uniqueCertificates(ders: readonly Buffer[]): ParsedCertificate[] {
  const unique: ParsedCertificate[] = [];
  for (const der of ders) {
    if (!unique.some((entry) => entry.der.equals(der))) unique.push(new ParsedCertificate(der));
  }
  return unique;
}

/** Chains longer than this are a loop or a misconfiguration, not a PKI. */
const MAX_CHAIN_LENGTH = 8;

/**
 * The certificate, its issuer, ... up to a self-signed root, each found in `pool`.
 * @throws Error naming what is missing when no root is reached
 */
function chainToRoot(start: ParsedCertificate, pool: ParsedCertificate[], role: string): ParsedCertificate[] {
  const chain = [start];
  for (let current = start; !current.issuedBy(current);) {
    const issuer = pool.find((candidate) => current.issuedBy(candidate) && !chain.includes(candidate));
    if (issuer === undefined || chain.length >= MAX_CHAIN_LENGTH) {
      throw new Error(
        `B-LT: the ${role} chain stops at "${current.x509.subject.replace(/\n/g, ', ')}": ` +
          `its issuer "${current.x509.issuer.replace(/\n/g, ', ')}" is not known`,
      );
    }
    chain.push(issuer);
    current = issuer;
  }
  return chain;
}

/** The CRLs issued by one of the certificates (a CRL of another CA tells a validator nothing here). */
function crlsOfIssuers(crls: readonly Buffer[], certificates: ParsedCertificate[]): Buffer[] {
  if (crls.length === 0) return [];
  const subjects = certificates.map((entry) => nameFromDer(readCertificateFields(entry.der).subjectDer));
  return crls.filter((der) => {
    const issuer = nameFromDer(crlIssuerDer(der));
    return subjects.some((subject) => sameName(subject, issuer));
  });
}

/**
 * The issuer Name of a CRL: `CertificateList ::= SEQUENCE { tbsCertList SEQUENCE { version INTEGER
 * OPTIONAL, signature AlgorithmIdentifier, issuer Name, ... }, ... }` (RFC 5280 section 5.1).
 * @throws DerError when the bytes are not a DER CRL
 */
function crlIssuerDer(crlDer: Buffer): Buffer {
  const [tbsCertList] = derChildren(readSingleDerElement(crlDer), DER_TAG.sequence);
  if (tbsCertList === undefined) throw new DerError('no TBSCertList');
  const fields = derChildren(tbsCertList, DER_TAG.sequence);
  const [, issuer] = fields[0]?.tag === DER_TAG.integer ? fields.slice(1) : fields;
  if (issuer?.tag !== DER_TAG.sequence) throw new DerError('a CRL without its issuer');
  return issuer.der;
}
