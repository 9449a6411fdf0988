import { webcrypto, type KeyObject } from 'node:crypto';
import type { Clock } from '../clock/clock';
import { loadPkiLibraries, x509, type Pkijs } from './crypto-engines';

/*
 * CRLs issued by a CA whose key the service holds: the dev CA (for development and tests; a
 * `registered-mail pki --revoke <serial>` command can build on it). Built with pkijs, the parser of the
 * revocation check.
 */

/** How long a CRL is valid unless told otherwise. */
export const DEFAULT_CRL_VALIDITY_DAYS = 7;

const DAY_MILLISECONDS = 24 * 60 * 60 * 1000;
const RSA_SIGNING = { name: 'RSASSA-PKCS1-v1_5', hash: 'SHA-256' } as const;
const AUTHORITY_KEY_IDENTIFIER = '2.5.29.35';
const CRL_NUMBER = '2.5.29.20';
const REASON_CODE = '2.5.29.21';
/** RFC 5280 4.1.2.5: UTCTime through 2049, GeneralizedTime from 2050. */
const GENERALIZED_TIME_FROM = Date.UTC(2050, 0, 1);

/** A certificate to list as revoked. */
export interface RevokedSerial {
  /** The certificate's serial number in hex (as `X509Certificate.serialNumber` gives it). */
  serialNumber: string;
  /** Default: the CRL's thisUpdate. */
  revokedAt?: Date;
  /** RFC 5280 CRLReason (1 keyCompromise, 4 superseded, ...); omitted: no reasonCode extension. */
  reason?: number;
}

/** What CRL to issue. */
export interface CrlRequest {
  revoked: readonly RevokedSerial[];
  /** Default: the clock's time. */
  thisUpdate?: Date;
  /** Default: thisUpdate + {@link DEFAULT_CRL_VALIDITY_DAYS} days. */
  nextUpdate?: Date;
  /** The cRLNumber; default: thisUpdate in milliseconds, so later CRLs have larger numbers. */
  crlNumber?: bigint;
}

/** The content octets of a non-negative INTEGER, minimal and positive. */
function integerContent(hexDigits: string): Buffer {
  let hex = hexDigits.replace(/^0+(?=..)/, '');
  if (!/^[0-9a-f]+$/i.test(hex)) throw new RangeError(`not a hex number: ${hexDigits}`);
  if (hex.length % 2 === 1) hex = `0${hex}`;
  if (parseInt(hex.slice(0, 2), 16) >= 0x80) hex = `00${hex}`;
  return Buffer.from(hex, 'hex');
}

function toArrayBuffer(bytes: Uint8Array): ArrayBuffer {
  return Uint8Array.from(bytes).buffer;
}

function time(pkijs: Pkijs, value: Date): InstanceType<Pkijs['Time']> {
  const type =
    value.getTime() >= GENERALIZED_TIME_FROM ? pkijs.TimeType.GeneralizedTime : pkijs.TimeType.UTCTime;
  return new pkijs.Time({ type, value });
}

/**
 * Issues a complete, direct X.509 v2 CRL signed by the CA (RSA-SHA256), with the authority key identifier
 * and cRLNumber extensions RFC 5280 asks for.
 * @param ca the CA certificate (DER) and its RSA private key, e.g. a dev PKI's `ca`
 * @returns the CRL as DER (`openssl crl -inform DER` reads it)
 */
export async function issueCrl(
  ca: { certificateDer: Buffer; privateKey: KeyObject },
  request: CrlRequest,
  clock: Clock,
): Promise<Buffer> {
  const { pkijs, asn1js } = await loadPkiLibraries();
  const caCertificate = pkijs.Certificate.fromBER(new Uint8Array(ca.certificateDer));
  const signingKey = await webcrypto.subtle.importKey(
    'pkcs8',
    ca.privateKey.export({ type: 'pkcs8', format: 'der' }),
    RSA_SIGNING,
    false,
    ['sign'],
  );
  const thisUpdate = request.thisUpdate ?? clock.now();
  const nextUpdate =
    request.nextUpdate ?? new Date(thisUpdate.getTime() + DEFAULT_CRL_VALIDITY_DAYS * DAY_MILLISECONDS);
  const authorityKeyIdentifier = await x509.AuthorityKeyIdentifierExtension.create(
    new x509.X509Certificate(new Uint8Array(ca.certificateDer)),
  );
  const crlNumber = integerContent((request.crlNumber ?? BigInt(thisUpdate.getTime())).toString(16));

  const crl = new pkijs.CertificateRevocationList({
    version: 1,
    issuer: caCertificate.subject,
    thisUpdate: time(pkijs, thisUpdate),
    nextUpdate: time(pkijs, nextUpdate),
    crlExtensions: new pkijs.Extensions({
      extensions: [
        new pkijs.Extension({
          extnID: AUTHORITY_KEY_IDENTIFIER,
          critical: false,
          extnValue: toArrayBuffer(new Uint8Array(authorityKeyIdentifier.value)),
        }),
        new pkijs.Extension({
          extnID: CRL_NUMBER,
          critical: false,
          extnValue: new asn1js.Integer({ valueHex: toArrayBuffer(crlNumber) }).toBER(),
        }),
      ],
    }),
  });
  if (request.revoked.length > 0) {
    crl.revokedCertificates = request.revoked.map((entry) => {
      const revoked = new pkijs.RevokedCertificate({
        userCertificate: new asn1js.Integer({ valueHex: toArrayBuffer(integerContent(entry.serialNumber)) }),
        revocationDate: time(pkijs, entry.revokedAt ?? thisUpdate),
      });
      // Set only when there is one: given as undefined, pkijs writes an empty (invalid) extension list.
      if (entry.reason !== undefined) {
        revoked.crlEntryExtensions = new pkijs.Extensions({
          extensions: [
            new pkijs.Extension({
              extnID: REASON_CODE,
              critical: false,
              extnValue: new asn1js.Enumerated({ value: entry.reason }).toBER(),
            }),
          ],
        });
      }
      return revoked;
    });
  }
  await crl.sign(signingKey, 'SHA-256');
  return Buffer.from(crl.toSchema(true).toBER());
}
