import { existsSync } from 'node:fs';
import fs from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { DOMParser } from '@xmldom/xmldom';
import { startService } from '../../src/app/start-service';
import { ManualClock } from '../../src/clock/clock';
import { ConfigError, loadConfig } from '../../src/config/config';
import { createLogger } from '../../src/logging/logger';
import { expectFault } from '../support/fault-assertions';
import { request } from '../support/raw-http';
import { startTestService, type TestService } from '../support/service-fixture';
import { selfSignedCertificate } from '../support/test-certificates';
import { healthCheckEnvelope } from '../support/v1-requests';

/*
 * The configuration table of the README, observed from outside: what refuses to start, which senders are
 * accepted under which settings, HTTPS, and values loadConfig refuses.
 */

const WSDL_SOAP_NS = 'http://schemas.xmlsoap.org/wsdl/soap/';
const HEALTH_CHECK_ACTION = 'http://socialsecurity.be/registeredmail/v1/healthCheck';

const temporaryDirectories: string[] = [];

async function temporaryDirectory(): Promise<string> {
  const directory = await fs.mkdtemp(path.join(os.tmpdir(), 'rm-it-config-'));
  temporaryDirectories.push(directory);
  return directory;
}

afterAll(async () => {
  for (const directory of temporaryDirectories) await fs.rm(directory, { recursive: true, force: true });
});

/**
 * Installs a dev PKI into a fresh data directory the way the service does (a first start), and returns
 * both, so that a configuration can name the PKI's files before the service that uses them starts.
 */
async function installDevPki(): Promise<{ dataDir: string; pkiDir: string }> {
  const dataDir = await temporaryDirectory();
  const installer = await startTestService({}, { dataDir });
  const pkiDir = installer.service.pki?.dir;
  await installer.close();
  if (!pkiDir) throw new Error('the first start installed no dev PKI');
  return { dataDir, pkiDir };
}

/** A signed healthCheck PING as the given sender (index into the dev senders). */
function ping(rm: TestService, senderIndex = 0) {
  return rm.postXml(rm.sign(healthCheckEnvelope('PING'), { sender: rm.senders[senderIndex] }), {
    SOAPAction: `"${HEALTH_CHECK_ACTION}"`,
  });
}

const notAuthorized = {
  code: 'SOA-01002',
  kind: 'SystemError',
  message: 'Service call not authorized.',
} as const;
const notAuthenticated = {
  code: 'SOA-01001',
  kind: 'SystemError',
  message: 'Service call not authenticated.',
} as const;

describe('RM_ENVIRONMENT=PRD', () => {
  /** What every proof states about its issuer: PRD refuses the development placeholders. */
  const productionOperator = {
    RM_OPERATOR_NAME: 'Example operator',
    RM_OPERATOR_CBE: '0206731645',
    RM_EVIDENCE_POLICY_ID: 'urn:oid:1.3.6.1.4.1.32473.522.9',
  };

  function startPrd(env: Record<string, string>) {
    return startService({
      env: { HOST: '127.0.0.1', RM_ENVIRONMENT: 'PRD', ...productionOperator, ...env },
      port: 0,
      clock: new ManualClock(Date.now()),
      logger: createLogger({ silent: true }),
    });
  }

  it('refuses to start without the operator identity that every proof states', async () => {
    const dataDir = await temporaryDirectory();
    await expect(startPrd({ RM_DATA_DIR: dataDir, RM_EVIDENCE_POLICY_ID: '' })).rejects.toThrow(
      /RM_ENVIRONMENT=PRD needs RM_OPERATOR_NAME, RM_OPERATOR_CBE and RM_EVIDENCE_POLICY_ID/,
    );
    expect(existsSync(path.join(dataDir, 'dev-pki'))).toBe(false);
  });

  it('refuses to start without RM_SIGNER_KEY, RM_SIGNER_CERT and RM_TRUST_DIR, generating nothing', async () => {
    const dataDir = await temporaryDirectory();
    await expect(startPrd({ RM_DATA_DIR: dataDir })).rejects.toThrow(
      /RM_ENVIRONMENT=PRD needs RM_SIGNER_KEY, RM_SIGNER_CERT and RM_TRUST_DIR/,
    );
    expect(existsSync(path.join(dataDir, 'dev-pki'))).toBe(false);
  });

  it('refuses to start on the development signer and CA even when configured explicitly', async () => {
    const { pkiDir } = await installDevPki();
    const dataDir = await temporaryDirectory();
    const trustDir = await temporaryDirectory();
    await fs.copyFile(path.join(pkiDir, 'ca/root-ca.cert.pem'), path.join(trustDir, 'root-ca.pem'));
    const attempt = startPrd({
      RM_DATA_DIR: dataDir,
      RM_SIGNER_KEY: path.join(pkiDir, 'signer/signer.key.pem'),
      RM_SIGNER_CERT: path.join(pkiDir, 'signer/signer.cert.pem'),
      RM_TRUST_DIR: trustDir,
    });
    await expect(attempt).rejects.toThrow(/PRD.*development PKI/);
  });
});

describe('RM_ENVIRONMENT=ACC with the dev senders (OU=INT)', () => {
  let rm: TestService;

  beforeAll(async () => {
    rm = await startTestService({ RM_ENVIRONMENT: 'ACC' });
  });
  afterAll(async () => {
    await rm.close();
  });

  it('answers SOA-01002 to a sender of another environment', async () => {
    expectFault(await ping(rm), { ...notAuthorized, environment: 'Acceptation' });
  });
});

describe('RM_SENDER_CERTS_DIR holding only the first sender', () => {
  let rm: TestService;

  beforeAll(async () => {
    const { dataDir, pkiDir } = await installDevPki();
    const allowlist = await temporaryDirectory();
    await fs.copyFile(
      path.join(pkiDir, 'senders/dev-sender-1.cert.pem'),
      path.join(allowlist, 'sender-1.pem'),
    );
    rm = await startTestService({ RM_SENDER_CERTS_DIR: allowlist }, { dataDir });
  });
  afterAll(async () => {
    await rm.close();
  });

  it('accepts the first sender', async () => {
    expect(rm.senders[0].name).toBe('dev-sender-1');
    expect((await ping(rm, 0)).status).toBe(200);
  });

  it('answers SOA-01002 to the second, trusted but not allowed', async () => {
    expectFault(await ping(rm, 1), notAuthorized);
  });
});

describe('RM_TRUST_DIR holding an unrelated CA', () => {
  let rm: TestService;

  beforeAll(async () => {
    const trustDir = await temporaryDirectory();
    const unrelated = await selfSignedCertificate({
      commonName: 'Unrelated Test CA',
      ca: true,
      validityDays: 365,
    });
    await fs.writeFile(path.join(trustDir, 'unrelated-ca.pem'), unrelated.certPem);
    rm = await startTestService({ RM_TRUST_DIR: trustDir });
  });
  afterAll(async () => {
    await rm.close();
  });

  it('answers SOA-01001 to a dev sender, whose CA is not trusted', async () => {
    expectFault(await ping(rm), notAuthenticated);
  });
});

describe('RM_TLS_KEY and RM_TLS_CERT', () => {
  let rm: TestService;
  let caPem: string;

  beforeAll(async () => {
    const tlsDir = await temporaryDirectory();
    const server = await selfSignedCertificate({
      commonName: 'localhost',
      dnsNames: ['localhost'],
      ipAddresses: ['127.0.0.1'],
    });
    caPem = server.certPem;
    await fs.writeFile(path.join(tlsDir, 'server.key.pem'), server.keyPem, { mode: 0o600 });
    await fs.writeFile(path.join(tlsDir, 'server.cert.pem'), server.certPem);
    rm = await startTestService({
      RM_TLS_KEY: path.join(tlsDir, 'server.key.pem'),
      RM_TLS_CERT: path.join(tlsDir, 'server.cert.pem'),
    });
  });
  afterAll(async () => {
    await rm.close();
  });

  it('serves the WSDL over HTTPS with an https soap:address', async () => {
    expect(rm.url).toMatch(/^https:\/\//);
    const result = await request(`${rm.url}?wsdl`, { ca: caPem });
    expect(result.status).toBe(200);
    const wsdl = new DOMParser().parseFromString(result.body.toString(), 'text/xml');
    const address = wsdl.getElementsByTagNameNS(WSDL_SOAP_NS, 'address')[0]?.getAttribute('location') ?? '';
    expect(address).toMatch(/^https:\/\//);
    expect(address).toBe(rm.url);
  });

  it('answers a signed request over HTTPS', async () => {
    const result = await request(rm.url, {
      method: 'POST',
      ca: caPem,
      headers: { 'Content-Type': 'text/xml; charset=utf-8', SOAPAction: `"${HEALTH_CHECK_ACTION}"` },
      body: rm.sign(healthCheckEnvelope('PING')),
    });
    expect(result.status).toBe(200);
    expect(result.body.toString()).toContain('HealthCheckResponse');
  });
});

describe('loadConfig refuses invalid values with a clear message', () => {
  it.each([
    [{ RM_FAULT_NAMESPACE: 'foo' }, /RM_FAULT_NAMESPACE must be consumer or provider/],
    [{ PORT: 'abc' }, /PORT must be/],
    [{ PORT: '-1' }, /PORT must be/],
    [{ PORT: '70000' }, /PORT/],
    [{ RM_MAX_PARTS: '1.5' }, /RM_MAX_PARTS must be/],
    [{ RM_ALLOW_SHA1: 'yes' }, /RM_ALLOW_SHA1 must be true or false/],
    [{ RM_TLS_KEY: '/tmp/key.pem' }, /RM_TLS_KEY and RM_TLS_CERT must be set together/],
    [{ RM_PUBLIC_URL: 'not a url' }, /RM_PUBLIC_URL/],
    [{ RM_SIGN_IN_THREAD_POOL: 'sometimes' }, /RM_SIGN_IN_THREAD_POOL must be true or false/],
    [{ RM_WORKER_V8_POOL_SIZE: 'two' }, /RM_WORKER_V8_POOL_SIZE must be a non-negative integer/],
    [{ RM_WORKER_V8_POOL_SIZE: '-1' }, /RM_WORKER_V8_POOL_SIZE must be a non-negative integer/],
    [{ RM_WORKER_V8_POOL_SIZE: '1000' }, /RM_WORKER_V8_POOL_SIZE must be at most 256/],
  ])('%j', (env, message) => {
    let thrown: unknown;
    try {
      loadConfig(env);
    } catch (error) {
      thrown = error;
    }
    expect(thrown).toBeInstanceOf(ConfigError);
    expect((thrown as Error).message).toMatch(message);
  });

  it('makes startService reject before anything is created', async () => {
    const dataDir = path.join(await temporaryDirectory(), 'never-created');
    await expect(
      startService({ env: { RM_DATA_DIR: dataDir, PORT: 'abc' }, logger: createLogger({ silent: true }) }),
    ).rejects.toThrow(/PORT must be/);
    expect(existsSync(dataDir)).toBe(false);
  });

  it('accepts an empty environment (every setting has a default)', () => {
    expect(loadConfig({}).faultNamespace).toBe('consumer');
  });

  it('signs in the thread pool with one process, on the event loop with several workers, unless told', () => {
    expect(loadConfig({ RM_WORKERS: '1' }).signInThreadPool).toBe(true);
    expect(loadConfig({ RM_WORKERS: '2' }).signInThreadPool).toBe(false);
    expect(loadConfig({ RM_WORKERS: '2', RM_SIGN_IN_THREAD_POOL: 'true' }).signInThreadPool).toBe(true);
    expect(loadConfig({ RM_WORKERS: '1', RM_SIGN_IN_THREAD_POOL: 'false' }).signInThreadPool).toBe(false);
  });

  it("leaves the workers' V8 pool size to the default unless RM_WORKER_V8_POOL_SIZE is set", () => {
    expect(loadConfig({}).workerV8PoolSize).toBeUndefined();
    expect(loadConfig({ RM_WORKER_V8_POOL_SIZE: '' }).workerV8PoolSize).toBeUndefined();
    expect(loadConfig({ RM_WORKER_V8_POOL_SIZE: '0' }).workerV8PoolSize).toBe(0);
    expect(loadConfig({ RM_WORKER_V8_POOL_SIZE: '3' }).workerV8PoolSize).toBe(3);
  });
});
