import { constants, verify, X509Certificate } from 'node:crypto';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { ManualClock } from '../../src/clock/clock';
import { PemFileSigner, type SigningOptions } from '../../src/evidence/document-signer';
import { ensureDevPki, type DevPki } from '../../src/pki/dev-pki';

describe('PemFileSigner', () => {
  let dir: string;
  let pki: DevPki;

  beforeAll(async () => {
    dir = mkdtempSync(path.join(os.tmpdir(), 'rm-signer-'));
    pki = await ensureDevPki(dir, new ManualClock('2026-06-01T00:00:00Z'));
  });
  afterAll(() => rmSync(dir, { recursive: true, force: true }));

  test.each<[string, SigningOptions]>([
    ['in the thread pool (default)', {}],
    ['on the event loop', { threadPool: false }],
  ])('signs with RSASSA-PKCS1-v1_5 and SHA-256, %s', async (_where, options) => {
    const signer = new PemFileSigner(pki.signer.privateKey, pki.signer.certificateDer, [], options);
    const data = Buffer.from('data to sign');
    const signature = await signer.sign(data);
    const publicKey = new X509Certificate(signer.certificate).publicKey;
    expect(verify('sha256', data, { key: publicKey, padding: constants.RSA_PKCS1_PADDING }, signature)).toBe(
      true,
    );
    expect(verify('sha256', Buffer.from('other'), publicKey, signature)).toBe(false);
    // PKCS#1 v1.5 is deterministic: the same signature wherever it is computed.
    const elsewhere = new PemFileSigner(pki.signer.privateKey, pki.signer.certificateDer, [], {
      threadPool: !(options.threadPool ?? true),
    });
    expect(await elsewhere.sign(data)).toEqual(signature);
  });

  test('a failure to sign on the event loop is a rejected promise, not a throw', async () => {
    const signer = new PemFileSigner(pki.signer.privateKey, pki.signer.certificateDer, [], {
      threadPool: false,
    });
    const notBytes = 42 as unknown as Buffer;
    let returned: Promise<Buffer> | undefined;
    expect(() => {
      returned = signer.sign(notBytes);
    }).not.toThrow();
    await expect(returned).rejects.toThrow();
  });

  test('reads the key and a certificate file holding the chain', async () => {
    const chainFile = path.join(dir, 'signer-chain.pem');
    writeFileSync(
      chainFile,
      readFileSync(pki.signer.certPemPath, 'utf8') + readFileSync(pki.ca.certPemPath, 'utf8'),
    );
    const signer = await PemFileSigner.fromPemFiles(pki.signer.keyPemPath, chainFile);
    expect(signer.certificate).toEqual(pki.signer.certificateDer);
    expect(signer.chain).toEqual([pki.ca.certificateDer]);
    const separate = await PemFileSigner.fromPemFiles(pki.signer.keyPemPath, pki.signer.certPemPath, [
      pki.ca.certPemPath,
    ]);
    expect(separate.chain).toEqual([pki.ca.certificateDer]);
  });

  test('refuses a key that does not belong to the certificate', () => {
    expect(() => new PemFileSigner(pki.tsa.privateKey, pki.signer.certificateDer)).toThrow(
      'the signing key does not belong to the signing certificate',
    );
  });
});
