import { generateKeyPairSync } from 'node:crypto';
import { mkdtempSync, readdirSync, rmSync, writeFileSync } from 'node:fs';
import http from 'node:http';
import type { AddressInfo } from 'node:net';
import os from 'node:os';
import path from 'node:path';
import { ManualClock } from '../../src/clock/clock';
import { x509 } from '../../src/pki/crypto-engines';
import { issueCrl } from '../../src/pki/dev-crl';
import type { DevPkiKeyPair } from '../../src/pki/dev-pki';
import { storedState } from '../support/data-dir-state';
import { expectFault, type ExpectedFault } from '../support/fault-assertions';
import { startTestService, type TestSender, type TestService } from '../support/service-fixture';
import type { HttpResult } from '../support/soap-client';
import {
  healthCheckEnvelope,
  partsOf,
  samplePdf,
  sendDocumentEnvelope,
  type SendDocumentSpec,
} from '../support/v1-requests';

/*
 * Replay and revocation through the running service, over HTTP:
 * - a message (Timestamp Created + SignatureValue) is accepted once; the cache is in the database, so it
 *   holds across a restart and between two services on one data directory, and forgets entries after
 *   their expiry (purged on the clock's time);
 * - RM_CRL: a revoked sender certificate is SOA-01001, from a CRL file or from an HTTP URL refreshed
 *   when its nextUpdate passes; a badly signed CRL stops the start-up.
 */

const HEALTH_CHECK_ACTION = 'http://socialsecurity.be/registeredmail/v1/healthCheck';
const VALID_INSS = '85073003328';
const MINUTE = 60_000;

const notAuthenticated: ExpectedFault = {
  code: 'SOA-01001',
  kind: 'SystemError',
  message: 'Service call not authenticated.',
};

function citizenSpec(token: string, overrides: Partial<SendDocumentSpec> = {}): SendDocumentSpec {
  return {
    token,
    recipient: { kind: 'citizen', inss: VALID_INSS },
    document: { content: samplePdf(token), contentId: 'document@test' },
    ...overrides,
  };
}

/** The internal reasons of the refusals logged so far (never sent to the client). */
function loggedReasons(rm: TestService): string[] {
  return rm.logs
    .map((line) => JSON.parse(line) as { message?: string; reason?: unknown })
    .filter((entry) => entry.message === 'soap request' && typeof entry.reason === 'string')
    .map((entry) => entry.reason as string);
}

async function replayRows(rm: TestService): Promise<number> {
  const rows = (await rm.service.dataSource.query('SELECT COUNT(*) AS n FROM replay_cache')) as {
    n: number;
  }[];
  return Number(rows[0].n);
}

function healthCheck(rm: TestService, signed: string): Promise<HttpResult> {
  return rm.postXml(signed, { SOAPAction: HEALTH_CHECK_ACTION });
}

function expectOk(result: HttpResult): void {
  if (result.status !== 200)
    throw new Error(`HTTP ${result.status}: ${result.body.toString().slice(0, 1500)}`);
}

describe('replay', () => {
  let dataDir: string;
  let rm: TestService;
  const others: TestService[] = [];

  beforeAll(async () => {
    dataDir = mkdtempSync(path.join(os.tmpdir(), 'rm-replay-it-'));
    rm = await startTestService({}, { dataDir });
  });
  afterAll(async () => {
    for (const service of [rm, ...others]) await service.close();
    rmSync(dataDir, { recursive: true, force: true });
  });

  it('the same signed bytes posted twice: the second is SOA-01001 ("replayed") and nothing is stored twice', async () => {
    const spec = citizenSpec('T-replayed');
    const signed = rm.sign(sendDocumentEnvelope(spec));
    expectOk(await rm.postSwa(signed, partsOf(spec)));
    const before = await storedState(rm);
    const rowsBefore = await replayRows(rm);

    expectFault(await rm.postSwa(signed, partsOf(spec)), notAuthenticated);
    expect(await storedState(rm)).toEqual(before);
    expect(await replayRows(rm)).toBe(rowsBefore);
    expect(loggedReasons(rm).at(-1)).toMatch(/^replayed: /);

    // Signed anew (a later Timestamp), the same request is a retry and gets the same ticket.
    rm.clock.advance(1000);
    expectOk(await rm.postSwa(rm.sign(sendDocumentEnvelope(spec)), partsOf(spec)));
    expect((await storedState(rm)).items).toBe(before.items);
  });

  it('a request refused after authentication (FILE_B01) still counts as seen; a retry must be signed anew', async () => {
    const spec = citizenSpec('T-refused-later', {
      document: { content: samplePdf('x'), contentId: 'document@test', digestValue: 'A'.repeat(43) + '=' },
    });
    const signed = rm.sign(sendDocumentEnvelope(spec));
    const digestMismatch: ExpectedFault = { code: 'FILE_B01', kind: 'BusinessError' };
    expectFault(await rm.postSwa(signed, partsOf(spec)), digestMismatch);
    expectFault(await rm.postSwa(signed, partsOf(spec)), notAuthenticated);
    rm.clock.advance(1000);
    expectFault(await rm.postSwa(rm.sign(sendDocumentEnvelope(spec)), partsOf(spec)), digestMismatch);
  });

  it('a message refused by the policy (bad signature) is not recorded', async () => {
    rm.clock.advance(1000);
    const signed = rm.sign(healthCheckEnvelope('PING'));
    const rowsBefore = await replayRows(rm);
    const tampered = signed.replace('type="PING"', 'type="ALL"');
    expect(tampered).not.toBe(signed);
    expectFault(await healthCheck(rm, tampered), notAuthenticated);
    expect(await replayRows(rm)).toBe(rowsBefore);
    expectOk(await healthCheck(rm, signed));
  });

  it('survives a restart: a new service on the same data directory refuses the message', async () => {
    rm.clock.advance(1000);
    const signed = rm.sign(healthCheckEnvelope('PING'));
    expectOk(await healthCheck(rm, signed));
    const now = rm.clock.now();
    await rm.close();

    rm = await startTestService({}, { dataDir });
    rm.clock.set(now);
    expectFault(await healthCheck(rm, signed), notAuthenticated);
    expect(loggedReasons(rm).at(-1)).toMatch(/^replayed: /);
  });

  it('is shared by two services on one data directory; of two racing with one message, one wins', async () => {
    const second = await startTestService({}, { dataDir });
    others.push(second);
    rm.clock.advance(1000);
    second.clock.set(rm.clock.now());

    const signed = rm.sign(healthCheckEnvelope('PING'));
    expectOk(await healthCheck(rm, signed));
    expectFault(await healthCheck(second, signed), notAuthenticated);

    rm.clock.advance(1000);
    second.clock.set(rm.clock.now());
    const racing = rm.sign(healthCheckEnvelope('PING'));
    const outcomes = await Promise.all([healthCheck(rm, racing), healthCheck(second, racing)]);
    expect(outcomes.map((result) => result.status).sort()).toEqual([200, 500]);
  });

  it('forgets entries after their expiry: past Expires the purge removes them, and the Timestamp rule refuses', async () => {
    rm.clock.advance(1000);
    const old = rm.sign(healthCheckEnvelope('PING'));
    expectOk(await healthCheck(rm, old));
    expect(await replayRows(rm)).toBeGreaterThan(1);

    // Past the old message's Expires (300 s) and the purge interval (5 minutes of clock time).
    rm.clock.advance(6 * MINUTE);
    expectOk(await healthCheck(rm, rm.sign(healthCheckEnvelope('PING'))));
    expect(await replayRows(rm)).toBe(1);

    expectFault(await healthCheck(rm, old), notAuthenticated);
    expect(loggedReasons(rm).at(-1)).toMatch(/^Timestamp Created .* is older than 300 s$/);
  });
});

describe('revocation (RM_CRL)', () => {
  let dataDir: string;
  let ca: DevPkiKeyPair;
  let senders: TestSender[];
  const clock = new ManualClock();

  const serialOf = (sender: TestSender) => new x509.X509Certificate(sender.certPem).serialNumber;

  /** A CRL of the dev CA issued a minute ago (the service's clock starts at the wall clock's time). */
  function crl(revoked: TestSender[], times: { thisUpdate?: Date; nextUpdate?: Date } = {}): Promise<Buffer> {
    clock.set(Date.now() - MINUTE);
    return issueCrl(
      ca,
      { revoked: revoked.map((sender) => ({ serialNumber: serialOf(sender) })), ...times },
      clock,
    );
  }

  function ping(rm: TestService, sender: TestSender): Promise<HttpResult> {
    rm.clock.advance(1000);
    return healthCheck(rm, rm.sign(healthCheckEnvelope('PING'), { sender }));
  }

  beforeAll(async () => {
    dataDir = mkdtempSync(path.join(os.tmpdir(), 'rm-crl-it-'));
    // A first start lays the dev PKI in the data directory; its CA then issues the CRLs.
    const boot = await startTestService({}, { dataDir });
    ca = boot.service.pki!.ca;
    senders = boot.senders;
    await boot.close();
  });
  afterAll(() => rmSync(dataDir, { recursive: true, force: true }));

  it('from a file: the revoked sender is SOA-01001 ("revoked") and stores nothing; the other is answered', async () => {
    const file = path.join(dataDir, 'revokes-sender-2.crl');
    writeFileSync(file, await crl([senders[1]]));
    const rm = await startTestService({ RM_CRL: file }, { dataDir });
    try {
      expectOk(await ping(rm, senders[0]));
      expectFault(await ping(rm, senders[1]), notAuthenticated);
      expect(loggedReasons(rm).at(-1)).toMatch(/revoked: certificate serial/);

      const before = await storedState(rm);
      const spec = citizenSpec('T-revoked-sender');
      rm.clock.advance(1000);
      const result = await rm.postSwa(
        rm.sign(sendDocumentEnvelope(spec), { sender: senders[1] }),
        partsOf(spec),
      );
      expectFault(result, notAuthenticated);
      expect(await storedState(rm)).toEqual(before);
    } finally {
      await rm.close();
    }
  });

  it('from a URL: after nextUpdate the service fetches the new CRL, which revokes a sender', async () => {
    let served = await crl([], { nextUpdate: new Date(Date.now() + 10 * MINUTE) });
    let fetches = 0;
    const server = http.createServer((_request, response) => {
      fetches += 1;
      response.writeHead(200, { 'Content-Type': 'application/pkix-crl' }).end(served);
    });
    await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
    const url = `http://127.0.0.1:${(server.address() as AddressInfo).port}/dev-ca.crl`;
    const rm = await startTestService({ RM_CRL: url, RM_CRL_REFRESH_SECONDS: '86400' }, { dataDir });
    try {
      expectOk(await ping(rm, senders[1]));
      expect(readdirSync(path.join(dataDir, 'crl-cache'))).toHaveLength(1);

      const published = new Date(rm.clock.now().getTime() + 10 * MINUTE + 1000);
      clock.set(published);
      served = await issueCrl(
        ca,
        {
          revoked: [{ serialNumber: serialOf(senders[1]) }],
          nextUpdate: new Date(published.getTime() + 10 * MINUTE),
        },
        clock,
      );
      expectOk(await ping(rm, senders[1])); // the CRL held is still current: no fetch yet
      expect(fetches).toBe(1);

      rm.clock.set(published);
      expectFault(await ping(rm, senders[1]), notAuthenticated);
      expect(loggedReasons(rm).at(-1)).toMatch(/revoked: /);
      expectOk(await ping(rm, senders[0]));
      expect(fetches).toBe(2);
    } finally {
      await rm.close();
      await new Promise<void>((resolve) => server.close(() => resolve()));
    }
  });

  it('a CRL whose signature does not verify stops the start-up with a clear error', async () => {
    const forged = await issueCrl(
      {
        certificateDer: ca.certificateDer,
        privateKey: generateKeyPairSync('rsa', { modulusLength: 2048 }).privateKey,
      },
      { revoked: [] },
      clock,
    );
    const file = path.join(dataDir, 'forged.crl');
    writeFileSync(file, forged);
    await expect(startTestService({ RM_CRL: file }, { dataDir })).rejects.toThrow(
      /CRL .*forged\.crl: its signature does not verify with the key of any trust anchor/,
    );
  });
});
