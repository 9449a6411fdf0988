import { spawnSync } from 'node:child_process';
import { createHash, createPrivateKey, randomBytes, webcrypto } from 'node:crypto';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { ManualClock } from '../../src/clock/clock';
import { PemFileSigner } from '../../src/evidence/document-signer';
import { x509 } from '../../src/pki/crypto-engines';
import { ensureDevPki, type DevPki } from '../../src/pki/dev-pki';
import { derToPem } from '../../src/pki/pem';
import type { MessageImprint } from '../../src/timestamping/time-stamp-authority';
import { run } from '../support/external-tools';

/*
 * What the time-stamping tests share: a dev PKI in a temp directory (its TSA key and certificate, its CA),
 * certificates of the dev CA that must not time-stamp, and openssl's view of requests and replies.
 */

/** A dev PKI for one test file, with a clock at the real time (openssl checks validity at real time). */
export interface TsaTestPki {
  dir: string;
  pki: DevPki;
  clock: ManualClock;
  /** The dev TSA as a signer, its chain being the dev CA. */
  signer: PemFileSigner;
  /** Removes the directory. */
  dispose(): void;
}

/** Generates a dev PKI in a fresh temp directory. */
export async function createTsaTestPki(): Promise<TsaTestPki> {
  const dir = mkdtempSync(path.join(os.tmpdir(), 'rm-tsa-test-'));
  const clock = new ManualClock(Date.now());
  const pki = await ensureDevPki(path.join(dir, 'dev-pki'), clock);
  return {
    dir,
    pki,
    clock,
    signer: new PemFileSigner(pki.tsa.privateKey, pki.tsa.certificateDer, [pki.ca.certificateDer]),
    dispose: () => rmSync(dir, { recursive: true, force: true }),
  };
}

/** How a certificate of the dev CA may be wrong for a TSA. */
export type TsaCertificateFlaw = 'eku-not-critical' | 'no-eku' | 'eku-with-other-usage';

/** A key and certificate issued by the dev CA, written as PEM files. */
export interface IssuedTsaCertificate {
  keyPemPath: string;
  certPemPath: string;
  signer: PemFileSigner;
}

const RSA = { name: 'RSASSA-PKCS1-v1_5', hash: 'SHA-256' } as const;

/** A TSA-like certificate of the dev CA with the given flaw (or none), and its key. */
export async function issueTsaCertificate(
  testPki: TsaTestPki,
  flaw: TsaCertificateFlaw | 'none',
): Promise<IssuedTsaCertificate> {
  const { pki, clock } = testPki;
  const caKey = await webcrypto.subtle.importKey(
    'pkcs8',
    pki.ca.privateKey.export({ type: 'pkcs8', format: 'der' }),
    RSA,
    false,
    ['sign'],
  );
  const keys = (await webcrypto.subtle.generateKey(
    { ...RSA, modulusLength: 2048, publicExponent: new Uint8Array([1, 0, 1]) },
    true,
    ['sign', 'verify'],
  )) as webcrypto.CryptoKeyPair;
  const ca = new x509.X509Certificate(new Uint8Array(pki.ca.certificateDer));
  const usages: Record<TsaCertificateFlaw | 'none', x509.Extension[]> = {
    none: [new x509.ExtendedKeyUsageExtension([x509.ExtendedKeyUsage.timeStamping], true)],
    'eku-not-critical': [new x509.ExtendedKeyUsageExtension([x509.ExtendedKeyUsage.timeStamping], false)],
    'no-eku': [],
    'eku-with-other-usage': [
      new x509.ExtendedKeyUsageExtension(
        [x509.ExtendedKeyUsage.timeStamping, x509.ExtendedKeyUsage.serverAuth],
        true,
      ),
    ],
  };
  const now = clock.now().getTime();
  const certificate = await x509.X509CertificateGenerator.create({
    serialNumber: `01${randomBytes(15).toString('hex')}`,
    subject: `C=BE, O=RegisteredMail tests, CN=TSA certificate (${flaw})`,
    issuer: ca.subjectName,
    notBefore: new Date(now - 3_600_000),
    notAfter: new Date(now + 30 * 86_400_000),
    publicKey: keys.publicKey,
    signingKey: caKey,
    signingAlgorithm: RSA,
    extensions: [
      new x509.BasicConstraintsExtension(false, undefined, true),
      new x509.KeyUsagesExtension(x509.KeyUsageFlags.digitalSignature, true),
      ...usages[flaw],
    ],
  });
  const certificateDer = Buffer.from(certificate.rawData);
  const pkcs8 = Buffer.from(await webcrypto.subtle.exportKey('pkcs8', keys.privateKey));
  const stem = path.join(testPki.dir, `tsa-${flaw}-${randomBytes(4).toString('hex')}`);
  writeFileSync(`${stem}.key.pem`, derToPem(pkcs8, 'PRIVATE KEY'), { mode: 0o600 });
  writeFileSync(`${stem}.cert.pem`, derToPem(certificateDer, 'CERTIFICATE'));
  const privateKey = createPrivateKey({ key: pkcs8, format: 'der', type: 'pkcs8' });
  return {
    keyPemPath: `${stem}.key.pem`,
    certPemPath: `${stem}.cert.pem`,
    signer: new PemFileSigner(privateKey, certificateDer, [pki.ca.certificateDer]),
  };
}

/** The SHA-256 imprint of some bytes. */
export function sha256Imprint(data: Buffer): MessageImprint {
  return { hashAlgorithm: 'SHA-256', digest: createHash('sha256').update(data).digest() };
}

/** Writes bytes to a fresh file of the directory and returns its path. */
export function writeTemp(dir: string, name: string, data: Buffer | string): string {
  const file = path.join(dir, `${randomBytes(4).toString('hex')}-${name}`);
  writeFileSync(file, data);
  return file;
}

/** `openssl ts -query` with the given arguments (e.g. `-data file -cert`): the TimeStampReq DER. */
export function opensslQuery(dir: string, args: string[]): Buffer {
  const out = path.join(dir, `${randomBytes(4).toString('hex')}.tsq`);
  run('openssl', ['ts', '-query', ...args, '-out', out]);
  return readFileSync(out);
}

/** `openssl ts -reply -text` of a TimeStampResp (or of a token alone). */
export function opensslReplyText(dir: string, der: Buffer, options: { tokenIn?: boolean } = {}): string {
  const file = writeTemp(dir, options.tokenIn ? 'token.der' : 'reply.tsr', der);
  return run('openssl', ['ts', '-reply', '-in', file, ...(options.tokenIn ? ['-token_in'] : []), '-text']);
}

/**
 * For tests that only partly need openssl: whether it runs. Missing, it fails the test under CI=true and
 * is reported (the openssl part skipped) elsewhere.
 */
export function opensslRuns(): boolean {
  if (spawnSync('openssl', ['version'], { stdio: 'ignore' }).error === undefined) return true;
  const message = 'openssl is not on the PATH: the openssl part of this test cannot run';
  if (process.env.CI === 'true') throw new Error(message);
  console.warn(`${message} (skipped; it fails when CI=true)`);
  return false;
}
