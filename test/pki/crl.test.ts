import { webcrypto, X509Certificate } from 'node:crypto';
import { mkdtempSync, readdirSync, rmSync, writeFileSync } from 'node:fs';
import http from 'node:http';
import type { AddressInfo } from 'node:net';
import os from 'node:os';
import path from 'node:path';
import { ManualClock } from '../../src/clock/clock';
import { CertificateValidator } from '../../src/pki/certificate-validator';
import { certificateForRevocation, CrlError, isCurrent, verifyCrl } from '../../src/pki/crl';
import { CrlRevocationChecker, CRL_RETRY_AFTER_MS } from '../../src/pki/crl-revocation-checker';
import { x509 } from '../../src/pki/crypto-engines';
import { issueCrl, type CrlRequest } from '../../src/pki/dev-crl';
import { ensureDevPki, type DevPki } from '../../src/pki/dev-pki';
import { derToPem } from '../../src/pki/pem';
import { run, testWithTool } from '../support/external-tools';
import { createTestCa, issueTestCertificate, issuerFrom, type TestCertificate } from './certificate-fixtures';

/*
 * CRLs: issued by the dev CA (readable by openssl), verified against the trust anchors at load, and used
 * by the certificate validator: a revoked sender is refused, a CRL past its nextUpdate is refreshed
 * (from a file, or from an HTTP server started here on 127.0.0.1) or else the check fails closed.
 */

const MINUTE = 60_000;
const HOUR = 60 * MINUTE;
const DAY = 24 * HOUR;
const START = new Date('2026-01-15T09:00:00Z');

let dir: string;
let pki: DevPki;
let otherCa: TestCertificate;
const clock = new ManualClock(START);

beforeAll(async () => {
  dir = mkdtempSync(path.join(os.tmpdir(), 'rm-crl-'));
  pki = await ensureDevPki(path.join(dir, 'dev-pki'), new ManualClock(START));
  otherCa = await createTestCa(
    'Other CA',
    new Date(START.getTime() - DAY),
    new Date(START.getTime() + 365 * DAY),
  );
});
afterAll(() => rmSync(dir, { recursive: true, force: true }));
beforeEach(() => clock.set(START));

function serialOf(der: Buffer): string {
  return new x509.X509Certificate(new Uint8Array(der)).serialNumber;
}

/** A CRL of the dev CA, issued at the clock's time unless told otherwise. */
function devCrl(revoked: Buffer[], overrides: Partial<CrlRequest> = {}): Promise<Buffer> {
  return issueCrl(
    pki.ca,
    { revoked: revoked.map((der) => ({ serialNumber: serialOf(der) })), ...overrides },
    clock,
  );
}

let fileCounter = 0;
function writeTemp(bytes: Buffer | string, name = `crl-${(fileCounter += 1)}.crl`): string {
  const file = path.join(dir, name);
  writeFileSync(file, bytes);
  return file;
}

function loadChecker(sources: string[], options: { refreshSeconds?: number; cacheDir?: string } = {}) {
  return CrlRevocationChecker.load({
    sources,
    trustAnchors: [pki.ca.certificateDer],
    clock,
    refreshSeconds: options.refreshSeconds ?? 3600,
    cacheDir: options.cacheDir ?? path.join(dir, `cache-${(fileCounter += 1)}`),
  });
}

const sender1 = () => pki.senders[0].certificateDer;
const sender2 = () => pki.senders[1].certificateDer;

describe('issueCrl (the dev CA)', () => {
  testWithTool('openssl')('openssl reads the CRL and verifies its signature with the dev CA', async () => {
    const der = await devCrl([sender2()]);
    const file = writeTemp(der);
    const text = run('openssl', ['crl', '-inform', 'DER', '-in', file, '-noout', '-text']);
    expect(text).toContain('Certificate Revocation List (CRL)');
    expect(text).toContain('RegisteredMail Development Root CA');
    expect(text).toContain('X509v3 CRL Number');
    expect(text).toContain('X509v3 Authority Key Identifier');
    expect(text.toUpperCase()).toContain(serialOf(sender2()).toUpperCase());
    expect(text).not.toContain(serialOf(sender1()).toUpperCase());
    const caFile = writeTemp(derToPem(pki.ca.certificateDer, 'CERTIFICATE'), 'dev-ca.pem');
    expect(run('openssl', ['crl', '-inform', 'DER', '-in', file, '-noout', '-CAfile', caFile])).toMatch(
      /verify OK/,
    );
  });
});

describe('verifyCrl', () => {
  test('accepts a dev CA CRL as DER and as PEM, and tells who is listed', async () => {
    const der = await devCrl([sender2()], { nextUpdate: new Date(START.getTime() + HOUR) });
    for (const bytes of [der, Buffer.from(derToPem(der, 'X509 CRL'))]) {
      const crl = await verifyCrl(bytes, 'test', [otherCa.certificateDer, pki.ca.certificateDer]);
      expect(crl.der.equals(der)).toBe(true);
      expect(crl.issuer).toContain('RegisteredMail Development Root CA');
      expect(crl.thisUpdate).toEqual(START);
      expect(crl.nextUpdate).toEqual(new Date(START.getTime() + HOUR));
      expect(crl.revocationOf(await certificateForRevocation(sender2()))).toEqual({
        revokedAt: START,
        reason: undefined,
      });
      expect(crl.revocationOf(await certificateForRevocation(sender1()))).toBeUndefined();
    }
  });

  test('isCurrent: from thisUpdate to nextUpdate inclusive', () => {
    const crl = { thisUpdate: START, nextUpdate: new Date(START.getTime() + HOUR) };
    expect(isCurrent(crl, new Date(START.getTime() - 1))).toBe(false);
    expect(isCurrent(crl, START)).toBe(true);
    expect(isCurrent(crl, new Date(START.getTime() + HOUR))).toBe(true);
    expect(isCurrent(crl, new Date(START.getTime() + HOUR + 1))).toBe(false);
  });

  test('refuses a CRL naming the dev CA but signed with another key (bad signature)', async () => {
    const forged = await issueCrl(
      { certificateDer: pki.ca.certificateDer, privateKey: otherCa.privateKey },
      { revoked: [] },
      clock,
    );
    await expect(verifyCrl(forged, 'forged.crl', [pki.ca.certificateDer])).rejects.toThrow(
      /CRL forged\.crl: its signature does not verify with the key of any trust anchor named .*RegisteredMail Development Root CA/,
    );
  });

  test('refuses a CRL whose signature bytes were altered', async () => {
    const der = await devCrl([]);
    der[der.length - 5] ^= 0x01;
    await expect(verifyCrl(der, 'altered', [pki.ca.certificateDer])).rejects.toThrow(
      /signature does not verify/,
    );
  });

  test('refuses a CRL of an issuer that is not a trust anchor', async () => {
    const other = await issueCrl(otherCa, { revoked: [] }, clock);
    await expect(verifyCrl(other, 'other', [pki.ca.certificateDer])).rejects.toThrow(
      /its issuer .*Other CA is not one of the trust anchors/,
    );
  });

  test('refuses a CRL from an anchor whose key usage does not allow signing CRLs', async () => {
    const keys = (await webcrypto.subtle.generateKey(
      {
        name: 'RSASSA-PKCS1-v1_5',
        hash: 'SHA-256',
        modulusLength: 2048,
        publicExponent: new Uint8Array([1, 0, 1]),
      },
      true,
      ['sign', 'verify'],
    )) as webcrypto.CryptoKeyPair;
    const name = [{ CN: ['No cRLSign CA'] }];
    const anchor = await x509.X509CertificateGenerator.create({
      serialNumber: '01',
      subject: name,
      issuer: name,
      notBefore: new Date(START.getTime() - DAY),
      notAfter: new Date(START.getTime() + DAY),
      publicKey: keys.publicKey,
      signingKey: keys.privateKey,
      signingAlgorithm: { name: 'RSASSA-PKCS1-v1_5', hash: 'SHA-256' },
      extensions: [
        new x509.BasicConstraintsExtension(true, undefined, true),
        new x509.KeyUsagesExtension(x509.KeyUsageFlags.keyCertSign, true),
      ],
    });
    const crl = await x509.X509CrlGenerator.create({
      issuer: anchor.subjectName,
      thisUpdate: START,
      signingKey: keys.privateKey,
      signingAlgorithm: { name: 'RSASSA-PKCS1-v1_5', hash: 'SHA-256' },
    });
    await expect(
      verifyCrl(Buffer.from(crl.rawData), 'no-crlsign', [Buffer.from(anchor.rawData)]),
    ).rejects.toThrow(/allowed to sign CRLs/);
  });

  test('refuses a CRL with a critical extension (a delta CRL)', async () => {
    const ca = await issuerFrom(pki.ca.certificateDer, pki.ca.privateKey);
    const delta = await x509.X509CrlGenerator.create({
      issuer: new x509.X509Certificate(new Uint8Array(pki.ca.certificateDer)).subjectName,
      thisUpdate: START,
      signingKey: ca.signingKey,
      signingAlgorithm: { name: 'RSASSA-PKCS1-v1_5', hash: 'SHA-256' },
      // deltaCRLIndicator (critical), BaseCRLNumber 1
      extensions: [new x509.Extension('2.5.29.27', true, new Uint8Array([0x02, 0x01, 0x01]))],
    });
    await expect(verifyCrl(Buffer.from(delta.rawData), 'delta', [pki.ca.certificateDer])).rejects.toThrow(
      /critical extension 2\.5\.29\.27 not supported/,
    );
  });

  test('refuses bytes that are not a CRL', async () => {
    await expect(verifyCrl(Buffer.from('not a crl'), 'junk', [pki.ca.certificateDer])).rejects.toThrow(
      /CRL junk: not a DER or PEM X\.509 CRL/,
    );
    await expect(
      verifyCrl(Buffer.from(derToPem(pki.ca.certificateDer, 'CERTIFICATE')), 'pem', [pki.ca.certificateDer]),
    ).rejects.toThrow(/PEM without an X509 CRL block/);
  });
});

describe('CertificateValidator with CRLs from files', () => {
  test('a revoked sender is refused ("revoked"), a sender not listed is accepted', async () => {
    const file = writeTemp(await devCrl([sender2()]));
    const validator = new CertificateValidator([pki.ca.certificateDer], clock, await loadChecker([file]));
    expect(await validator.validate(sender1())).toEqual({
      valid: true,
      chain: [sender1(), pki.ca.certificateDer],
    });
    const refused = await validator.validate(sender2());
    expect(refused).toEqual({ valid: false, reason: expect.stringMatching(/^revoked: certificate serial /) });
    expect(refused.valid || refused.reason).toContain(serialOf(sender2()));
  });

  test('the refusal names the revocation date and the reason code when the CRL gives one', async () => {
    const revokedAt = new Date(START.getTime() - DAY);
    const crl = await issueCrl(
      pki.ca,
      { revoked: [{ serialNumber: serialOf(sender1()), revokedAt, reason: 1 }] },
      clock,
    );
    const checker = await loadChecker([writeTemp(crl)]);
    expect(await checker.problemWith([sender1()])).toBe(
      `revoked: certificate serial ${serialOf(sender1())} (${(await certificateForRevocation(sender1())).subject}) ` +
        `is listed by the CRL of C=BE, O=RegisteredMail development PKI, OU=NOT FOR PRODUCTION USE, ` +
        `CN=RegisteredMail Development Root CA since ${revokedAt.toISOString()}, reason code 1`,
    );
  });

  test('load fails with a clear error for a badly signed CRL, a missing file, a CRL from the future', async () => {
    const forged = writeTemp(
      await issueCrl(
        { certificateDer: pki.ca.certificateDer, privateKey: otherCa.privateKey },
        { revoked: [] },
        clock,
      ),
    );
    await expect(loadChecker([forged])).rejects.toThrow(CrlError);
    await expect(loadChecker([forged])).rejects.toThrow(/signature does not verify/);
    await expect(loadChecker([path.join(dir, 'missing.crl')])).rejects.toThrow(/missing\.crl: ENOENT/);
    const future = writeTemp(await devCrl([], { thisUpdate: new Date(START.getTime() + MINUTE) }));
    await expect(loadChecker([future])).rejects.toThrow(/thisUpdate .* is in the future/);
  });

  test('a certificate whose issuer has no CRL is refused once CRLs are configured (fail closed)', async () => {
    const otherIssuer = await issuerFrom(otherCa.certificateDer, otherCa.privateKey);
    const leaf = await issueTestCertificate(otherIssuer, {
      subject: [{ C: ['BE'] }, { CN: ['leaf of another CA'] }],
      notBefore: new Date(START.getTime() - DAY),
      notAfter: new Date(START.getTime() + DAY),
      keyUsage: x509.KeyUsageFlags.digitalSignature,
    });
    const file = writeTemp(await devCrl([]));
    const checker = await CrlRevocationChecker.load({
      sources: [file],
      trustAnchors: [pki.ca.certificateDer, otherCa.certificateDer],
      clock,
      refreshSeconds: 3600,
      cacheDir: path.join(dir, 'cache-no-crl'),
    });
    const validator = new CertificateValidator(
      [pki.ca.certificateDer, otherCa.certificateDer],
      clock,
      checker,
    );
    expect(await validator.validate(leaf.certificateDer)).toEqual({
      valid: false,
      reason: expect.stringMatching(/^revocation status unknown: no CRL of .*Other CA is configured/),
    });
    expect((await validator.validate(sender1())).valid).toBe(true);
  });

  test('past nextUpdate the CRL is read again; unchanged, every sender of that CA is refused until it is replaced', async () => {
    const file = writeTemp(await devCrl([], { nextUpdate: new Date(START.getTime() + HOUR) }));
    const validator = new CertificateValidator(
      [pki.ca.certificateDer],
      clock,
      await loadChecker([file], { refreshSeconds: 7 * 24 * 3600 }),
    );
    expect((await validator.validate(sender1())).valid).toBe(true);

    clock.set(START.getTime() + HOUR + 1);
    expect(await validator.validate(sender1())).toEqual({
      valid: false,
      reason: expect.stringMatching(/^revocation status unknown: the CRL of .* is past its nextUpdate/),
    });

    // The CA publishes the next CRL, which revokes sender 2; it is picked up at the next attempt.
    writeFileSync(file, await devCrl([sender2()], { nextUpdate: new Date(clock.now().getTime() + HOUR) }));
    clock.advance(CRL_RETRY_AFTER_MS);
    expect((await validator.validate(sender1())).valid).toBe(true);
    expect(await validator.validate(sender2())).toMatchObject({ valid: false, reason: /^revoked: / });
  });

  test('every refreshSeconds the file is read again, even before nextUpdate', async () => {
    const file = writeTemp(await devCrl([]));
    const validator = new CertificateValidator(
      [pki.ca.certificateDer],
      clock,
      await loadChecker([file], { refreshSeconds: 600 }),
    );
    clock.advance(MINUTE);
    writeFileSync(file, await devCrl([sender1()]));
    expect((await validator.validate(sender1())).valid).toBe(true); // not read again yet
    clock.set(START.getTime() + 600_000);
    expect(await validator.validate(sender1())).toMatchObject({ valid: false, reason: /^revoked: / });
  });

  test('a refreshed CRL older than the one held is ignored (no rollback)', async () => {
    const older = await devCrl([]);
    clock.advance(MINUTE);
    const newer = await devCrl([sender1()]);
    const file = writeTemp(newer);
    const checker = await loadChecker([file], { refreshSeconds: 60 });
    writeFileSync(file, older);
    clock.advance(2 * MINUTE);
    await checker.refresh();
    expect(checker.heldCrls()[0].der.equals(newer)).toBe(true);
    expect(await checker.problemWith([sender1()])).toMatch(/^revoked: /);
  });
});

describe('CRLs from an HTTP URL', () => {
  let server: http.Server;
  let served: Buffer | undefined;
  let requests = 0;
  let url: string;

  beforeAll(async () => {
    server = http.createServer((_request, response) => {
      requests += 1;
      if (served === undefined) response.writeHead(404).end();
      else response.writeHead(200, { 'Content-Type': 'application/pkix-crl' }).end(served);
    });
    await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
    url = `http://127.0.0.1:${(server.address() as AddressInfo).port}/dev-ca.crl`;
  });
  afterAll(async () => {
    await new Promise<void>((resolve) => server.close(() => resolve()));
  });
  beforeEach(() => {
    served = undefined;
    requests = 0;
  });

  test('after nextUpdate a new CRL from the server is picked up, with a newly revoked serial', async () => {
    served = await devCrl([], { nextUpdate: new Date(START.getTime() + 10 * MINUTE) });
    const cacheDir = path.join(dir, 'cache-http-refresh');
    const validator = new CertificateValidator(
      [pki.ca.certificateDer],
      clock,
      await loadChecker([url], { refreshSeconds: 24 * 3600, cacheDir }),
    );
    expect((await validator.validate(sender2())).valid).toBe(true);
    expect(readdirSync(cacheDir)).toHaveLength(1);

    clock.set(START.getTime() + 10 * MINUTE);
    served = await devCrl([sender2()], { nextUpdate: new Date(clock.now().getTime() + 10 * MINUTE) });
    expect((await validator.validate(sender2())).valid).toBe(true); // the held CRL is still current
    expect(requests).toBe(1);

    clock.advance(1);
    expect(await validator.validate(sender2())).toMatchObject({ valid: false, reason: /^revoked: / });
    expect((await validator.validate(sender1())).valid).toBe(true);
    expect(requests).toBe(2);
  });

  test('a restart without the server uses the cached copy; without a cached copy its certificates are refused', async () => {
    const cacheDir = path.join(dir, 'cache-http-restart');
    served = await devCrl([sender2()]);
    await loadChecker([url], { cacheDir });

    served = undefined; // the server answers 404 now
    const restarted = await loadChecker([url], { cacheDir });
    expect(await restarted.problemWith([sender2()])).toMatch(/^revoked: /);
    expect(await restarted.problemWith([sender1()])).toBeUndefined();

    const noCache = await loadChecker([url], { cacheDir: path.join(dir, 'cache-http-empty') });
    expect(await noCache.problemWith([sender1()])).toMatch(/^revocation status unknown: no CRL of /);
  });

  test('a badly signed CRL served at start-up stops the load', async () => {
    served = await issueCrl(
      { certificateDer: pki.ca.certificateDer, privateKey: otherCa.privateKey },
      { revoked: [] },
      clock,
    );
    await expect(loadChecker([url])).rejects.toThrow(/signature does not verify/);
  });

  test('the dev senders used here are really the dev CA’s', () => {
    expect(new X509Certificate(sender1()).checkIssued(new X509Certificate(pki.ca.certificateDer))).toBe(true);
  });
});
