import { existsSync, mkdtempSync, readFileSync, rmSync, statSync, unlinkSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { X509Certificate } from 'node:crypto';
import { ManualClock } from '../../src/clock/clock';
import {
  DEV_PKCS12_PASSWORD,
  DEV_PKI_MANIFEST,
  ensureDevPki,
  isDevPkiCertificate,
  issueSenderCertificate,
  type DevPki,
} from '../../src/pki/dev-pki';
import { senderIdentityFromCertificate } from '../../src/pki/sender-identity';
import { createTestCa } from './certificate-fixtures';
import { run, testWithTool } from '../support/external-tools';

const withOpenssl = testWithTool('openssl', ['version']);
const withKeytool = testWithTool('keytool', ['-help']);
const withJava = testWithTool('java', ['-version']);

const HOUR = 60 * 60 * 1000;
const DAY = 24 * HOUR;

describe('ensureDevPki', () => {
  let dir: string;
  let clock: ManualClock;
  let pki: DevPki;

  beforeAll(async () => {
    dir = mkdtempSync(path.join(os.tmpdir(), 'rm-dev-pki-'));
    // openssl and keytool check validity against the real time, so the dev PKI starts now.
    clock = new ManualClock(Date.now());
    pki = await ensureDevPki(dir, clock);
  });

  afterAll(() => rmSync(dir, { recursive: true, force: true }));

  test('writes every key, certificate and key store, and the manifest', () => {
    const files = [
      pki.manifestPath,
      pki.ca.keyPemPath,
      pki.ca.certPemPath,
      pki.signer.keyPemPath,
      pki.signer.certPemPath,
      pki.tsa.keyPemPath,
      pki.tsa.certPemPath,
      ...pki.senders.flatMap((sender) => [sender.keyPemPath, sender.certPemPath, sender.p12Path]),
    ];
    for (const file of files) expect(existsSync(file)).toBe(true);
    expect(pki.manifestPath).toBe(path.join(dir, DEV_PKI_MANIFEST));
    expect(pki.devOnly).toBe(true);
    expect(statSync(pki.signer.keyPemPath).mode & 0o077).toBe(0);
    expect(readFileSync(pki.signer.keyPemPath, 'utf8')).toMatch(/^-----BEGIN PRIVATE KEY-----\n/);
  });

  test('the two default senders carry the platform subject', () => {
    expect(
      pki.senders.map(({ name, cbe, applicationId, environment, password }) => ({
        name,
        cbe,
        applicationId,
        environment,
        password,
      })),
    ).toEqual([
      {
        name: 'dev-sender-1',
        cbe: '0861023666',
        applicationId: 'dev-sender-1',
        environment: 'INT',
        password: 'changeit',
      },
      {
        name: 'dev-sender-2',
        cbe: '0206731645',
        applicationId: 'dev-sender-2',
        environment: 'INT',
        password: 'changeit',
      },
    ]);
    const subject = new X509Certificate(pki.senders[0].certificateDer).subject.split('\n');
    expect(subject).toEqual([
      'C=BE',
      'O=RegisteredMail development sender',
      'OU=Belgian Federal Government',
      'OU=urn:be:fgov:kbo-bce:organization:cbe-number:0861023666',
      'OU=INT',
      'CN=dev-sender-1',
    ]);
    expect(senderIdentityFromCertificate(pki.senders[1].certificateDer)).toEqual({
      cbe: '0206731645',
      applicationId: 'dev-sender-2',
      environment: 'INT',
    });
  });

  test('validity starts an hour before the clock; the root lasts ten years', () => {
    const root = new X509Certificate(pki.ca.certificateDer);
    const sender = new X509Certificate(pki.senders[0].certificateDer);
    const now = clock.now().getTime();
    // X.509 times have whole seconds.
    expect(Math.abs(new Date(sender.validFrom).getTime() - (now - HOUR))).toBeLessThan(1000);
    expect(new Date(root.validTo).getTime() - now).toBeGreaterThan(3650 * DAY);
    expect(root.publicKey.asymmetricKeyDetails?.modulusLength).toBeGreaterThanOrEqual(2048);
    expect(new X509Certificate(pki.signer.certificateDer).publicKey.asymmetricKeyDetails?.modulusLength).toBe(
      2048,
    );
  });

  test('is idempotent: a second call loads the same PKI', async () => {
    const manifestBefore = readFileSync(pki.manifestPath);
    clock.advance(DAY);
    const again = await ensureDevPki(dir, clock);
    expect(again.ca.certificateDer.equals(pki.ca.certificateDer)).toBe(true);
    expect(again.signer.certificateDer.equals(pki.signer.certificateDer)).toBe(true);
    expect(again.senders.map((sender) => sender.certificateDer.toString('base64'))).toEqual(
      pki.senders.map((sender) => sender.certificateDer.toString('base64')),
    );
    expect(readFileSync(pki.manifestPath).equals(manifestBefore)).toBe(true);
  });

  test('concurrent calls on one directory give one PKI', async () => {
    const other = mkdtempSync(path.join(os.tmpdir(), 'rm-dev-pki-'));
    try {
      const [first, second] = await Promise.all([ensureDevPki(other, clock), ensureDevPki(other, clock)]);
      expect(first.ca.certificateDer.equals(second.ca.certificateDer)).toBe(true);
    } finally {
      rmSync(other, { recursive: true, force: true });
    }
  });

  test('marks its certificates as dev certificates, and no others', async () => {
    for (const der of [pki.ca, pki.signer, pki.tsa, ...pki.senders].map((entry) => entry.certificateDer)) {
      expect(isDevPkiCertificate(der)).toBe(true);
    }
    const foreign = await createTestCa('Some CA', new Date(Date.now() - DAY), new Date(Date.now() + DAY));
    expect(isDevPkiCertificate(foreign.certificateDer)).toBe(false);
  });

  withOpenssl('openssl verify accepts every issued certificate against the dev CA', () => {
    const issued = [
      pki.signer.certPemPath,
      pki.tsa.certPemPath,
      ...pki.senders.map((sender) => sender.certPemPath),
    ];
    const output = run('openssl', ['verify', '-CAfile', pki.ca.certPemPath, ...issued]);
    for (const file of issued) expect(output).toContain(`${file}: OK`);
  });

  withOpenssl('the root is a CA for certificates and CRLs only', () => {
    const text = run('openssl', ['x509', '-in', pki.ca.certPemPath, '-noout', '-text']);
    expect(text).toMatch(/X509v3 Basic Constraints: critical\s+CA:TRUE/);
    expect(text).toMatch(/X509v3 Key Usage: critical\s+Certificate Sign, CRL Sign\n/);
  });

  withOpenssl('the signer may sign and the TSA certificate is for time-stamping only (critical)', () => {
    const signer = run('openssl', ['x509', '-in', pki.signer.certPemPath, '-noout', '-text']);
    expect(signer).toMatch(/X509v3 Key Usage: critical\s+Digital Signature, Non Repudiation\n/);
    const tsa = run('openssl', ['x509', '-in', pki.tsa.certPemPath, '-noout', '-text']);
    expect(tsa).toMatch(/X509v3 Extended Key Usage: critical\s+Time Stamping\n/);
    expect(tsa).toMatch(/X509v3 Key Usage: critical\s+Digital Signature, Non Repudiation\n/);
    const sender = run('openssl', ['x509', '-in', pki.senders[0].certPemPath, '-noout', '-text']);
    expect(sender).toMatch(/X509v3 Key Usage: critical\s+Digital Signature\n/);
  });

  withOpenssl('openssl 3 opens the PKCS#12 without -legacy: AES-256 key, the sender alias, the chain', () => {
    const p12 = pki.senders[0].p12Path;
    const info = run('openssl', [
      'pkcs12',
      '-info',
      '-nodes',
      '-in',
      p12,
      '-passin',
      `pass:${DEV_PKCS12_PASSWORD}`,
    ]);
    expect(info).toContain('friendlyName: dev-sender-1');
    expect(info).toContain('-----BEGIN PRIVATE KEY-----');
    expect(info.match(/-----BEGIN CERTIFICATE-----/g)).toHaveLength(2);
    expect(info).toMatch(/PBES2, PBKDF2, AES-256-CBC/);
    expect(() =>
      run('openssl', ['pkcs12', '-info', '-nodes', '-in', p12, '-passin', 'pass:wrong']),
    ).toThrow();
  });

  withKeytool('Java 17 keytool lists the PKCS#12 entry with its chain', () => {
    const listing = run('keytool', [
      '-list',
      '-v',
      '-keystore',
      pki.senders[1].p12Path,
      '-storepass',
      DEV_PKCS12_PASSWORD,
      '-storetype',
      'PKCS12',
    ]);
    expect(listing).toContain('Alias name: dev-sender-2');
    expect(listing).toContain('Entry type: PrivateKeyEntry');
    expect(listing).toContain('Certificate chain length: 2');
  });

  withJava('Java 17 KeyStore.getInstance("PKCS12") loads the key and signs with it', () => {
    const sender = pki.senders[0];
    const output = run('java', [
      path.join(__dirname, 'java', 'LoadPkcs12.java'),
      sender.p12Path,
      sender.password,
      sender.name,
    ]);
    expect(output).toContain('aliases=[dev-sender-1] key=RSA chain=2 verified=true');
  });
});

describe('ensureDevPki on an incomplete directory', () => {
  let dir: string;
  const clock = new ManualClock('2026-03-01T10:00:00Z');

  beforeEach(() => {
    dir = mkdtempSync(path.join(os.tmpdir(), 'rm-dev-pki-'));
  });
  afterEach(() => rmSync(dir, { recursive: true, force: true }));

  test('regenerates when the manifest is missing', async () => {
    const first = await ensureDevPki(dir, clock);
    unlinkSync(first.manifestPath);
    const second = await ensureDevPki(dir, clock);
    expect(second.ca.certificateDer.equals(first.ca.certificateDer)).toBe(false);
    expect(existsSync(second.manifestPath)).toBe(true);
  });

  test('regenerates once the service certificates have expired', async () => {
    const first = await ensureDevPki(dir, clock);
    const later = new ManualClock(clock.now().getTime() + 6 * 365 * DAY);
    const second = await ensureDevPki(dir, later);
    expect(second.ca.certificateDer.equals(first.ca.certificateDer)).toBe(false);
    expect(new Date(new X509Certificate(second.signer.certificateDer).validTo).getTime()).toBeGreaterThan(
      later.now().getTime(),
    );
  });

  test('regenerates when a file the manifest names is missing', async () => {
    const first = await ensureDevPki(dir, clock);
    unlinkSync(first.senders[1].p12Path);
    const second = await ensureDevPki(dir, clock);
    expect(second.ca.certificateDer.equals(first.ca.certificateDer)).toBe(false);
    expect(existsSync(second.senders[1].p12Path)).toBe(true);
  });
});

describe('issueSenderCertificate', () => {
  let dir: string;
  let pki: DevPki;
  const clock = new ManualClock(Date.now());

  beforeAll(async () => {
    dir = mkdtempSync(path.join(os.tmpdir(), 'rm-dev-pki-'));
    pki = await ensureDevPki(dir, clock);
  });
  afterAll(() => rmSync(dir, { recursive: true, force: true }));

  test('issues a sender from the dev CA and records it in the manifest', async () => {
    const sender = await issueSenderCertificate(
      dir,
      {
        name: 'acme-prd',
        cbe: '244640631',
        applicationId: 'acme:batch',
        environment: 'PRD',
        validityDays: 30,
      },
      clock,
    );
    expect(sender).toMatchObject({
      name: 'acme-prd',
      cbe: '0244640631',
      applicationId: 'acme:batch',
      environment: 'PRD',
    });
    expect(senderIdentityFromCertificate(sender.certificateDer)).toEqual({
      cbe: '0244640631',
      applicationId: 'acme:batch',
      environment: 'PRD',
    });
    const certificate = new X509Certificate(sender.certificateDer);
    expect(certificate.verify(new X509Certificate(pki.ca.certificateDer).publicKey)).toBe(true);
    expect(new Date(certificate.validTo).getTime() - clock.now().getTime()).toBeLessThanOrEqual(30 * DAY);

    const reloaded = await ensureDevPki(dir, clock);
    expect(reloaded.ca.certificateDer.equals(pki.ca.certificateDer)).toBe(true);
    expect(reloaded.senders.map((entry) => entry.name)).toEqual(['dev-sender-1', 'dev-sender-2', 'acme-prd']);
  });

  test('issues a sender without environment OU when asked', async () => {
    const sender = await issueSenderCertificate(
      dir,
      { name: 'no-env', cbe: '0406798006', applicationId: 'x', environment: null, organisation: 'ACME' },
      clock,
    );
    expect(new X509Certificate(sender.certificateDer).subject).not.toMatch(/OU=(PRD|ACC|INT|TST|DEV|SIM)$/m);
    expect(senderIdentityFromCertificate(sender.certificateDer).environment).toBeUndefined();
  });

  withOpenssl('openssl verify accepts the new sender and its PKCS#12 opens', async () => {
    const sender = await issueSenderCertificate(
      dir,
      { name: 'extra', cbe: '0861023666', applicationId: 'e' },
      clock,
    );
    expect(run('openssl', ['verify', '-CAfile', pki.ca.certPemPath, sender.certPemPath])).toContain(': OK');
    expect(
      run('openssl', [
        'pkcs12',
        '-info',
        '-nodes',
        '-in',
        sender.p12Path,
        '-passin',
        `pass:${sender.password}`,
      ]),
    ).toContain('friendlyName: extra');
  });

  test('refuses an invalid CBE, a bad name, an unknown environment', async () => {
    await expect(
      issueSenderCertificate(dir, { name: 'x', cbe: '0123456789', applicationId: 'x' }, clock),
    ).rejects.toThrow(/CBE/);
    await expect(
      issueSenderCertificate(dir, { name: '../escape', cbe: '0861023666', applicationId: 'x' }, clock),
    ).rejects.toThrow(/name/);
    await expect(
      issueSenderCertificate(
        dir,
        { name: 'x', cbe: '0861023666', applicationId: 'x', environment: 'XYZ' },
        clock,
      ),
    ).rejects.toThrow(/environment/);
  });
});
