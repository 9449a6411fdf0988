import { createHash, randomUUID } from 'node:crypto';
import { existsSync, readFileSync } from 'node:fs';
import fs from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import winston from 'winston';
import { startService, type RunningService } from '../../src/app/start-service';
import { ManualClock, systemClock } from '../../src/clock/clock';
import { ensureDevPki, type DevPkiSender } from '../../src/pki/dev-pki';
import { logLinesTransport } from './log-lines';
import { verifyAllReceipts } from './receipt-verification';
import { buildSwaRequest, post, type HttpResult, type TestPart } from './soap-client';
import { removeTestDataDir, testServiceEnvironment } from './test-database';
import { signEnvelope, type WssSignOptions } from './wss-signer';

/** A sender's key and certificate as PEM text. */
export interface TestSender {
  name: string;
  cbe: string;
  applicationId: string;
  keyPem: string;
  certPem: string;
}

/** A service started for a test on a fresh data directory, with a clock the test moves. */
export interface TestService {
  service: RunningService;
  url: string;
  baseUrl: string;
  dataDir: string;
  clock: ManualClock;
  senders: TestSender[];
  /** Every JSON log line written so far. */
  logs: string[];
  /** Signs an envelope as the given sender (default the first) at the clock's time. */
  sign(envelope: string, options?: Partial<WssSignOptions> & { sender?: TestSender }): string;
  /** POSTs a single-part SOAP request. */
  postXml(envelope: string, headers?: Record<string, string>): Promise<HttpResult>;
  /** POSTs a SOAP with Attachments request. */
  postSwa(envelope: string, parts: TestPart[], headers?: Record<string, string>): Promise<HttpResult>;
  close(): Promise<void>;
}

function toTestSender(sender: DevPkiSender): TestSender {
  return {
    name: sender.name,
    cbe: sender.cbe,
    applicationId: sender.applicationId,
    keyPem: readFileSync(sender.keyPemPath, 'utf8'),
    certPem: readFileSync(sender.certPemPath, 'utf8'),
  };
}

/**
 * A dev PKI generated once per jest worker and copied into each test's data directory: RSA key
 * generation is most of a service's start-up time. The service loads it as it would its own.
 */
async function cachedDevPki(): Promise<string> {
  // Keyed by the generator's source, so a changed generator never serves an old PKI; generated in a
  // private directory and renamed into place, so concurrent test runs never mix two CAs.
  const source = readFileSync(path.join(__dirname, '../../src/pki/dev-pki.ts'));
  const key = createHash('sha256').update(source).digest('hex').slice(0, 12);
  const dir = path.join(os.tmpdir(), `rm-test-dev-pki-${key}-${process.env.JEST_WORKER_ID ?? '0'}`);
  if (existsSync(path.join(dir, 'dev-pki.json'))) return dir;
  const fresh = await fs.mkdtemp(`${dir}.tmp-`);
  await ensureDevPki(fresh, systemClock);
  await fs.rename(fresh, dir).catch(() => fs.rm(fresh, { recursive: true, force: true }));
  return dir;
}

/**
 * Starts the service as `npm start` would, on port 0 and a temp data directory (or `options.dataDir`,
 * which close() then leaves in place), on a new ManualClock (or `options.clock`, to share one clock with
 * an e-Box simulator or another service). Its database is the run's (see test-database.ts): the SQLite
 * file in the data directory, or in the "postgres" jest project the PostgreSQL database of the data
 * directory, given to the service as RM_DATABASE_URL (unless `env` names one); services started on one
 * data directory share it, and close() drops it with the directory it removes.
 */
export async function startTestService(
  env: Record<string, string> = {},
  options: { dataDir?: string; clock?: ManualClock } = {},
): Promise<TestService> {
  const dataDir = options.dataDir ?? (await fs.mkdtemp(path.join(os.tmpdir(), 'rm-it-')));
  if (!env.RM_SIGNER_KEY || !env.RM_TRUST_DIR) {
    await fs.cp(await cachedDevPki(), path.join(dataDir, 'dev-pki'), {
      recursive: true,
      force: false,
      errorOnExist: false,
    });
  }
  const clock = options.clock ?? new ManualClock(Date.now());
  const logs: string[] = [];
  const logger = winston.createLogger({
    level: 'debug',
    format: winston.format.json(),
    transports: [logLinesTransport(logs)],
  });
  const service = await startService({
    env: { RM_DATA_DIR: dataDir, HOST: '127.0.0.1', ...(await testServiceEnvironment(dataDir)), ...env },
    port: 0,
    clock,
    logger,
  });
  const senders = (service.pki?.senders ?? []).map(toTestSender);
  const url = `${service.baseUrl}/RegisteredMail/v1`;
  const fixture: TestService = {
    service,
    url,
    baseUrl: service.baseUrl,
    dataDir,
    clock,
    senders,
    logs,
    sign(envelope, signOptions = {}) {
      const sender = signOptions.sender ?? senders[0];
      // Fresh Ids each time, as WSS4J and zeep write them: two signings of the same content at the same
      // clock time are then two messages, not a replay.
      const unique = randomUUID();
      return signEnvelope(envelope, {
        keyPem: sender.keyPem,
        certPem: sender.certPem,
        created: clock.now(),
        ...signOptions,
        ids: {
          body: `id-${unique}`,
          timestamp: `TS-${unique}`,
          token: `X509-${unique}`,
          signature: `SIG-${unique}`,
          ...signOptions.ids,
        },
      });
    },
    postXml(envelope, headers = {}) {
      return post(url, envelope, { 'Content-Type': 'text/xml; charset=utf-8', SOAPAction: '""', ...headers });
    },
    postSwa(envelope, parts, headers = {}) {
      const request = buildSwaRequest(envelope, parts);
      return post(url, request.body, { 'Content-Type': request.contentType, SOAPAction: '""', ...headers });
    },
    async close() {
      await service.close();
      try {
        // Every receipt and every proof of dispatch or consultation the suite produces must verify with
        // openssl and Bouncy Castle (issues 4 and 5).
        const caFile = service.pki?.ca.certPemPath;
        await verifyAllReceipts(dataDir, caFile ? { caFiles: [caFile] } : undefined);
      } finally {
        if (!options.dataDir) await removeTestDataDir(dataDir);
      }
    },
  };
  return fixture;
}
