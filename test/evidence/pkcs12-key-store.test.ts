import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { readPkcs12KeyStore } from '../../src/app/pkcs12-key-store';
import { ConfigError } from '../../src/config/config';
import { PemFileSigner } from '../../src/evidence/document-signer';
import { ManualClock } from '../../src/clock/clock';
import { DEV_PKCS12_PASSWORD, ensureDevPki, type DevPki } from '../../src/pki/dev-pki';
import { encodePkcs12 } from '../../src/pki/pkcs12';
import { run, testWithTool } from '../support/external-tools';

const withOpenssl = testWithTool('openssl', ['version']);

describe('readPkcs12KeyStore (RM_SIGNER_P12)', () => {
  let dir: string;
  let pki: DevPki;

  beforeAll(async () => {
    dir = mkdtempSync(path.join(os.tmpdir(), 'rm-p12-'));
    pki = await ensureDevPki(path.join(dir, 'pki'), new ManualClock(Date.now()));
  });
  afterAll(() => rmSync(dir, { recursive: true, force: true }));

  test('reads the dev PKI key store (PBES2, AES-256): key, certificate and chain', async () => {
    const sender = pki.senders[0];
    const entry = await readPkcs12KeyStore(sender.p12Path, sender.password);
    expect(entry.certificate).toEqual(sender.certificateDer);
    expect(entry.chain).toEqual([pki.ca.certificateDer]);
    const signer = new PemFileSigner(entry.privateKey, entry.certificate, entry.chain);
    expect((await signer.sign(Buffer.from('x'))).length).toBe(256);
  });

  test('finds the key certificate and orders the chain whatever the bag order', async () => {
    const file = path.join(dir, 'reversed.p12');
    writeFileSync(
      file,
      encodePkcs12({
        alias: 'signer',
        privateKey: pki.signer.privateKey,
        chain: [pki.ca.certificateDer, pki.signer.certificateDer],
        password: 'pw',
      }),
    );
    const entry = await readPkcs12KeyStore(file, 'pw');
    expect(entry.certificate).toEqual(pki.signer.certificateDer);
    expect(entry.chain).toEqual([pki.ca.certificateDer]);
  });

  withOpenssl('reads what openssl 3 writes by default (AES-256, PBKDF2-SHA256, SHA-256 MAC)', async () => {
    const file = path.join(dir, 'openssl.p12');
    run('openssl', [
      'pkcs12',
      '-export',
      '-inkey',
      pki.signer.keyPemPath,
      '-in',
      pki.signer.certPemPath,
      '-certfile',
      pki.ca.certPemPath,
      '-passout',
      'pass:s3cret',
      '-out',
      file,
    ]);
    const entry = await readPkcs12KeyStore(file, 's3cret');
    expect(entry.certificate).toEqual(pki.signer.certificateDer);
    expect(entry.chain).toEqual([pki.ca.certificateDer]);
  });

  test('a wrong password is a ConfigError naming the file, not the password', async () => {
    const attempt = readPkcs12KeyStore(pki.senders[0].p12Path, 'not-the-password');
    await expect(attempt).rejects.toBeInstanceOf(ConfigError);
    await expect(attempt).rejects.toThrow(/RM_SIGNER_P12 .*dev-sender-1\.p12 cannot be read: .*password/);
    await expect(attempt).rejects.not.toThrow(/not-the-password/);
  });

  withOpenssl('a store without a key, or a missing file, is a ConfigError', async () => {
    const file = path.join(dir, 'certificates-only.p12');
    run('openssl', [
      'pkcs12',
      '-export',
      '-nokeys',
      '-in',
      pki.signer.certPemPath,
      '-passout',
      'pass:pw',
      '-out',
      file,
    ]);
    await expect(readPkcs12KeyStore(file, 'pw')).rejects.toThrow(
      /holds 0 private keys; it must hold exactly one/,
    );
    await expect(readPkcs12KeyStore(path.join(dir, 'absent.p12'), DEV_PKCS12_PASSWORD)).rejects.toThrow(
      /RM_SIGNER_P12 .*absent\.p12: ENOENT/,
    );
  });
});
