import { createHash } from 'node:crypto';
import { x509 } from '../../src/pki/crypto-engines';
import { DerError, readDerElement } from '../../src/pki/der';
import {
  nameFromDer,
  parseDistinguishedName,
  sameName,
  type ComparableName,
} from '../../src/pki/distinguished-name';
import { KnownCertificates, knownCertificate } from '../../src/pki/known-certificates';
import { issueFromDevCa } from '../policy/policy-test-certificates';
import { rfc2253IssuerName, wss4jSubjectKeyIdentifier } from '../support/wss-signer';
import { createWssTestContext, disposeWssTestContext, type WssTestContext } from './wss-test-context';

/*
 * The index that issuer-serial, subject key identifier and thumbprint references resolve against, and
 * the distinguished name comparison issuer-serial needs.
 */

const CA_NAME_RFC2253 =
  'CN=RegisteredMail Development Root CA,OU=NOT FOR PRODUCTION USE,O=RegisteredMail development PKI,C=BE';

let ctx: WssTestContext;
beforeAll(async () => {
  ctx = await createWssTestContext();
});
afterAll(() => disposeWssTestContext(ctx));

/** A DER Name built from @peculiar/x509 JSON (RDNs in encoding order). */
function derName(json: Record<string, string[]>[]): ComparableName {
  return nameFromDer(Buffer.from(new x509.Name(json).toArrayBuffer()));
}

function parsed(text: string): ComparableName {
  const name = parseDistinguishedName(text);
  if (name === undefined) throw new Error(`not parsed: ${text}`);
  return name;
}

describe('distinguished names: the X509IssuerName text against the certificate issuer', () => {
  let issuer: ComparableName;
  beforeAll(() => {
    issuer = knownCertificate(ctx.sender.certificateDer).issuer;
  });

  test('Java RFC 2253 (what WSS4J 1.6 writes) matches, and so does the signer helper’s rendering', () => {
    expect(rfc2253IssuerName(ctx.sender.certPem)).toBe(CA_NAME_RFC2253);
    expect(sameName(issuer, parsed(CA_NAME_RFC2253))).toBe(true);
  });

  test.each([
    ['spaces after the separators (RFC 1779, getIssuerDN().toString())', CA_NAME_RFC2253.replace(/,/g, ', ')],
    ['semicolons as separators', CA_NAME_RFC2253.replace(/,/g, ';')],
    [
      'lower-case keywords',
      'cn=RegisteredMail Development Root CA,ou=NOT FOR PRODUCTION USE,o=RegisteredMail development PKI,c=BE',
    ],
    [
      'other case and doubled inner spaces in values',
      'CN=registeredmail  development root ca,OU=not for production use,O=REGISTEREDMAIL DEVELOPMENT PKI,C=be',
    ],
    [
      'dotted OIDs and OID. prefixes',
      '2.5.4.3=RegisteredMail Development Root CA,OID.2.5.4.11=NOT FOR PRODUCTION USE,2.5.4.10=RegisteredMail development PKI,2.5.4.6=BE',
    ],
    [
      'a #hex PrintableString',
      `CN=RegisteredMail Development Root CA,OU=NOT FOR PRODUCTION USE,O=RegisteredMail development PKI,C=#13024245`,
    ],
    [
      'quoted values (RFC 1779)',
      'CN="RegisteredMail Development Root CA",OU="NOT FOR PRODUCTION USE",O=RegisteredMail development PKI,C=BE',
    ],
    [
      'hex-escaped characters',
      'CN=\\52egistered\\4dail Development Root CA,OU=NOT FOR PRODUCTION USE,O=RegisteredMail development PKI,C=BE',
    ],
    ['surrounding white space', `  \n${CA_NAME_RFC2253}\n  `],
  ])('%s matches', (_, text) => {
    expect(sameName(issuer, parsed(text))).toBe(true);
  });

  test('a #hex BMPString value matches a PrintableString or UTF8String of the same text', () => {
    const bmp = Buffer.from('BE', 'utf16le').swap16();
    const text = CA_NAME_RFC2253.replace(
      'C=BE',
      `C=#1e${bmp.length.toString(16).padStart(2, '0')}${bmp.toString('hex')}`,
    );
    expect(sameName(issuer, parsed(text))).toBe(true);
  });

  test.each([
    [
      'X.500 order (most significant first)',
      'C=BE,O=RegisteredMail development PKI,OU=NOT FOR PRODUCTION USE,CN=RegisteredMail Development Root CA',
    ],
    ['an RDN missing', 'CN=RegisteredMail Development Root CA,O=RegisteredMail development PKI,C=BE'],
    ['an RDN more', `${CA_NAME_RFC2253},DC=example`],
    ['another value', CA_NAME_RFC2253.replace('C=BE', 'C=NL')],
    ['another type', CA_NAME_RFC2253.replace('OU=', 'O=')],
    ['two RDNs made one multi-valued RDN', CA_NAME_RFC2253.replace(',O=', '+O=')],
    ['a #hex value that is not a string and differs', CA_NAME_RFC2253.replace('C=BE', 'C=#020101')],
  ])('%s does not match', (_, text) => {
    expect(sameName(issuer, parsed(text))).toBe(false);
  });

  test.each([
    ['an unknown keyword', 'FOO=bar,C=BE'],
    ['no =', 'CN RegisteredMail'],
    ['an odd-length #hex', 'C=#130'],
    ['#hex that is not one DER element', 'C=#1302424500'],
    ['a dangling backslash', 'CN=abc\\'],
    ['an unterminated quote', 'CN="abc,C=BE'],
    ['an escaped byte sequence that is not UTF-8', 'CN=\\C3'],
    ['a separator without an RDN', 'CN=a,,C=BE'],
  ])('%s is not a name', (_, text) => {
    expect(parseDistinguishedName(text)).toBeUndefined();
  });

  test('multi-valued RDNs compare as sets, escapes as the characters they stand for', () => {
    const name = derName([
      { C: ['BE'] },
      { O: ['Smith, Jones + Co <Ltd>; #1'] },
      { CN: ['app'], OU: ['unit é'] },
    ]);
    const organisation = 'O=Smith\\, Jones \\+ Co \\<Ltd\\>\\; #1';
    expect(sameName(name, parsed(`CN=app+OU=unit é,${organisation},C=BE`))).toBe(true);
    expect(sameName(name, parsed(`OU=unit \\C3\\A9+CN=app,${organisation},C=BE`))).toBe(true);
    expect(sameName(name, parsed(`CN=app,OU=unit é,${organisation},C=BE`))).toBe(false);
    expect(parseDistinguishedName('CN=say \\"hi\\"')).toEqual([
      [{ type: '2.5.4.3', value: { text: 'say "hi"' } }],
    ]);
  });

  test('a leading # must be escaped (unescaped, it starts a #hex value)', () => {
    expect(parseDistinguishedName('CN=\\#tag\\ ')).toEqual([[{ type: '2.5.4.3', value: { text: '#tag' } }]]);
    expect(parseDistinguishedName('CN=#tag')).toBeUndefined();
  });

  test('the empty name is the empty RDN sequence', () => {
    expect(parseDistinguishedName('')).toEqual([]);
  });
});

describe('DER reader', () => {
  test.each([
    ['truncated content', '0405abcd'],
    ['indefinite length', '3080'],
    ['a length longer than the buffer', '3084ffffffff'],
    ['a high tag number', '1f8101'],
  ])('%s is refused', (_, hex) => {
    expect(() => readDerElement(Buffer.from(hex, 'hex'))).toThrow(DerError);
  });
});

describe('KnownCertificates', () => {
  test('the identifiers of a dev PKI sender certificate', () => {
    const known = knownCertificate(ctx.sender.certificateDer);
    const certificate = new x509.X509Certificate(ctx.sender.certificateDer);
    expect(known.serialNumber).toBe(BigInt(`0x${certificate.serialNumber}`));
    expect(known.thumbprintSha1).toEqual(createHash('sha1').update(ctx.sender.certificateDer).digest());
    const extension = certificate.getExtension(x509.SubjectKeyIdentifierExtension);
    expect(known.subjectKeyIdentifier.toString('hex')).toBe(extension?.keyId);
  });

  test('without the extension, the subject key identifier is SHA-1 of the public key bits (RFC 5280 method 1)', async () => {
    const bare = await issueFromDevCa(ctx.pki, 'CN=bare, C=BE', 'rsa-2048', ctx.clock.now());
    const certificate = new x509.X509Certificate(bare.certificateDer);
    expect(certificate.getExtension(x509.SubjectKeyIdentifierExtension)).toBeNull();
    const expected = Buffer.from(await certificate.publicKey.getKeyIdentifier());
    expect(knownCertificate(bare.certificateDer).subjectKeyIdentifier).toEqual(expected);
    expect(wss4jSubjectKeyIdentifier(bare.certPem)).toEqual(expected);
  });

  test('with the extension, its value counts, whatever the key', async () => {
    const chosen = await issueFromDevCa(ctx.pki, 'CN=chosen, C=BE', 'ec-p256', ctx.clock.now(), {
      subjectKeyIdentifier: '0102030405',
    });
    expect(knownCertificate(chosen.certificateDer).subjectKeyIdentifier.toString('hex')).toBe('0102030405');
  });

  test('lookups by issuer and serial, subject key identifier and thumbprint', () => {
    const index = new KnownCertificates([ctx.sender.certificateDer, ctx.otherSender.certificateDer]);
    const sender = knownCertificate(ctx.sender.certificateDer);
    expect(index.size).toBe(2);
    expect(index.byIssuerSerial(CA_NAME_RFC2253, sender.serialNumber).map((c) => c.der)).toEqual([
      ctx.sender.certificateDer,
    ]);
    expect(index.byIssuerSerial(CA_NAME_RFC2253, sender.serialNumber + 1n)).toEqual([]);
    expect(index.byIssuerSerial('CN=Another CA,C=BE', sender.serialNumber)).toEqual([]);
    expect(index.byIssuerSerial('not a name', sender.serialNumber)).toEqual([]);
    expect(index.bySubjectKeyIdentifier(sender.subjectKeyIdentifier).map((c) => c.der)).toEqual([
      ctx.sender.certificateDer,
    ]);
    expect(index.byThumbprintSha1(sender.thumbprintSha1).map((c) => c.der)).toEqual([
      ctx.sender.certificateDer,
    ]);
    expect(KnownCertificates.none.byThumbprintSha1(sender.thumbprintSha1)).toEqual([]);
  });

  test('a file that is not a certificate is refused when the index is built', () => {
    expect(() => new KnownCertificates([Buffer.from('not a certificate')])).toThrow();
  });
});
