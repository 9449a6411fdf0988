import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { CMS_OIDS, type CmsAttribute } from '../../src/evidence/cms-detached-signature';
import { run } from '../support/external-tools';
import { opensslTsaConfig, type OpensslTsaKeyFiles } from '../support/openssl-tsa';

/*
 * An independent RFC 3161 TSA for tests: `openssl ts -query` then `openssl ts -reply` with a given key
 * and certificate (the dev TSA's by default), as a token (DER ContentInfo), with the shared test TSA
 * configuration of test/support/openssl-tsa.ts.
 * openssl stamps its own clock's time: tests that use these tokens sign at the real time.
 */

export { TEST_TSA_POLICY } from '../support/openssl-tsa';

/** The TSA's key and certificate files. */
export type TsaFiles = OpensslTsaKeyFiles;

/** A time-stamp token (with the TSA certificate) whose message imprint is the SHA-256 of `data`. */
export function opensslTimeStampToken(data: Buffer, tsa: TsaFiles): Buffer {
  const dir = mkdtempSync(path.join(os.tmpdir(), 'rm-tsa-'));
  try {
    const file = (name: string) => path.join(dir, name);
    writeFileSync(file('data'), data);
    writeFileSync(file('serial'), '01\n');
    writeFileSync(file('tsa.cnf'), opensslTsaConfig(file('serial')));
    run('openssl', ['ts', '-query', '-data', file('data'), '-sha256', '-cert', '-out', file('request.tsq')]);
    run('openssl', [
      'ts',
      '-reply',
      '-config',
      file('tsa.cnf'),
      '-queryfile',
      file('request.tsq'),
      '-inkey',
      tsa.keyPemPath,
      '-signer',
      tsa.certPemPath,
      '-token_out',
      '-out',
      file('token.der'),
    ]);
    return readFileSync(file('token.der'));
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
}

/** The signature-time-stamp unsigned attribute holding a token. */
export function signatureTimeStampAttribute(token: Buffer): CmsAttribute {
  return { type: CMS_OIDS.signatureTimeStampToken, values: [token] };
}

/**
 * The `unsignedAttributes` hook of createDetachedCmsSignature that time-stamps the signature value
 * with openssl (CAdES-T).
 */
export function opensslSignatureTimeStamp(
  tsa: TsaFiles,
): (signatureValue: Buffer) => Promise<CmsAttribute[]> {
  return async (signatureValue) => [signatureTimeStampAttribute(opensslTimeStampToken(signatureValue, tsa))];
}
