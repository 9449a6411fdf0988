import { mkdtempSync, rmSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { X509Certificate } from 'node:crypto';
import { ManualClock } from '../../src/clock/clock';
import { CertificateValidator } from '../../src/pki/certificate-validator';
import { x509 } from '../../src/pki/crypto-engines';
import { ensureDevPki, type DevPki } from '../../src/pki/dev-pki';
import { createTestCa, issueTestCertificate, issuerFrom, type TestCertificate } from './certificate-fixtures';

const DAY = 24 * 60 * 60 * 1000;
const START = new Date('2026-01-15T09:00:00Z');

describe('CertificateValidator', () => {
  let dir: string;
  let pki: DevPki;
  let otherCa: TestCertificate;
  const clock = new ManualClock(START);

  beforeAll(async () => {
    dir = mkdtempSync(path.join(os.tmpdir(), 'rm-validator-'));
    pki = await ensureDevPki(dir, new ManualClock(START));
    otherCa = await createTestCa(
      'Other CA',
      new Date(START.getTime() - DAY),
      new Date(START.getTime() + 365 * DAY),
    );
  });
  afterAll(() => rmSync(dir, { recursive: true, force: true }));
  beforeEach(() => clock.set(START));

  const validator = () => new CertificateValidator([pki.ca.certificateDer], clock);

  /** A leaf from the dev CA's key, with the given key usage and validity. */
  async function devLeaf(options: { keyUsage?: x509.KeyUsageFlags; isCa?: boolean; from?: Date; to?: Date }) {
    const ca = await issuerFrom(pki.ca.certificateDer, pki.ca.privateKey);
    return issueTestCertificate(ca, {
      subject: [{ C: ['BE'] }, { CN: ['leaf'] }],
      notBefore: options.from ?? new Date(START.getTime() - DAY),
      notAfter: options.to ?? new Date(START.getTime() + DAY),
      keyUsage: options.keyUsage,
      isCa: options.isCa,
    });
  }

  test('accepts a dev sender and returns its path to the dev CA', async () => {
    const verdict = await validator().validate(pki.senders[0].certificateDer);
    expect(verdict).toEqual({ valid: true, chain: [pki.senders[0].certificateDer, pki.ca.certificateDer] });
  });

  test('refuses a sender once the clock passes its notAfter', async () => {
    const notAfter = new Date(new X509Certificate(pki.senders[0].certificateDer).validTo);
    clock.set(notAfter.getTime() + 1000);
    const verdict = await validator().validate(pki.senders[0].certificateDer);
    expect(verdict).toEqual({ valid: false, reason: expect.stringMatching(/not yet valid or expired/) });
  });

  test('refuses a certificate that is not yet valid', async () => {
    const leaf = await devLeaf({
      keyUsage: x509.KeyUsageFlags.digitalSignature,
      from: new Date(START.getTime() + DAY),
    });
    expect(await validator().validate(leaf.certificateDer)).toEqual({
      valid: false,
      reason: expect.stringMatching(/not yet valid or expired/),
    });
    clock.set(START.getTime() + 2 * DAY - 1000);
    const to = new Date(START.getTime() + 3 * DAY);
    const later = await devLeaf({
      keyUsage: x509.KeyUsageFlags.digitalSignature,
      from: new Date(START.getTime() + DAY),
      to,
    });
    expect((await validator().validate(later.certificateDer)).valid).toBe(true);
  });

  test('refuses a certificate from another CA', async () => {
    const foreign = await issueTestCertificate(otherCa, {
      subject: [{ CN: ['foreign'] }],
      notBefore: new Date(START.getTime() - DAY),
      notAfter: new Date(START.getTime() + DAY),
      keyUsage: x509.KeyUsageFlags.digitalSignature,
    });
    const verdict = await validator().validate(foreign.certificateDer);
    expect(verdict.valid).toBe(false);
    // Trusting that CA as well makes it acceptable.
    const both = new CertificateValidator([pki.ca.certificateDer, otherCa.certificateDer], clock);
    expect((await both.validate(foreign.certificateDer)).valid).toBe(true);
  });

  test('refuses a forged certificate: dev CA name, another key', async () => {
    const impostorCa = await createTestCa(
      'RegisteredMail Development Root CA',
      new Date(START.getTime() - DAY),
      new Date(START.getTime() + DAY),
    );
    const forged = await issueTestCertificate(
      { certificateDer: pki.ca.certificateDer, signingKey: impostorCa.signingKey },
      {
        subject: [{ CN: ['forged'] }],
        notBefore: new Date(START.getTime() - DAY),
        notAfter: new Date(START.getTime() + DAY),
      },
    );
    expect((await validator().validate(forged.certificateDer)).valid).toBe(false);
  });

  test('refuses a certificate whose key usage does not allow digitalSignature', async () => {
    const leaf = await devLeaf({ keyUsage: x509.KeyUsageFlags.keyEncipherment });
    expect(await validator().validate(leaf.certificateDer)).toEqual({
      valid: false,
      reason: 'key usage does not allow digitalSignature',
    });
  });

  test('accepts nonRepudiation with digitalSignature, and no key usage at all', async () => {
    const both = await devLeaf({
      keyUsage: x509.KeyUsageFlags.digitalSignature | x509.KeyUsageFlags.nonRepudiation,
    });
    expect((await validator().validate(both.certificateDer)).valid).toBe(true);
    const none = await devLeaf({});
    expect((await validator().validate(none.certificateDer)).valid).toBe(true);
  });

  test('refuses a CA certificate as leaf, the trust anchor included', async () => {
    const subCa = await devLeaf({
      isCa: true,
      keyUsage: x509.KeyUsageFlags.keyCertSign | x509.KeyUsageFlags.digitalSignature,
    });
    expect(await validator().validate(subCa.certificateDer)).toEqual({
      valid: false,
      reason: 'a CA certificate cannot be used as an end-entity certificate',
    });
    expect((await validator().validate(pki.ca.certificateDer)).valid).toBe(false);
  });

  test('builds a path through intermediates the caller supplies, not without them', async () => {
    const from = new Date(START.getTime() - DAY);
    const to = new Date(START.getTime() + DAY);
    const intermediate = await issueTestCertificate(otherCa, {
      subject: [{ CN: ['Intermediate CA'] }],
      notBefore: from,
      notAfter: to,
      isCa: true,
      keyUsage: x509.KeyUsageFlags.keyCertSign | x509.KeyUsageFlags.cRLSign,
    });
    const leaf = await issueTestCertificate(intermediate, {
      subject: [{ CN: ['deep leaf'] }],
      notBefore: from,
      notAfter: to,
      keyUsage: x509.KeyUsageFlags.digitalSignature,
    });
    const trustingOther = new CertificateValidator([otherCa.certificateDer], clock);
    expect(await trustingOther.validate(leaf.certificateDer, [intermediate.certificateDer])).toEqual({
      valid: true,
      chain: [leaf.certificateDer, intermediate.certificateDer, otherCa.certificateDer],
    });
    expect((await trustingOther.validate(leaf.certificateDer)).valid).toBe(false);
  });

  test('refuses bytes that are not a certificate', async () => {
    expect(await validator().validate(Buffer.from('not a certificate'))).toEqual({
      valid: false,
      reason: 'not a DER X.509 certificate',
    });
  });
});
