import { spawn, spawnSync } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { X509Certificate } from 'node:crypto';
import { readFileSync } from 'node:fs';
import { get } from '../support/soap-client';

/*
 * The `registered-mail` command as a user runs it: a child process on the TypeScript sources (the same
 * entry point `npm start` runs once built), with a fresh data directory.
 */

const ROOT = path.join(__dirname, '../..');
const CLI = ['-r', 'ts-node/register', path.join(ROOT, 'src/cli/main.ts')];
const ENV = { ...process.env, TS_NODE_TRANSPILE_ONLY: '1', RM_LOG_LEVEL: 'warn' };

describe('registered-mail CLI', () => {
  let dataDir: string;
  beforeEach(() => {
    dataDir = mkdtempSync(path.join(os.tmpdir(), 'rm-cli-'));
  });
  afterEach(() => rmSync(dataDir, { recursive: true, force: true }));

  it('serve: creates the data directory and dev PKI on first run, prints how to call it, and serves the WSDL', async () => {
    const child = spawn(process.execPath, [...CLI, 'serve'], {
      cwd: ROOT,
      env: { ...ENV, RM_DATA_DIR: path.join(dataDir, 'data'), PORT: '0', HOST: '127.0.0.1' },
    });
    try {
      const banner = await new Promise<string>((resolve, reject) => {
        let out = '';
        child.stdout.on('data', (chunk: Buffer) => {
          out += chunk.toString();
          if (/sender:.*dev-sender-2/.test(out)) resolve(out);
        });
        child.once('exit', (code) => reject(new Error(`serve exited ${code}: ${out}`)));
      });
      const wsdlUrl = /WSDL:\s+(\S+)/.exec(banner)![1];
      expect(banner).toMatch(/dev PKI:.*dev-pki/);
      expect(banner).toMatch(/dev-sender-1 CBE 0861023666: .*dev-sender-1\.p12 \(PKCS#12, password changeit/);
      const wsdl = await get(wsdlUrl);
      expect(wsdl.status).toBe(200);
      expect(wsdl.body.toString()).toContain(`location="${wsdlUrl.replace('?wsdl', '')}"`);
    } finally {
      child.kill('SIGTERM');
      await new Promise((resolve) => child.once('exit', resolve));
    }
  });

  it('pki: issues a further sender certificate from the dev CA', () => {
    const result = spawnSync(process.execPath, [...CLI, 'pki', '--name', 'extra-app', '--cbe', '406798006'], {
      cwd: ROOT,
      env: { ...ENV, RM_DATA_DIR: dataDir },
      encoding: 'utf8',
    });
    expect(result.status).toBe(0);
    const issued = JSON.parse(result.stdout) as { cbe: string; certificate: string; pkcs12: string };
    expect(issued.cbe).toBe('0406798006');
    const certificate = new X509Certificate(readFileSync(issued.certificate));
    expect(certificate.subject).toContain('OU=urn:be:fgov:kbo-bce:organization:cbe-number:0406798006');
    expect(certificate.subject).toContain('CN=extra-app');
    const ca = new X509Certificate(readFileSync(path.join(dataDir, 'dev-pki/ca/root-ca.cert.pem')));
    expect(certificate.verify(ca.publicKey)).toBe(true);
  });

  it('pki: refuses an invalid CBE with a clear message', () => {
    const result = spawnSync(process.execPath, [...CLI, 'pki', '--name', 'x', '--cbe', '0123456789'], {
      cwd: ROOT,
      env: { ...ENV, RM_DATA_DIR: dataDir },
      encoding: 'utf8',
    });
    expect(result.status).not.toBe(0);
    expect(result.stderr).toMatch(/not a valid CBE number/);
  });
});
