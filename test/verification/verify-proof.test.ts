import { rmSync } from 'node:fs';
import path from 'node:path';
import { CMS_OIDS } from '../../src/evidence/cms-detached-signature';
import { x509 } from '../../src/pki/crypto-engines';
import { decodeSignatureFile } from '../../src/verification/signature-file';
import { DEFAULT_MAX_TIME_STAMP_DELAY_MILLISECONDS } from '../../src/verification/verification-policy';
import { derToPem } from '../../src/pki/pem';
import { testWithTool } from '../support/external-tools';
import { buildSignedData, signerInfoParts, timeStampTokenSignedBy, tstInfoOf } from './cms-builder';
import { attribute } from './der-builder';
import { opensslTimeStampToken, TEST_TSA_POLICY } from './openssl-tsa';
import { issueTestKeyPair } from './test-pki';
import {
  cadesBes,
  cadesT,
  DAY,
  expectOnlyFailures,
  HOUR,
  policy,
  proof,
  RECEIPT,
  sha256Base64,
  signerFor,
  verificationFixture,
  verify,
  type VerificationFixture,
} from './verification-fixture';

const withOpenssl = testWithTool('openssl', ['version']);

/** The checks that cannot run without a time-stamp, and what they say. */
const NO_TIME_STAMP = {
  'time-stamp-present': /no signature-time-stamp unsigned attribute .*CAdES-BES, not CAdES-T/,
  'time-stamp-imprint': /not checked: the signature has no signature-time-stamp/,
  'tsa-signature': /not checked: the signature has no signature-time-stamp/,
  'tsa-certificate': /not checked: the signature has no signature-time-stamp/,
  times: /not checked: the signature has no signature-time-stamp: signing-time .* is only the signer's claim/,
};

describe('verify-proof checks', () => {
  let fixture: VerificationFixture;
  beforeAll(async () => {
    fixture = await verificationFixture();
  });
  afterAll(() => rmSync(fixture.dir, { recursive: true, force: true }));

  /** A certificate from the dev CA, valid from an hour ago for a day unless said. */
  function issue(name: string, options: Partial<Parameters<typeof issueTestKeyPair>[3]> = {}) {
    return issueTestKeyPair(path.join(fixture.dir, 'issued'), name, fixture.pki.ca, {
      commonName: name,
      notBefore: new Date(Date.now() - HOUR),
      notAfter: new Date(Date.now() + DAY),
      ...options,
    });
  }

  withOpenssl('a CAdES-T signature with its content and SignedFile digest passes every check', async () => {
    const signature = await cadesT(RECEIPT, fixture.signer, fixture.tsa);
    const report = await verify(
      proof(signature, RECEIPT, {
        signedFile: { digestMethod: 'SHA-256', digestValue: sha256Base64(RECEIPT) },
      }),
      policy(fixture),
    );
    expectOnlyFailures(report, {});
    const message = (id: string) => report.checks.find((check) => check.id === id)?.message;
    expect(message('content-digest')).toMatch(
      /SignedFile DigestValue \(SHA-256\) and CMS message-digest \(SHA-256\) match/,
    );
    expect(message('signer-chain')).toMatch(
      /chains to "RegisteredMail Development Root CA", valid at .* \(genTime of the verified time-stamp\)/,
    );
    expect(message('signer-chain')).toMatch(/key usage digitalSignature, nonRepudiation/);
    expect(message('signed-attributes')).toMatch(/DER-sorted SET of 4 .*content-type id-data/);
    expect(message('time-stamp-present')).toContain(`policy ${TEST_TSA_POLICY}`);
    expect(message('tsa-signature')).toMatch(/signing-certificate-v2 \(SHA-256\) matches it/);
    expect(message('tsa-certificate')).toMatch(/timeStamping only, critical/);
  });

  withOpenssl('a time-stamp token over other bytes: only the imprint check fails', async () => {
    const signature = await cadesBes(RECEIPT, fixture.signer);
    const foreign = opensslTimeStampToken(Buffer.from('some other signature value'), fixture.tsa);
    const { signedAttributes, certificates } = signerInfoParts(signature);
    const withForeignToken = buildSignedData({
      eContentType: CMS_OIDS.data,
      signedAttributes,
      signerKey: fixture.pki.signer.privateKey,
      signerCertificate: certificates[0],
      chain: certificates.slice(1),
      unsignedAttributes: () => [attribute(CMS_OIDS.signatureTimeStampToken, foreign)],
    });
    expectOnlyFailures(await verify(proof(withForeignToken), policy(fixture)), {
      'time-stamp-imprint':
        /the token's message imprint \(SHA-256 [0-9a-f]{64}\) is not the SHA-256 of the SignerInfo's signature value .*: the token time-stamps other data/,
    });
  });

  withOpenssl(
    'a TSA certificate whose timeStamping extended key usage is not critical is refused',
    async () => {
      const lax = await issue('lax-tsa', {
        extendedKeyUsage: { purposes: [x509.ExtendedKeyUsage.timeStamping], critical: false },
      });
      const signature = await cadesBes(RECEIPT, fixture.signer);
      const { signedAttributes, certificates } = signerInfoParts(signature);
      // openssl will not sign with such a certificate: its token's TSTInfo is re-signed with the lax key.
      const withLaxToken = buildSignedData({
        eContentType: CMS_OIDS.data,
        signedAttributes,
        signerKey: fixture.pki.signer.privateKey,
        signerCertificate: certificates[0],
        chain: certificates.slice(1),
        unsignedAttributes: (signatureValue) => [
          attribute(
            CMS_OIDS.signatureTimeStampToken,
            timeStampTokenSignedBy(
              tstInfoOf(opensslTimeStampToken(signatureValue, fixture.tsa)),
              lax.privateKey,
              lax.certificateDer,
            ),
          ),
        ],
      });
      expectOnlyFailures(await verify(proof(withLaxToken), policy(fixture)), {
        'tsa-certificate':
          /TSA certificate "lax-tsa" extended key usage timeStamping is not marked critical \(RFC 3161 section 2\.3\)/,
      });
    },
  );

  withOpenssl('a time-stamp signed by a certificate without timeStamping usage is refused', async () => {
    const signature = await cadesBes(RECEIPT, fixture.signer);
    const { signedAttributes, certificates } = signerInfoParts(signature);
    const byTheSigner = buildSignedData({
      eContentType: CMS_OIDS.data,
      signedAttributes,
      signerKey: fixture.pki.signer.privateKey,
      signerCertificate: certificates[0],
      chain: certificates.slice(1),
      unsignedAttributes: (signatureValue) => [
        attribute(
          CMS_OIDS.signatureTimeStampToken,
          timeStampTokenSignedBy(
            tstInfoOf(opensslTimeStampToken(signatureValue, fixture.tsa)),
            fixture.pki.signer.privateKey,
            fixture.pki.signer.certificateDer,
          ),
        ),
      ],
    });
    expectOnlyFailures(await verify(proof(byTheSigner), policy(fixture)), {
      'tsa-certificate': /has no extended key usage extension \(timeStamping required\)/,
    });
  });

  withOpenssl('a time-stamp token whose TSA signature was altered', async () => {
    const { signedAttributes, certificates } = signerInfoParts(await cadesBes(RECEIPT, fixture.signer));
    const altered = buildSignedData({
      eContentType: CMS_OIDS.data,
      signedAttributes,
      signerKey: fixture.pki.signer.privateKey,
      signerCertificate: certificates[0],
      chain: certificates.slice(1),
      unsignedAttributes: (signatureValue) => {
        const token = opensslTimeStampToken(signatureValue, fixture.tsa);
        token[token.length - 1] ^= 0x01; // the last byte of the token's signature value
        return [attribute(CMS_OIDS.signatureTimeStampToken, token)];
      },
    });
    expectOnlyFailures(await verify(proof(altered), policy(fixture)), {
      'tsa-signature':
        /the RSA with SHA-256 signature does not verify with the key of "RegisteredMail Development Time-Stamping Authority"$/,
    });
  });

  withOpenssl('a tampered receipt: the message-digest no longer matches the content', async () => {
    const signature = await cadesT(RECEIPT, fixture.signer, fixture.tsa);
    const tampered = Buffer.from(RECEIPT.toString('utf8').replace('0123456789ABC', '0123456789ABD'));
    expectOnlyFailures(await verify(proof(signature, tampered), policy(fixture)), {
      'content-digest':
        /CMS message-digest \(SHA-256 [0-9a-f]{64}\) does not match the content \([0-9a-f]{64}\): the content is not what was signed/,
    });
  });

  withOpenssl(
    'a tampered receipt delivered in a SignedFile: its Digest and the message-digest both fail',
    async () => {
      const signature = await cadesT(RECEIPT, fixture.signer, fixture.tsa);
      const tampered = Buffer.concat([RECEIPT, Buffer.from(' ')]);
      const report = await verify(
        proof(signature, tampered, {
          signedFile: { digestMethod: 'SHA-256', digestValue: sha256Base64(RECEIPT) },
        }),
        policy(fixture),
      );
      expectOnlyFailures(report, {
        'content-digest':
          /SignedFile DigestValue \(SHA-256 .*\) does not match the content .*; CMS message-digest .* does not match the content/,
      });
    },
  );

  withOpenssl('a SignedFile whose Digest does not match its content', async () => {
    const signature = await cadesT(RECEIPT, fixture.signer, fixture.tsa);
    const report = await verify(
      proof(signature, RECEIPT, {
        signedFile: { digestMethod: 'SHA-256', digestValue: sha256Base64(Buffer.from('another file')) },
      }),
      policy(fixture),
    );
    expectOnlyFailures(report, {
      'content-digest': /SignedFile DigestValue \(SHA-256 \S+\) does not match the content \(SHA-256 \S+\)$/,
    });
  });

  withOpenssl(
    'signed attributes re-encoded out of DER order and re-signed: only the order check fails',
    async () => {
      const { signedAttributes, certificates } = signerInfoParts(await cadesBes(RECEIPT, fixture.signer));
      const build = (order: Buffer[]) =>
        buildSignedData({
          eContentType: CMS_OIDS.data,
          signedAttributes: order,
          signerKey: fixture.pki.signer.privateKey,
          signerCertificate: certificates[0],
          chain: certificates.slice(1),
          unsignedAttributes: (signatureValue) => [
            attribute(CMS_OIDS.signatureTimeStampToken, opensslTimeStampToken(signatureValue, fixture.tsa)),
          ],
        });
      // The same builder with the DER order passes: what fails below is the order alone.
      expectOnlyFailures(await verify(proof(build(signedAttributes)), policy(fixture)), {});
      const unsorted = [...signedAttributes].reverse();
      expectOnlyFailures(await verify(proof(build(unsorted)), policy(fixture)), {
        'signed-attributes':
          /signed attributes are not in DER order \(X\.690 section 11\.6\): \S+ is encoded before \S+, whose encoding sorts first$/,
      });
    },
  );

  withOpenssl('a signer certificate from a CA that is not trusted', async () => {
    const otherDir = path.join(fixture.dir, 'other-ca');
    const otherCa = await issueTestKeyPair(otherDir, 'other-ca', undefined, {
      commonName: 'Some Other CA',
      notBefore: new Date(Date.now() - HOUR),
      notAfter: new Date(Date.now() + DAY),
      ca: true,
    });
    const stranger = await issueTestKeyPair(otherDir, 'stranger', otherCa, {
      commonName: 'Stranger Signer',
      notBefore: new Date(Date.now() - HOUR),
      notAfter: new Date(Date.now() + DAY),
    });
    const signature = await cadesT(
      RECEIPT,
      signerFor(stranger, fixture.pki, [otherCa.certificateDer]),
      fixture.tsa,
    );
    expectOnlyFailures(await verify(proof(signature), policy(fixture)), {
      'signer-chain':
        /signer certificate "Stranger Signer" is not valid at .* \(genTime of the verified time-stamp\): no path to a given trust anchor/,
    });
  });

  withOpenssl('a CAdES-BES signature by a signer expired at the validation time fails', async () => {
    const shortLived = await issue('short-lived signer');
    const signature = await cadesBes(RECEIPT, signerFor(shortLived, fixture.pki));
    const twoDaysLater = new Date(Date.now() + 2 * DAY);
    expectOnlyFailures(await verify(proof(signature), policy(fixture, twoDaysLater)), {
      'signer-chain':
        /signer certificate "short-lived signer" is not valid at .* \(validation time: no verified time-stamp\): the certificate expired on /,
      ...NO_TIME_STAMP,
    });
  });

  withOpenssl(
    'CAdES-T: the time-stamp keeps a proof valid after its signer certificate expired',
    async () => {
      const shortLived = await issue('short-lived signer');
      const signature = await cadesT(RECEIPT, signerFor(shortLived, fixture.pki), fixture.tsa);
      const twoDaysLater = new Date(Date.now() + 2 * DAY);
      const report = await verify(proof(signature), policy(fixture, twoDaysLater));
      expectOnlyFailures(report, {});
      expect(report.checks.find((check) => check.id === 'signer-chain')?.message).toMatch(
        /genTime of the verified time-stamp/,
      );
    },
  );

  withOpenssl(
    'a signer certificate already expired when it signed fails even with a time-stamp',
    async () => {
      const expired = await issue('expired signer', {
        notBefore: new Date(Date.now() - 3 * DAY),
        notAfter: new Date(Date.now() - DAY),
      });
      const signature = await cadesT(RECEIPT, signerFor(expired, fixture.pki), fixture.tsa);
      expectOnlyFailures(await verify(proof(signature), policy(fixture)), {
        'signer-chain':
          /signer certificate "expired signer" is not valid at .* \(genTime of the verified time-stamp\): the certificate expired on /,
        times:
          /signing-time .* is outside the signer certificate's validity .*; genTime .* is outside the signer certificate's validity/,
      });
    },
  );

  test('a signature without time-stamp is reported as CAdES-BES, the time-stamp checks failing', async () => {
    const signature = await cadesBes(RECEIPT, fixture.signer);
    expectOnlyFailures(await verify(proof(signature), policy(fixture)), NO_TIME_STAMP);
  });

  withOpenssl('a time-stamp made long after the signing-time is refused by the times check', async () => {
    // (The dev certificates are only valid from an hour ago: a shorter allowed delay keeps this within.)
    const signature = await cadesT(
      RECEIPT,
      fixture.signer,
      fixture.tsa,
      new Date(Date.now() - 30 * 60 * 1000),
    );
    const report = await verify(proof(signature), {
      ...policy(fixture),
      maxTimeStampDelayMilliseconds: 10 * 60 * 1000,
    });
    expectOnlyFailures(report, {
      times: /genTime .* is \d+ s after signing-time .* \(at most 600 s\)$/,
    });
    expect(DEFAULT_MAX_TIME_STAMP_DELAY_MILLISECONDS).toBe(HOUR);
  });

  withOpenssl('a signing-time later than the time-stamp is refused by the times check', async () => {
    const signature = await cadesT(
      RECEIPT,
      fixture.signer,
      fixture.tsa,
      new Date(Date.now() + 10 * 60 * 1000),
    );
    expectOnlyFailures(await verify(proof(signature), policy(fixture)), {
      times:
        /genTime .* is \d+ s before signing-time .* \(tolerance 120 s plus the token's accuracy\); signing-time .* is after the validation time/,
    });
  });

  withOpenssl('a validation time before the time-stamp is refused', async () => {
    const signature = await cadesT(RECEIPT, fixture.signer, fixture.tsa);
    const report = await verify(proof(signature), policy(fixture, new Date(Date.now() - 30 * 60 * 1000)));
    expect(report.checks.find((check) => check.id === 'times')?.message).toMatch(
      /signing-time .* is after the validation time; genTime .* is after the validation time/,
    );
    expect(report.passed).toBe(false);
  });

  test('bytes that are not a CMS signature fail every check, saying why', async () => {
    const report = await verify(proof(Buffer.from('not a signature')), policy(fixture));
    expect(report.passed).toBe(false);
    for (const check of report.checks) {
      expect(check.result).toBe('FAIL');
      expect(check.message).toMatch(/the signature is unreadable: not a DER CMS SignedData/);
    }
  });

  test('no trust anchor: the chain checks fail', async () => {
    const signature = await cadesBes(RECEIPT, fixture.signer);
    const report = await verify(proof(signature), { trustAnchors: [], validationTime: new Date() });
    expect(report.checks.find((check) => check.id === 'signer-chain')?.message).toMatch(
      /no trust anchor was given/,
    );
  });

  test('signature files: DER, base64 (as in a SignedFile Signature) and PEM read the same', async () => {
    const der = await cadesBes(RECEIPT, fixture.signer);
    expect(decodeSignatureFile(der)).toEqual(der);
    expect(decodeSignatureFile(Buffer.from(der.toString('base64').replace(/(.{76})/g, '$1\n')))).toEqual(der);
    expect(decodeSignatureFile(Buffer.from(derToPem(der, 'CMS')))).toEqual(der);
    expect(() => decodeSignatureFile(Buffer.from('%%% not base64'))).toThrow(/neither DER nor base64/);
  });
});
