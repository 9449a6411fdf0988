import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { ManualClock } from '../../src/clock/clock';
import { ensureDevPki, type DevPki } from '../../src/pki/dev-pki';
import {
  certificatesFromPem,
  derToPem,
  readCertificateFromPemFile,
  readCertificatesFromPemDirectory,
  readCertificatesFromPemFile,
  readPrivateKeyFromPemFile,
} from '../../src/pki/pem';

describe('PEM files', () => {
  let pkiDir: string;
  let work: string;
  let pki: DevPki;

  beforeAll(async () => {
    pkiDir = mkdtempSync(path.join(os.tmpdir(), 'rm-pem-pki-'));
    pki = await ensureDevPki(pkiDir, new ManualClock('2026-05-01T00:00:00Z'));
  });
  beforeEach(() => {
    work = mkdtempSync(path.join(os.tmpdir(), 'rm-pem-'));
  });
  afterEach(() => rmSync(work, { recursive: true, force: true }));
  afterAll(() => rmSync(pkiDir, { recursive: true, force: true }));

  test('derToPem and certificatesFromPem round-trip, 64-character lines', () => {
    const pem = derToPem(pki.signer.certificateDer, 'CERTIFICATE');
    expect(
      pem
        .split('\n')
        .slice(1, -3)
        .every((line) => line.length === 64),
    ).toBe(true);
    expect(certificatesFromPem(pem)).toEqual([pki.signer.certificateDer]);
  });

  test('reads a leaf followed by its chain, leaf first', async () => {
    const file = path.join(work, 'chain.pem');
    writeFileSync(
      file,
      `leading text\n${derToPem(pki.signer.certificateDer, 'CERTIFICATE')}${derToPem(pki.ca.certificateDer, 'CERTIFICATE')}`,
    );
    expect(await readCertificatesFromPemFile(file)).toEqual([
      pki.signer.certificateDer,
      pki.ca.certificateDer,
    ]);
    expect(await readCertificateFromPemFile(file)).toEqual(pki.signer.certificateDer);
  });

  test('refuses a file without certificate, and a malformed certificate', async () => {
    const empty = path.join(work, 'empty.pem');
    writeFileSync(empty, 'nothing here');
    await expect(readCertificatesFromPemFile(empty)).rejects.toThrow(/no PEM certificate/);
    const broken = path.join(work, 'broken.pem');
    writeFileSync(broken, '-----BEGIN CERTIFICATE-----\nAAAA\n-----END CERTIFICATE-----\n');
    await expect(readCertificatesFromPemFile(broken)).rejects.toThrow(/not a valid X.509 certificate/);
  });

  test('reads a private key; the error names the file, never the content', async () => {
    const key = await readPrivateKeyFromPemFile(pki.signer.keyPemPath);
    expect(key.asymmetricKeyType).toBe('rsa');
    const notKey = path.join(work, 'not-a-key.pem');
    writeFileSync(notKey, 'SECRET-LOOKING-CONTENT');
    await expect(readPrivateKeyFromPemFile(notKey)).rejects.toThrow(/not-a-key\.pem: no readable/);
    await expect(readPrivateKeyFromPemFile(notKey)).rejects.not.toThrow(/SECRET/);
  });

  test('reads all certificates of a directory, in name order, without duplicates', async () => {
    writeFileSync(path.join(work, 'b.crt'), readFileSync(pki.senders[1].certPemPath));
    writeFileSync(
      path.join(work, 'a.pem'),
      `${derToPem(pki.senders[0].certificateDer, 'CERTIFICATE')}${derToPem(pki.senders[1].certificateDer, 'CERTIFICATE')}`,
    );
    writeFileSync(path.join(work, 'c.cer'), readFileSync(pki.ca.certPemPath));
    writeFileSync(path.join(work, 'key.pem'), readFileSync(pki.senders[0].keyPemPath));
    writeFileSync(path.join(work, 'notes.txt'), readFileSync(pki.signer.certPemPath));
    expect(await readCertificatesFromPemDirectory(work)).toEqual([
      pki.senders[0].certificateDer,
      pki.senders[1].certificateDer,
      pki.ca.certificateDer,
    ]);
  });

  test('a missing directory is an error', async () => {
    await expect(readCertificatesFromPemDirectory(path.join(work, 'absent'))).rejects.toThrow(/ENOENT/);
  });
});
