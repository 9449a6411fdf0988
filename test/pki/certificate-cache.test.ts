import { X509Certificate } from 'node:crypto';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { ManualClock } from '../../src/clock/clock';
import { NotAuthorizedError } from '../../src/errors/faults';
import { certificatePublicKey } from '../../src/pki/certificate-public-key';
import { CertificateValidator, DEFAULT_VERDICT_CACHE_SIZE } from '../../src/pki/certificate-validator';
import { CrlRevocationChecker } from '../../src/pki/crl-revocation-checker';
import { x509 } from '../../src/pki/crypto-engines';
import { issueCrl } from '../../src/pki/dev-crl';
import { ensureDevPki, type DevPki } from '../../src/pki/dev-pki';
import { KnownCertificates } from '../../src/pki/known-certificates';
import { LruCache } from '../../src/pki/lru-cache';
import { senderIdentityFromCertificate } from '../../src/pki/sender-identity';
import { senderSubjectRdns } from '../../src/pki/sender-subject';
import { createTestCa, issueTestCertificate, issuerFrom, type TestCertificate } from './certificate-fixtures';

/*
 * The caches that spare a request the parsing and path validation of a certificate its sender already
 * sent: warm hits validate once, and nothing gets weaker (the clock leaving a validity period, a CRL
 * refresh, another certificate with the same subject, many certificates made up by an attacker).
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
  dir = mkdtempSync(path.join(os.tmpdir(), 'rm-certificate-cache-'));
  pki = await ensureDevPki(path.join(dir, 'dev-pki'), new ManualClock(START));
  otherCa = await createTestCa(
    'Other CA',
    new Date(START.getTime() - DAY),
    new Date(START.getTime() + 365 * DAY),
  );
});
afterAll(() => rmSync(dir, { recursive: true, force: true }));
beforeEach(() => clock.set(START));

const sender1 = () => pki.senders[0].certificateDer;
const sender2 = () => pki.senders[1].certificateDer;

/** A leaf of the dev CA with a sender subject. */
async function devLeaf(options: {
  applicationId?: string;
  keyUsage?: x509.KeyUsageFlags;
  from?: Date;
  to?: Date;
}): Promise<Buffer> {
  const ca = await issuerFrom(pki.ca.certificateDer, pki.ca.privateKey);
  const leaf = await issueTestCertificate(ca, {
    subject: senderSubjectRdns({
      organisation: 'Cache test',
      cbe: '0123456749',
      applicationId: options.applicationId ?? 'cache-app',
      environment: 'TST',
    }),
    notBefore: options.from ?? new Date(START.getTime() - DAY),
    notAfter: options.to ?? new Date(START.getTime() + 30 * DAY),
    keyUsage: options.keyUsage ?? x509.KeyUsageFlags.digitalSignature,
  });
  return leaf.certificateDer;
}

describe('CertificateValidator verdict cache', () => {
  test('a warm certificate is validated once over 100 validations, with the same verdict each time', async () => {
    const validator = new CertificateValidator([pki.ca.certificateDer], clock);
    for (let round = 0; round < 100; round += 1) {
      clock.advance(1000);
      // A fresh buffer each time, as each request decodes its own token.
      const verdict = await validator.validate(Buffer.from(sender1()));
      expect(verdict).toEqual({ valid: true, chain: [sender1(), pki.ca.certificateDer] });
    }
    expect(validator.chainValidations).toBe(1);
    expect(validator.cachedVerdicts).toBe(1);
  });

  test('a caller changing the chain it was given does not change the next verdict', async () => {
    const validator = new CertificateValidator([pki.ca.certificateDer], clock);
    const first = await validator.validate(sender1());
    if (!first.valid) throw new Error(first.reason);
    first.chain.pop();
    expect(await validator.validate(sender1())).toEqual({
      valid: true,
      chain: [sender1(), pki.ca.certificateDer],
    });
  });

  test('with a warm cache, the clock crossing notAfter refuses the certificate', async () => {
    const validator = new CertificateValidator([pki.ca.certificateDer], clock);
    expect((await validator.validate(sender1())).valid).toBe(true);
    const notAfter = new Date(new X509Certificate(sender1()).validTo).getTime();

    clock.set(notAfter); // the last valid instant (inclusive, as pkijs): still the cached verdict
    expect((await validator.validate(sender1())).valid).toBe(true);
    expect(validator.chainValidations).toBe(1);

    clock.set(notAfter + 1000);
    expect(await validator.validate(sender1())).toEqual({
      valid: false,
      reason: expect.stringMatching(/not yet valid or expired/),
    });
    expect(validator.chainValidations).toBe(2);
    expect(validator.cachedVerdicts).toBe(0);
  });

  test('with a warm cache, a clock set back before notBefore refuses the certificate', async () => {
    const from = new Date(START.getTime() - MINUTE);
    const leaf = await devLeaf({ from });
    const validator = new CertificateValidator([pki.ca.certificateDer], clock);
    expect((await validator.validate(leaf)).valid).toBe(true);
    clock.set(from.getTime() - 1000);
    expect(await validator.validate(leaf)).toMatchObject({
      valid: false,
      reason: /not yet valid or expired/,
    });
  });

  test('a certificate expiring before the one cached under the same subject is refused on its own dates', async () => {
    const lasting = await devLeaf({ to: new Date(START.getTime() + 30 * DAY) });
    const shortLived = await devLeaf({ to: new Date(START.getTime() + HOUR) });
    const validator = new CertificateValidator([pki.ca.certificateDer], clock);
    expect((await validator.validate(lasting)).valid).toBe(true);
    expect((await validator.validate(shortLived)).valid).toBe(true);
    clock.advance(2 * HOUR);
    expect((await validator.validate(lasting)).valid).toBe(true);
    expect(await validator.validate(shortLived)).toMatchObject({ valid: false, reason: /expired/ });
  });

  test('another certificate with the same subject is validated on its own (not the cached verdict)', async () => {
    const good = await devLeaf({});
    const noSigning = await devLeaf({ keyUsage: x509.KeyUsageFlags.keyEncipherment });
    const validator = new CertificateValidator([pki.ca.certificateDer], clock);
    expect((await validator.validate(good)).valid).toBe(true);
    expect(await validator.validate(noSigning)).toEqual({
      valid: false,
      reason: 'key usage does not allow digitalSignature',
    });
    expect(validator.chainValidations).toBe(2);
    expect(senderIdentityFromCertificate(good)).toEqual(senderIdentityFromCertificate(noSigning));
  });

  test('a certificate of another CA is refused at every request, and takes no place in the cache', async () => {
    const foreign = await issueTestCertificate(otherCa, {
      subject: [{ CN: ['foreign'] }],
      notBefore: new Date(START.getTime() - DAY),
      notAfter: new Date(START.getTime() + DAY),
    });
    const validator = new CertificateValidator([pki.ca.certificateDer], clock);
    for (let round = 0; round < 3; round += 1) {
      expect((await validator.validate(foreign.certificateDer)).valid).toBe(false);
    }
    expect(validator.chainValidations).toBe(3);
    expect(validator.cachedVerdicts).toBe(0);
  });

  test('at most verdictCacheSize paths are held, the least recently used forgotten first', async () => {
    const leaves = await Promise.all([1, 2, 3, 4].map((index) => devLeaf({ applicationId: `lru-${index}` })));
    const validator = new CertificateValidator([pki.ca.certificateDer], clock, undefined, {
      verdictCacheSize: 3,
    });
    for (const leaf of leaves.slice(0, 3)) await validator.validate(leaf);
    await validator.validate(leaves[0]); // now the most recently used: leaves[1] is the oldest
    expect(validator.chainValidations).toBe(3);

    await validator.validate(leaves[3]); // pushes out leaves[1]
    expect(validator.cachedVerdicts).toBe(3);
    expect(validator.chainValidations).toBe(4);
    await validator.validate(leaves[0]);
    await validator.validate(leaves[2]);
    expect(validator.chainValidations).toBe(4);
    await validator.validate(leaves[1]);
    expect(validator.chainValidations).toBe(5);
    expect(validator.cachedVerdicts).toBe(3);
  });

  test('verdictCacheSize 0 validates every time; the default holds 1000', async () => {
    const validator = new CertificateValidator([pki.ca.certificateDer], clock, undefined, {
      verdictCacheSize: 0,
    });
    await validator.validate(sender1());
    await validator.validate(sender1());
    expect(validator.chainValidations).toBe(2);
    expect(DEFAULT_VERDICT_CACHE_SIZE).toBe(1000);
  });
});

describe('CertificateValidator verdict cache with CRLs', () => {
  let fileCounter = 0;

  function serialOf(der: Buffer): string {
    return new x509.X509Certificate(new Uint8Array(der)).serialNumber;
  }

  async function writeCrl(file: string, revoked: Buffer[], nextUpdate?: Date): Promise<void> {
    const crl = await issueCrl(
      pki.ca,
      { revoked: revoked.map((der) => ({ serialNumber: serialOf(der) })), nextUpdate },
      clock,
    );
    writeFileSync(file, crl);
  }

  async function crlValidator(file: string, refreshSeconds = 3600) {
    const checker = await CrlRevocationChecker.load({
      sources: [file],
      trustAnchors: [pki.ca.certificateDer],
      clock,
      refreshSeconds,
      cacheDir: path.join(dir, `crl-cache-${(fileCounter += 1)}`),
    });
    return { checker, validator: new CertificateValidator([pki.ca.certificateDer], clock, checker) };
  }

  test('a CRL refresh that revokes a cached certificate refuses it at the next validation', async () => {
    const file = path.join(dir, `revoke-${(fileCounter += 1)}.crl`);
    await writeCrl(file, []);
    const { checker, validator } = await crlValidator(file);
    expect((await validator.validate(sender1())).valid).toBe(true);
    expect((await validator.validate(sender1())).valid).toBe(true);

    clock.advance(MINUTE);
    await writeCrl(file, [sender1()]);
    await checker.refresh();
    expect(await validator.validate(sender1())).toMatchObject({ valid: false, reason: /^revoked: / });
    expect((await validator.validate(sender2())).valid).toBe(true);
    // The path stayed valid: only the revocation check, asked at every validation, changed its answer.
    expect(validator.chainValidations).toBe(2);
  });

  test('the scheduled refresh is still driven by validations that hit the cache', async () => {
    const file = path.join(dir, `schedule-${(fileCounter += 1)}.crl`);
    await writeCrl(file, []);
    const { validator } = await crlValidator(file, 600);
    expect((await validator.validate(sender1())).valid).toBe(true);
    clock.advance(MINUTE);
    await writeCrl(file, [sender1()]);
    clock.set(START.getTime() + 600_000);
    expect(await validator.validate(sender1())).toMatchObject({ valid: false, reason: /^revoked: / });
  });

  test('a cached certificate is refused once its CRL is past nextUpdate and cannot be refreshed', async () => {
    const file = path.join(dir, `stale-${(fileCounter += 1)}.crl`);
    await writeCrl(file, [], new Date(START.getTime() + HOUR));
    const { validator } = await crlValidator(file, 24 * 3600);
    expect((await validator.validate(sender1())).valid).toBe(true);
    clock.set(START.getTime() + HOUR + 1);
    expect(await validator.validate(sender1())).toMatchObject({
      valid: false,
      reason: /^revocation status unknown: /,
    });
  });
});

describe('senderIdentityFromCertificate cache', () => {
  test('returns the same identity each time, as a copy the caller may change', async () => {
    const leaf = await devLeaf({ applicationId: 'identity-copy' });
    const first = senderIdentityFromCertificate(leaf);
    expect(first).toEqual({ cbe: '0123456749', applicationId: 'identity-copy', environment: 'TST' });
    first.cbe = 'changed';
    expect(senderIdentityFromCertificate(Buffer.from(leaf)).cbe).toBe('0123456749');
  });

  test('a certificate whose subject names no sender is refused every time', async () => {
    const ca = await issuerFrom(pki.ca.certificateDer, pki.ca.privateKey);
    const { certificateDer } = await issueTestCertificate(ca, {
      subject: [{ C: ['BE'] }, { CN: ['no-cbe'] }],
      notBefore: new Date(START.getTime() - DAY),
      notAfter: new Date(START.getTime() + DAY),
    });
    for (let round = 0; round < 2; round += 1) {
      expect(() => senderIdentityFromCertificate(certificateDer)).toThrow(NotAuthorizedError);
      try {
        senderIdentityFromCertificate(certificateDer);
      } catch (error) {
        expect((error as NotAuthorizedError).reason).toBe('sender certificate subject has no CBE number OU');
      }
    }
  });
});

describe('certificate public keys', () => {
  test('are read once per certificate; unreadable bytes give none', () => {
    const key = certificatePublicKey(sender1());
    expect(key?.asymmetricKeyType).toBe('rsa');
    expect(certificatePublicKey(Buffer.from(sender1()))).toBe(key);
    expect(certificatePublicKey(Buffer.from('not a certificate'))).toBeUndefined();
  });

  test('known certificates keep the key read at start-up and are found by their DER', () => {
    const known = new KnownCertificates([sender1()]);
    const found = known.byDer(Buffer.from(sender1()));
    expect(found?.publicKey.equals(new X509Certificate(sender1()).publicKey)).toBe(true);
    expect(known.byDer(sender2())).toBeUndefined();
  });
});

describe('LruCache', () => {
  test('holds at most its capacity whatever arrives, forgetting the least recently used', () => {
    const cache = new LruCache<number>(1000);
    for (let index = 0; index < 5000; index += 1) {
      cache.set(`key-${index}`, index);
      if (index >= 1) cache.get('key-0'); // kept warm: never forgotten
    }
    expect(cache.size).toBe(1000);
    expect(cache.get('key-0')).toBe(0);
    expect(cache.get('key-4999')).toBe(4999);
    expect(cache.get('key-4000')).toBe(undefined);
  });

  test('refuses a negative or fractional capacity', () => {
    expect(() => new LruCache(-1)).toThrow(RangeError);
    expect(() => new LruCache(1.5)).toThrow(RangeError);
  });
});
