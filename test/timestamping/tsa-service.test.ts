import { randomBytes } from 'node:crypto';
import { copyFileSync, mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { startService, type RunningService } from '../../src/app/start-service';
import { ManualClock } from '../../src/clock/clock';
import { ConfigError, loadConfig } from '../../src/config/config';
import { createLogger } from '../../src/logging/logger';
import { EmbeddedTimeStampAuthority } from '../../src/timestamping/embedded-time-stamp-authority';
import { HttpTimeStampAuthority } from '../../src/timestamping/http-time-stamp-authority';
import { TimeStampUnavailableError } from '../../src/timestamping/time-stamp-authority';
import {
  decodeTimeStampRequest,
  decodeTimeStampResponse,
  encodeTimeStampRequest,
} from '../../src/timestamping/time-stamp-codec';
import { parseTimeStampToken } from '../../src/timestamping/time-stamp-token';
import { runStatus, testWithTool } from '../support/external-tools';
import { request } from '../support/raw-http';
import { selfSignedCertificate } from '../support/test-certificates';
import {
  createTsaTestPki,
  issueTsaCertificate,
  opensslQuery,
  sha256Imprint,
  writeTemp,
  type TsaTestPki,
} from './tsa-test-support';
import { OPENSSL_TSA_POLICY, opensslReply, startTsaWrapper } from './openssl-tsa-wrapper';

/*
 * The TSA as the service runs it: configured by RM_TSA_*, served at POST /tsa, refused at start-up when
 * its certificate cannot time-stamp.
 */

const opensslTest = testWithTool('openssl');

let testPki: TsaTestPki;
const started: RunningService[] = [];

beforeAll(async () => {
  testPki = await createTsaTestPki();
});
afterEach(async () => {
  await Promise.all(started.splice(0).map((service) => service.close()));
});
afterAll(() => testPki.dispose());

/** A data directory holding a copy of the test dev PKI (so nothing is generated). */
function dataDirWithDevPki(): string {
  const dataDir = mkdtempSync(path.join(testPki.dir, 'data-'));
  const source = testPki.pki.dir;
  const copy = (relative: string) => {
    mkdirSync(path.dirname(path.join(dataDir, 'dev-pki', relative)), { recursive: true });
    copyFileSync(path.join(source, relative), path.join(dataDir, 'dev-pki', relative));
  };
  for (const relative of [
    'dev-pki.json',
    'ca/root-ca.key.pem',
    'ca/root-ca.cert.pem',
    'signer/signer.key.pem',
    'signer/signer.cert.pem',
    'tsa/tsa.key.pem',
    'tsa/tsa.cert.pem',
    ...testPki.pki.senders.flatMap((sender) =>
      [sender.keyPemPath, sender.certPemPath, sender.p12Path].map((file) => path.relative(source, file)),
    ),
  ])
    copy(relative);
  return dataDir;
}

async function start(env: Record<string, string> = {}): Promise<RunningService> {
  const service = await startService({
    env: { RM_DATA_DIR: dataDirWithDevPki(), HOST: '127.0.0.1', ...env },
    port: 0,
    clock: new ManualClock(Date.now()),
    logger: createLogger({ silent: true }),
  });
  started.push(service);
  return service;
}

function postQuery(service: RunningService, body: Buffer, contentType = 'application/timestamp-query') {
  return request(`${service.baseUrl}/tsa`, {
    method: 'POST',
    headers: { 'Content-Type': contentType },
    body,
  });
}

describe('POST /tsa', () => {
  opensslTest('answers an openssl ts -query with a reply that openssl ts -verify accepts', async () => {
    const service = await start();
    const dataFile = writeTemp(testPki.dir, 'data.bin', randomBytes(500));
    const query = opensslQuery(testPki.dir, ['-data', dataFile, '-sha256', '-cert']);
    const answer = await postQuery(service, query);
    expect(answer.status).toBe(200);
    expect(answer.headers['content-type']).toBe('application/timestamp-reply');

    const replyFile = writeTemp(testPki.dir, 'reply.tsr', answer.body);
    const queryFile = writeTemp(testPki.dir, 'query.tsq', query);
    for (const source of [
      ['-queryfile', queryFile],
      ['-data', dataFile],
    ]) {
      const verified = runStatus('openssl', [
        'ts',
        '-verify',
        '-in',
        replyFile,
        ...source,
        '-CAfile',
        path.join(service.config.dataDir, 'dev-pki/ca/root-ca.cert.pem'),
      ]);
      expect(verified).toEqual({ status: 0, output: expect.stringContaining('Verification: OK') });
    }
  });

  it('answers a refused request with a TimeStampResp that says why (HTTP 200)', async () => {
    const service = await start();
    const answer = await postQuery(service, Buffer.from('garbage'));
    expect(answer.status).toBe(200);
    expect(decodeTimeStampResponse(answer.body)).toMatchObject({ status: 2, failures: ['badDataFormat'] });
  });

  it('answers 415 to another content type, 413 to a body over 64 KiB, 405 to GET', async () => {
    const service = await start();
    const query = encodeTimeStampRequest({ imprint: sha256Imprint(Buffer.from('x')), certReq: true });
    expect((await postQuery(service, query, 'application/octet-stream')).status).toBe(415);
    expect((await postQuery(service, Buffer.alloc(65 * 1024), 'application/timestamp-query')).status).toBe(
      413,
    );
    expect((await request(`${service.baseUrl}/tsa`)).status).toBe(405);
    // A content type parameter does not matter.
    const answer = await postQuery(service, query, 'Application/TimeStamp-Query; charset=binary');
    expect(answer.status).toBe(200);
  });

  it('is the embedded TSA that proofs use in-process', async () => {
    const service = await start({ RM_TSA_POLICY_OID: '1.2.3.4.5.6', RM_TSA_ACCURACY_MS: '250' });
    expect(service.timeStampAuthority).toBeInstanceOf(EmbeddedTimeStampAuthority);
    const token = parseTimeStampToken(
      await service.timeStampAuthority.timestamp(sha256Imprint(Buffer.from('p'))),
    );
    expect(token.tstInfo).toMatchObject({ policy: '1.2.3.4.5.6', accuracyMs: 250 });
  });

  it('is not served when RM_TSA_URL names an external TSA', async () => {
    const service = await start({ RM_TSA_URL: 'http://127.0.0.1:9/tsa' });
    expect(service.timeStampAuthority).toBeInstanceOf(HttpTimeStampAuthority);
    const query = encodeTimeStampRequest({ imprint: sha256Imprint(Buffer.from('x')), certReq: true });
    expect((await postQuery(service, query)).status).toBe(404);
  });
});

describe('RM_TSA_URL', () => {
  opensslTest('time-stamps with the external TSA, trusting RM_TSA_TRUST_DIR', async () => {
    const wrapper = await startTsaWrapper(async (query) => ({ body: await opensslReply(testPki, query) }));
    try {
      const trustDir = mkdtempSync(path.join(testPki.dir, 'tsa-trust-'));
      copyFileSync(testPki.pki.ca.certPemPath, path.join(trustDir, 'ca.pem'));
      const service = await start({
        RM_TSA_URL: wrapper.url,
        RM_TSA_TRUST_DIR: trustDir,
        RM_TSA_POLICY_OID: OPENSSL_TSA_POLICY,
      });
      const imprint = sha256Imprint(Buffer.from('external'));
      const token = parseTimeStampToken(await service.timeStampAuthority.timestamp(imprint));
      expect(token.tstInfo.imprint.digest).toEqual(imprint.digest);
      expect(decodeTimeStampRequest(wrapper.queries[0]).reqPolicy).toBe(OPENSSL_TSA_POLICY);
    } finally {
      await wrapper.close();
    }
  });

  opensslTest('fails with TimeStampUnavailableError when the external TSA is not trusted', async () => {
    const wrapper = await startTsaWrapper(async (query) => ({ body: await opensslReply(testPki, query) }));
    try {
      const trustDir = mkdtempSync(path.join(testPki.dir, 'tsa-trust-'));
      writeFileSync(
        path.join(trustDir, 'other.pem'),
        (await selfSignedCertificate({ commonName: 'Other', ca: true })).certPem,
      );
      const service = await start({ RM_TSA_URL: wrapper.url, RM_TSA_TRUST_DIR: trustDir });
      const attempt = service.timeStampAuthority.timestamp(sha256Imprint(Buffer.from('external')));
      await expect(attempt).rejects.toBeInstanceOf(TimeStampUnavailableError);
      await expect(attempt).rejects.toThrow(/the TSA certificate is not trusted/);
    } finally {
      await wrapper.close();
    }
  });
});

describe('RM_TSA_KEY and RM_TSA_CERT', () => {
  it('sign the tokens when set', async () => {
    const own = await issueTsaCertificate(testPki, 'none');
    const service = await start({ RM_TSA_KEY: own.keyPemPath, RM_TSA_CERT: own.certPemPath });
    const token = parseTimeStampToken(
      await service.timeStampAuthority.timestamp(sha256Imprint(Buffer.from('k'))),
    );
    expect(token.certificates).toContainEqual(own.signer.certificate);
  });

  it.each(['eku-not-critical', 'no-eku'] as const)(
    'refuse to start on a TSA certificate with %s, naming the file and the reason',
    async (flaw) => {
      const flawed = await issueTsaCertificate(testPki, flaw);
      const attempt = start({ RM_TSA_KEY: flawed.keyPemPath, RM_TSA_CERT: flawed.certPemPath });
      await expect(attempt).rejects.toBeInstanceOf(ConfigError);
      await expect(attempt).rejects.toThrow(
        new RegExp(
          `RM_TSA_CERT ${flawed.certPemPath.replace(/[.*+?^${}()|[\]\\]/g, '\\$&')}: the TSA certificate cannot time-stamp: it`,
        ),
      );
    },
  );
});

describe('RM_ENVIRONMENT=PRD', () => {
  const PRODUCTION_OPERATOR = {
    RM_OPERATOR_NAME: 'Example operator',
    RM_OPERATOR_CBE: '0206731645',
    RM_EVIDENCE_POLICY_ID: 'urn:oid:1.3.6.1.4.1.32473.522.9',
  };

  /** A signer and trust directory outside the dev PKI, so that the TSA rules are what is tested. */
  async function productionKeys(): Promise<Record<string, string>> {
    const dir = mkdtempSync(path.join(testPki.dir, 'prd-'));
    const signer = await selfSignedCertificate({ commonName: 'PRD signer' });
    const ca = await selfSignedCertificate({ commonName: 'PRD CA', ca: true });
    writeFileSync(path.join(dir, 'signer.key.pem'), signer.keyPem);
    writeFileSync(path.join(dir, 'signer.cert.pem'), signer.certPem);
    mkdirSync(path.join(dir, 'trust'));
    writeFileSync(path.join(dir, 'trust', 'ca.pem'), ca.certPem);
    return {
      RM_ENVIRONMENT: 'PRD',
      ...PRODUCTION_OPERATOR,
      RM_SIGNER_KEY: path.join(dir, 'signer.key.pem'),
      RM_SIGNER_CERT: path.join(dir, 'signer.cert.pem'),
      RM_TRUST_DIR: path.join(dir, 'trust'),
      RM_DATA_DIR: mkdtempSync(path.join(os.tmpdir(), 'rm-prd-')),
    };
  }

  async function attempt(env: Record<string, string>) {
    try {
      return await startService({
        env: { HOST: '127.0.0.1', ...env },
        port: 0,
        clock: new ManualClock(Date.now()),
        logger: createLogger({ silent: true }),
      });
    } finally {
      rmSync(env.RM_DATA_DIR, { recursive: true, force: true });
    }
  }

  it('refuses the dev PKI TSA by default', async () => {
    await expect(attempt(await productionKeys())).rejects.toThrow(
      /RM_ENVIRONMENT=PRD needs RM_TSA_KEY and RM_TSA_CERT \(or RM_TSA_URL\)/,
    );
  });

  it('refuses the dev TSA certificate configured explicitly', async () => {
    const env = {
      ...(await productionKeys()),
      RM_TSA_KEY: testPki.pki.tsa.keyPemPath,
      RM_TSA_CERT: testPki.pki.tsa.certPemPath,
    };
    await expect(attempt(env)).rejects.toThrow(/PRD: the TSA certificate belongs to a development PKI/);
  });

  it('refuses RM_TSA_URL without RM_TSA_TRUST_DIR', async () => {
    const env = { ...(await productionKeys()), RM_TSA_URL: 'https://tsa.example.be/tsa' };
    await expect(attempt(env)).rejects.toThrow(/PRD with RM_TSA_URL needs RM_TSA_TRUST_DIR/);
  });
});

describe('the RM_TSA_* configuration', () => {
  it('defaults to the embedded TSA with a 10 s timeout and 1 s accuracy', () => {
    expect(loadConfig({}).tsa).toEqual({
      keyPair: undefined,
      url: undefined,
      timeoutMs: 10_000,
      policyOid: undefined,
      accuracyMs: 1000,
      trustDir: undefined,
    });
  });

  it.each([
    [{ RM_TSA_URL: 'http://tsa', RM_TSA_KEY: 'k', RM_TSA_CERT: 'c' }, /either RM_TSA_URL or RM_TSA_KEY/],
    [{ RM_TSA_URL: 'ftp://tsa/x' }, /RM_TSA_URL must be an absolute http or https URL/],
    [{ RM_TSA_KEY: 'k' }, /RM_TSA_KEY and RM_TSA_CERT must be set together/],
    [{ RM_TSA_POLICY_OID: '1.2.x' }, /RM_TSA_POLICY_OID must be an object identifier/],
    [{ RM_TSA_TIMEOUT_MS: '0' }, /RM_TSA_TIMEOUT_MS must be a positive integer/],
    [{ RM_TSA_TRUST_DIR: '/tmp' }, /RM_TSA_TRUST_DIR is for an external TSA/],
  ])('refuses %j', (env, message) => {
    expect(() => loadConfig(env)).toThrow(message);
  });
});
