import { spawnSync } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { KnownCertificates } from '../../src/pki/known-certificates';
import { DS_NS } from '../../src/wssecurity/namespaces';
import { processSecurityHeader } from '../../src/wssecurity/process-security-header';
import type { SecurityFacts, SignatureFacts } from '../../src/wssecurity/security-facts';
import { issueFromDevCa } from '../policy/policy-test-certificates';
import type { KeyReferenceOption } from '../support/wss-signer';
import {
  createWssTestContext,
  disposeWssTestContext,
  parse,
  tamper,
  type TestCredentials,
  type WssTestContext,
} from './wss-test-context';

/*
 * Key resolution as a fact of processing: which certificate, named by which kind of reference, and
 * whether its key verified the SignatureValue. Deciding is the policy's job (test/policy).
 */

const SENDER_SUBJECT =
  'CN=ec-app, OU=INT, OU=urn:be:fgov:kbo-bce:organization:cbe-number:0861023666, OU=Belgian Federal Government, O=Test, C=BE';

let ctx: WssTestContext;
let ec: TestCredentials;
let known: KnownCertificates;
beforeAll(async () => {
  ctx = await createWssTestContext();
  ec = await issueFromDevCa(ctx.pki, SENDER_SUBJECT, 'ec-p256', ctx.clock.now(), {
    subjectKeyIdentifier: 'from-key',
  });
  known = new KnownCertificates([
    ctx.sender.certificateDer,
    ctx.otherSender.certificateDer,
    ec.certificateDer,
  ]);
});
afterAll(() => disposeWssTestContext(ctx));

function onlySignature(facts: SecurityFacts): SignatureFacts {
  expect(facts.securityHeaders).toHaveLength(1);
  expect(facts.securityHeaders[0].signatures).toHaveLength(1);
  return facts.securityHeaders[0].signatures[0];
}

const REFERENCE_KINDS = [
  ['issuer-serial', 'issuer-serial'],
  ['ski', 'subject-key-identifier'],
  ['thumbprint', 'thumbprint'],
] as const satisfies readonly (readonly [KeyReferenceOption, string])[];

describe.each(REFERENCE_KINDS)('a %s reference', (keyReference, referenceKind) => {
  test('resolves to the known certificate, with no token in the header, and verifies', async () => {
    const facts = await processSecurityHeader(parse(ctx.sign({ keyReference })), {
      knownCertificates: known,
    });
    expect(facts.securityHeaders[0].binarySecurityTokens).toEqual([]);
    const signature = onlySignature(facts);
    expect(signature.key).toMatchObject({ kind: 'known-certificate', referenceKind, problem: undefined });
    if (signature.key.kind === 'known-certificate') {
      expect(signature.key.certificateDer.equals(ctx.sender.certificateDer)).toBe(true);
      expect(signature.key.securityTokenReference.localName).toBe('SecurityTokenReference');
    }
    expect(signature.signatureValue.outcome).toBe('valid');
    expect(signature.references.every((reference) => reference.digest.outcome === 'valid')).toBe(true);
  });

  test('is unresolved without the certificate among the known ones, and nothing is computed', async () => {
    for (const knownCertificates of [undefined, new KnownCertificates([ctx.otherSender.certificateDer])]) {
      const facts = await processSecurityHeader(parse(ctx.sign({ keyReference })), { knownCertificates });
      expect(onlySignature(facts).key).toMatchObject({
        kind: 'unresolved',
        form: referenceKind,
        reason: expect.stringMatching(/^no known certificate has this /),
      });
      expect(facts).toMatchObject({ digestedBytes: 0, signatureVerifications: 0 });
    }
  });

  test('is unresolved when two known certificates match', async () => {
    const twice = new KnownCertificates([ctx.sender.certificateDer, ctx.sender.certificateDer]);
    const facts = await processSecurityHeader(parse(ctx.sign({ keyReference })), {
      knownCertificates: twice,
    });
    expect(onlySignature(facts).key).toMatchObject({
      kind: 'unresolved',
      reason: expect.stringMatching(/^2 known certificates have this /),
    });
    expect(facts.signatureVerifications).toBe(0);
  });

  test("naming another known certificate: its key is used, and the sender's signature does not verify", async () => {
    const xml = ctx.sign({ keyReference, certPem: ctx.otherSender.certPem });
    const signature = onlySignature(await processSecurityHeader(parse(xml), { knownCertificates: known }));
    expect(signature.key).toMatchObject({ kind: 'known-certificate', referenceKind });
    expect(signature.signatureValue).toEqual({
      outcome: 'invalid',
      reason: "SignatureValue does not verify with the referenced certificate's key",
    });
    expect(signature.references.every((reference) => reference.digest.outcome === 'not-evaluated')).toBe(
      true,
    );
  });
});

describe('malformed references are unresolved', () => {
  const str = (content: string) => `<wsse:SecurityTokenReference>${content}</wsse:SecurityTokenReference>`;
  const ski =
    'http://docs.oasis-open.org/wss/2004/01/oasis-200401-wss-x509-token-profile-1.0#X509SubjectKeyIdentifier';
  const base64Binary =
    'http://docs.oasis-open.org/wss/2004/01/oasis-200401-wss-soap-message-security-1.0#Base64Binary';
  const thumbprint = 'http://docs.oasis-open.org/wss/oasis-wss-soap-message-security-1.1#ThumbprintSHA1';

  test.each([
    [
      'a KeyIdentifier without EncodingType',
      'subject-key-identifier',
      str(`<wsse:KeyIdentifier ValueType="${ski}">AAAA</wsse:KeyIdentifier>`),
      /EncodingType \(none\) is not Base64Binary/,
    ],
    [
      'a KeyIdentifier that is not base64',
      'subject-key-identifier',
      str(
        `<wsse:KeyIdentifier ValueType="${ski}" EncodingType="${base64Binary}">not*base64</wsse:KeyIdentifier>`,
      ),
      /not base64/,
    ],
    [
      'a thumbprint that is not 20 bytes',
      'thumbprint',
      str(
        `<wsse:KeyIdentifier ValueType="${thumbprint}" EncodingType="${base64Binary}">AAAA</wsse:KeyIdentifier>`,
      ),
      /not 20 bytes/,
    ],
    [
      'an X509IssuerSerial without serial number',
      'issuer-serial',
      str(
        '<ds:X509Data><ds:X509IssuerSerial><ds:X509IssuerName>CN=x</ds:X509IssuerName></ds:X509IssuerSerial></ds:X509Data>',
      ),
      /must hold X509IssuerName then X509SerialNumber/,
    ],
    [
      'a serial number that is not a decimal integer',
      'issuer-serial',
      str(
        '<ds:X509Data><ds:X509IssuerSerial><ds:X509IssuerName>CN=x</ds:X509IssuerName><ds:X509SerialNumber>0x1F</ds:X509SerialNumber></ds:X509IssuerSerial></ds:X509Data>',
      ),
      /not a decimal integer/,
    ],
    [
      'an X509IssuerSerial outside a SecurityTokenReference',
      'issuer-serial',
      '<ds:X509Data><ds:X509IssuerSerial><ds:X509IssuerName>CN=x</ds:X509IssuerName><ds:X509SerialNumber>1</ds:X509SerialNumber></ds:X509IssuerSerial></ds:X509Data>',
      /outside a SecurityTokenReference/,
    ],
  ])('%s', async (_, form, keyInfoXml, reason) => {
    const facts = await processSecurityHeader(parse(ctx.sign({ keyInfoXml })), { knownCertificates: known });
    expect(onlySignature(facts).key).toMatchObject({
      kind: 'unresolved',
      form,
      reason: expect.stringMatching(reason),
    });
    expect(facts.signatureVerifications).toBe(0);
  });

  test('a known certificate embedded in the SecurityTokenReference is never used', async () => {
    const keyInfoXml = str(
      `<ds:X509Data><ds:X509Certificate>${ctx.sender.certificateDer.toString('base64')}</ds:X509Certificate></ds:X509Data>`,
    );
    const facts = await processSecurityHeader(parse(ctx.sign({ keyInfoXml })), { knownCertificates: known });
    expect(onlySignature(facts).key).toMatchObject({ kind: 'unresolved', form: 'embedded' });
    expect(facts.signatureVerifications).toBe(0);
  });
});

describe('ECDSA', () => {
  test.each(['ecdsa-sha256', 'ecdsa-sha512'] as const)(
    '%s with a P-256 token verifies (r || s SignatureValue)',
    async (signatureAlgorithm) => {
      const xml = ctx.sign({ keyPem: ec.keyPem, certPem: ec.certPem, signatureAlgorithm });
      const signature = onlySignature(await processSecurityHeader(parse(xml)));
      expect(signature.key).toMatchObject({ publicKey: { type: 'ec', namedCurve: 'prime256v1' } });
      expect(signature.signatureValueBytes).toHaveLength(64);
      expect(signature.signatureValue.outcome).toBe('valid');
    },
  );

  test('an ECDSA key named by subject key identifier verifies', async () => {
    const xml = ctx.sign({
      keyPem: ec.keyPem,
      certPem: ec.certPem,
      signatureAlgorithm: 'ecdsa-sha256',
      keyReference: 'ski',
    });
    const signature = onlySignature(await processSecurityHeader(parse(xml), { knownCertificates: known }));
    expect(signature.key).toMatchObject({
      kind: 'known-certificate',
      referenceKind: 'subject-key-identifier',
    });
    expect(signature.signatureValue.outcome).toBe('valid');
  });

  test('a DER-encoded ECDSA SignatureValue does not verify', async () => {
    const xml = ctx.sign({
      keyPem: ec.keyPem,
      certPem: ec.certPem,
      signatureAlgorithm: 'rsa-sha256', // makes the signer write DER
      signatureMethodUri: 'http://www.w3.org/2001/04/xmldsig-more#ecdsa-sha256',
    });
    expect(onlySignature(await processSecurityHeader(parse(xml))).signatureValue.outcome).toBe('invalid');
  });

  test.each([
    [
      'an RSA method with an EC key',
      () => ({ keyPem: ec.keyPem, certPem: ec.certPem }),
      /rsa-sha256 needs an RSA key, the key is ec/,
    ],
    [
      'an ECDSA method with an RSA key',
      () => ({ signatureAlgorithm: 'ecdsa-sha256' as const }),
      /ecdsa-sha256 needs an EC key, the key is rsa/,
    ],
  ])('%s is not evaluated', async (_, options, reason) => {
    const facts = await processSecurityHeader(parse(ctx.sign(options())));
    expect(onlySignature(facts).signatureValue).toEqual({
      outcome: 'not-evaluated',
      reason: expect.stringMatching(reason),
    });
    expect(facts).toMatchObject({ signatureVerifications: 0, digestedBytes: 0 });
  });
});

/*
 * ECDSA against an independent implementation: xmlsec1 verifies the test signer's r || s SignatureValue,
 * and signs a template that the processing verifies. Skipped locally without xmlsec1, failing when CI=true.
 */
const xmlsecAvailable = spawnSync('xmlsec1', ['--version'], { stdio: 'ignore' }).error === undefined;
if (!xmlsecAvailable && process.env.CI !== 'true') {
  console.warn(
    'xmlsec1 is not on the PATH: the ECDSA interoperability tests are skipped (they fail when CI=true)',
  );
}
const describeWithXmlsec = xmlsecAvailable || process.env.CI === 'true' ? describe : describe.skip;

describeWithXmlsec('ECDSA with xmlsec1', () => {
  const idAttributes = ['Body', 'Timestamp', 'BinarySecurityToken'].flatMap((node) => ['--id-attr:Id', node]);
  let dir: string;
  beforeAll(() => {
    dir = mkdtempSync(path.join(os.tmpdir(), 'ecdsa-xmlsec-'));
  });
  afterAll(() => rmSync(dir, { recursive: true, force: true }));

  function xmlsec(args: string[]): { status: number | null; output: string } {
    const result = spawnSync('xmlsec1', args, { encoding: 'utf8' });
    if (result.error) throw new Error(`xmlsec1 cannot run: ${result.error.message}`);
    return { status: result.status, output: `${result.stdout}${result.stderr}` };
  }

  function file(name: string, content: string): string {
    writeFileSync(path.join(dir, name), content);
    return path.join(dir, name);
  }

  test.each(['ecdsa-sha256', 'ecdsa-sha512'] as const)(
    'xmlsec1 verifies the signer’s %s',
    (signatureAlgorithm) => {
      const xml = ctx.sign({ keyPem: ec.keyPem, certPem: ec.certPem, signatureAlgorithm });
      const result = xmlsec([
        '--verify',
        '--pubkey-cert-pem',
        file('ec.cert.pem', ec.certPem),
        ...idAttributes,
        file('to-verify.xml', xml),
      ]);
      expect(result.output).toMatch(/^OK/m);
      expect(result.status).toBe(0);
    },
  );

  test.each(['ecdsa-sha256', 'ecdsa-sha512'] as const)(
    'the processing verifies what xmlsec1 signs with %s',
    async (signatureAlgorithm) => {
      const templateXml = tamper(
        ctx.sign({ keyPem: ec.keyPem, certPem: ec.certPem, signatureAlgorithm }),
        (document) => {
          for (const name of ['DigestValue', 'SignatureValue']) {
            const elements = document.getElementsByTagNameNS(DS_NS, name);
            for (let i = 0; i < elements.length; i += 1) elements.item(i)!.textContent = '';
          }
        },
      );
      const output = path.join(dir, 'xmlsec-signed.xml');
      const result = xmlsec([
        '--sign',
        '--privkey-pem',
        file('ec.key.pem', ec.keyPem),
        ...idAttributes,
        '--output',
        output,
        file('template.xml', templateXml),
      ]);
      expect(result.status).toBe(0);
      const signed = readFileSync(output, 'utf8').replace(/^(<\?xml[^>]*\?>)\s+/, '$1');
      const signature = onlySignature(await processSecurityHeader(parse(signed)));
      expect(signature.signatureValue.outcome).toBe('valid');
      expect(signature.references.every((reference) => reference.digest.outcome === 'valid')).toBe(true);
    },
  );
});
