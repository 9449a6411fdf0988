import type { Element } from '@xmldom/xmldom';
import type { DigestAlgorithmName, SignatureAlgorithmName } from './algorithms';
import type { ElementName } from './dom';
import type { DateTimeValue } from './xml-date-time';

/*
 * What the WS-Security processing step found in an envelope: facts, never verdicts. Every element
 * named here is a node of the very DOM the SOAP layer parsed, so the policy step (and the business
 * layer after it) decides by node identity. Whatever the processing could not or would not compute is
 * said so ('not-evaluated' and why), never guessed.
 */

/** The outcome of one cryptographic check. */
export type Evaluation =
  | { outcome: 'valid' }
  | { outcome: 'invalid'; reason: string }
  /** Nothing was computed: the structure, an algorithm or the key did not allow it. */
  | { outcome: 'not-evaluated'; reason: string };

/** An algorithm as named in the message. */
export interface AlgorithmFact<Name extends string> {
  /** The `Algorithm` attribute as written; undefined when absent. */
  uri: string | undefined;
  /** The supported algorithm the URI names; undefined when it is not supported (then it is not used). */
  supported: Name | undefined;
}

/** An exclusive-c14n canonicalization method or transform. */
export interface CanonicalizationFact extends AlgorithmFact<'exc-c14n'> {
  /** The `ds:CanonicalizationMethod` or `ds:Transform` element. */
  element: Element;
  /** `ec:InclusiveNamespaces/@PrefixList`, split; empty when absent. */
  inclusivePrefixes: string[];
  /** What prevents using it even when the algorithm is supported (unexpected children, `#default`). */
  problem: string | undefined;
}

/** An element carrying the Id a reference names. */
export interface IdMatch {
  element: Element;
  /** The attribute as written: `wsu:Id`, `Id`, `ID`, or a look-alike such as `xml:id` or `ds:Id`. */
  attributeName: string;
  /** Whether the attribute is one that resolves references: `wsu:Id`, unqualified `Id` or `ID`. */
  resolving: boolean;
}

/** One `ds:Reference` of a SignedInfo. */
export interface ReferenceFacts {
  /** The `ds:Reference` element. */
  node: Element;
  /** `@URI` as written. */
  uri: string | undefined;
  /** The Id of a same-document bare-name reference (`#id`); undefined for any other URI form. */
  fragment: string | undefined;
  /**
   * Every element of the whole document carrying the fragment as `wsu:Id`, `Id` or `ID` (and
   * look-alike Id attributes in other namespaces), in document order. Computed for every fragment.
   */
  matches: IdMatch[];
  /** The element the reference resolves to: set only when there is exactly one match and it resolves. */
  element: Element | undefined;
  /** The transforms in order. */
  transforms: CanonicalizationFact[];
  digestMethod: AlgorithmFact<DigestAlgorithmName>;
  /** The decoded `ds:DigestValue`; undefined when absent or not base64. */
  declaredDigest: Buffer | undefined;
  /** Comment nodes inside the resolved element: canonicalization drops them, so the digest ignores them. */
  commentsInElement: number;
  /** Why this reference cannot be evaluated (structure, unresolved URI, unsupported algorithm, limits). */
  problems: string[];
  /** Whether the recomputed digest equals the declared one. */
  digest: Evaluation;
  /** Bytes of canonical form hashed for this reference (0 when not evaluated). */
  digestedBytes: number;
}

/** How a SecurityTokenReference names a certificate the service knows, without carrying it. */
export type KnownCertificateReferenceKind = 'issuer-serial' | 'subject-key-identifier' | 'thumbprint';

/** The form of a KeyInfo that could not be resolved to a key. */
export type UnresolvedKeyForm =
  | 'no-key-info'
  | 'no-security-token-reference'
  | 'direct-reference'
  | KnownCertificateReferenceKind
  /** A KeyIdentifier of another ValueType. */
  | 'key-identifier'
  | 'embedded'
  | 'other';

/** The public key of a certificate token, as far as it could be read. */
export interface PublicKeyFacts {
  /** Node's `asymmetricKeyType` (`rsa`, `rsa-pss`, `ec`, ...). */
  type: string | undefined;
  /** RSA modulus length in bits; undefined for other key types. */
  modulusBits: number | undefined;
  /** Node's name of an EC key's curve (`prime256v1`, `secp384r1`, `secp521r1`); undefined otherwise. */
  namedCurve: string | undefined;
}

/** The key that verifies a signature. */
export type SignatureKeyFacts =
  | {
      /** `KeyInfo/wsse:SecurityTokenReference/wsse:Reference` to a BinarySecurityToken of the same header. */
      kind: 'token-reference';
      securityTokenReference: Element;
      /** The `wsse:Reference` element. */
      reference: Element;
      uri: string;
      /** `wsse:Reference/@ValueType` as written. */
      valueType: string | undefined;
      /** The token: one of the header's {@link SecurityHeaderFacts.binarySecurityTokens} (same object). */
      token: BinarySecurityTokenFacts;
      /** The token certificate's key; undefined when the certificate could not be read. */
      publicKey: PublicKeyFacts | undefined;
      /** Why the token's key cannot verify (not a certificate, unreadable); undefined when it can. */
      problem: string | undefined;
      /** Other KeyInfo children (an `X509Data`, a `KeyValue`...): reported, never used. */
      ignoredKeyInfoChildren: Element[];
    }
  | {
      /**
       * `KeyInfo/wsse:SecurityTokenReference` naming, by `ds:X509Data/ds:X509IssuerSerial` or a
       * `wsse:KeyIdentifier` (X509SubjectKeyIdentifier, ThumbprintSHA1), exactly one of the certificates
       * the service knows (RM_SENDER_CERTS_DIR).
       */
      kind: 'known-certificate';
      referenceKind: KnownCertificateReferenceKind;
      securityTokenReference: Element;
      /** The `ds:X509Data` or `wsse:KeyIdentifier` element. */
      reference: Element;
      /** DER of the known certificate the reference names. */
      certificateDer: Buffer;
      /** The certificate's key; undefined when it could not be read. */
      publicKey: PublicKeyFacts | undefined;
      /** Why the certificate's key cannot verify; undefined when it can. */
      problem: string | undefined;
      /** Other KeyInfo children: reported, never used. */
      ignoredKeyInfoChildren: Element[];
    }
  | {
      kind: 'unresolved';
      form: UnresolvedKeyForm;
      reason: string;
      /** The element that names the key (STR child, KeyInfo child), when there is one. */
      element: Element | undefined;
    };

/** A `ds:Signature` child of a Security header. */
export interface SignatureFacts {
  element: Element;
  /** The single `ds:SignedInfo`; undefined when missing or repeated. */
  signedInfo: Element | undefined;
  canonicalizationMethod: CanonicalizationFact | undefined;
  signatureMethod: AlgorithmFact<SignatureAlgorithmName>;
  /** Every `ds:Reference` of the SignedInfo. */
  references: ReferenceFacts[];
  /** The decoded `ds:SignatureValue`; undefined when missing or not base64. */
  signatureValueBytes: Buffer | undefined;
  key: SignatureKeyFacts;
  /** Signature-level problems: while any is present, nothing of this signature is evaluated. */
  structureProblems: string[];
  /** Whether SignatureValue verifies over the exc-c14n of SignedInfo with the resolved key. */
  signatureValue: Evaluation;
  /**
   * Whether the key's certificate is trusted, when processing was given a {@link CertificateTrust}: asked
   * only once the SignatureValue verifies, and before any reference is digested. Undefined when not asked.
   */
  trust: TrustVerdict | undefined;
}

/** A certificate check's outcome: the path to a trust anchor, or why there is none. */
export type TrustVerdict = { valid: true; chain: Buffer[] } | { valid: false; reason: string };

/** Decides whether a certificate is trusted (implemented by `src/pki/certificate-validator.ts`). */
export interface CertificateTrust {
  validate(certificateDer: Buffer): Promise<TrustVerdict>;
}

/** A `wsu:Created` or `wsu:Expires` child of a Timestamp. */
export interface TimestampValueFacts extends DateTimeValue {
  element: Element;
  /** Whether the element holds text only (no child element, no comment). */
  textOnly: boolean;
}

/** A `wsu:Timestamp` child of a Security header. */
export interface TimestampFacts {
  element: Element;
  wsuId: string | undefined;
  /** Every `wsu:Created` child, in order. */
  created: TimestampValueFacts[];
  /** Every `wsu:Expires` child, in order. */
  expires: TimestampValueFacts[];
  /** Every child element, in order (Created and Expires included). */
  children: ElementName[];
  /** Whether the Timestamp has non-whitespace text of its own. */
  hasText: boolean;
}

/** A `wsse:BinarySecurityToken` child of a Security header. */
export interface BinarySecurityTokenFacts {
  element: Element;
  wsuId: string | undefined;
  valueType: string | undefined;
  encodingType: string | undefined;
  /** The decoded content when it is an X509v3 token in Base64Binary; undefined otherwise. */
  certificateDer: Buffer | undefined;
  /** Why {@link certificateDer} is undefined. */
  contentProblem: string | undefined;
}

/** One `wsse:Security` header block (a child of `soapenv:Header`). */
export interface SecurityHeaderFacts {
  element: Element;
  /** `soapenv:actor` as written; undefined when absent (the header is for the ultimate receiver). */
  actor: string | undefined;
  /** `soapenv:mustUnderstand` as written. */
  mustUnderstand: string | undefined;
  binarySecurityTokens: BinarySecurityTokenFacts[];
  timestamps: TimestampFacts[];
  signatures: SignatureFacts[];
  /** Children of any other name (UsernameToken, EncryptedKey, ...), not processed. */
  otherChildren: Element[];
}

/** Everything the WS-Security processing found in one envelope. */
export interface SecurityFacts {
  /** Every `wsse:Security` child of the SOAP Header, in order. */
  securityHeaders: SecurityHeaderFacts[];
  /** `wsse:Security` elements anywhere else in the envelope (not processed). */
  securityElementsElsewhere: Element[];
  /** Bytes of canonical form hashed for all references (0 when no digest was computed). */
  digestedBytes: number;
  /** Signature verifications performed (public-key operations). */
  signatureVerifications: number;
}
