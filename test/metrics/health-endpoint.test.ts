import net from 'node:net';
import { DOMParser } from '@xmldom/xmldom';
import { startTestService, type TestService } from '../support/service-fixture';
import { get, type HttpResult } from '../support/soap-client';
import {
  healthCheckEnvelope,
  partsOf,
  samplePdf,
  sendDocumentEnvelope,
  type SendDocumentSpec,
} from '../support/v1-requests';
import { expectFault } from '../support/fault-assertions';
import { scrape } from './prometheus-scrape';

/*
 * GET /health: the sanity checks of healthCheck DEEP (database, blob store, signer, TSA, e-Box) as JSON,
 * 200 while they pass, 503 naming what failed, without the failures' messages (they go to the log), and
 * never a stack trace. An external TSA is another test service's embedded one (`POST /tsa`, same dev CA).
 */

interface HealthBody {
  level: string;
  at: string;
  failed: string[];
  checks: { id: string; resource: string; type: string; level: string; timeInMillis: number }[];
}

const TIME_STAMPS = 'registered_mail_time_stamp_duration_seconds';
const MON = 'http://services.fgov.be/monitoring/v1';

async function health(rm: TestService): Promise<{ result: HttpResult; body: HealthBody }> {
  const result = await get(`${rm.baseUrl}/health`);
  expect(result.headers['content-type']).toBe('application/json; charset=utf-8');
  expect(result.headers['cache-control']).toBe('no-store');
  return { result, body: JSON.parse(result.body.toString('utf8')) as HealthBody };
}

function levelsOf(body: HealthBody): Record<string, string> {
  return Object.fromEntries(body.checks.map((check) => [check.resource, check.level]));
}

/** A 127.0.0.1 port that nothing listens on (taken, then released). */
async function closedPort(): Promise<number> {
  const server = net.createServer();
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const { port } = server.address() as net.AddressInfo;
  await new Promise<void>((resolve) => server.close(() => resolve()));
  return port;
}

function sendDocument(rm: TestService, token: string): Promise<HttpResult> {
  const spec: SendDocumentSpec = {
    token,
    recipient: { kind: 'citizen', inss: '85073003328' },
    document: { content: samplePdf(token), contentId: 'document@test' },
    checkEboxStatus: 'BYPASS',
  };
  return rm.postSwa(rm.sign(sendDocumentEnvelope(spec)), partsOf(spec));
}

describe('GET /health', () => {
  let rm: TestService;

  beforeAll(async () => {
    rm = await startTestService();
  });
  afterAll(async () => {
    await rm?.close();
  });

  it('answers 200 with every check of healthCheck DEEP passing', async () => {
    const { result, body } = await health(rm);
    expect(result.status).toBe(200);
    expect(body.level).toBe('OK');
    expect(body.failed).toEqual([]);
    expect(body.at).toBe(rm.clock.now().toISOString());
    expect(body.checks.map(({ id, resource, type }) => ({ id, resource, type }))).toEqual([
      { id: 'EPOST-001', resource: 'database', type: 'DB' },
      { id: 'EPOST-002', resource: 'blob-store', type: 'FILESYSTEM' },
      { id: 'EPOST-003', resource: 'signer', type: 'CERTIFICATE' },
      { id: 'EPOST-004', resource: 'tsa', type: 'OTHER' },
      { id: 'EPOST-005', resource: 'ebox', type: 'WS' },
    ]);
    expect(Object.values(levelsOf(body))).toEqual(['OK', 'OK', 'OK', 'OK', 'OK']);
  });

  it('checks what the signed healthCheck DEEP checks (DEFAULT leaves out the TSA and the e-Box)', async () => {
    const resources = async (type: string) => {
      const result = await rm.postXml(rm.sign(healthCheckEnvelope(type)), {
        SOAPAction: '"http://socialsecurity.be/registeredmail/v1/healthCheck"',
      });
      expect(result.status).toBe(200);
      const document = new DOMParser().parseFromString(result.body.toString('utf8'), 'text/xml');
      return Array.from(document.getElementsByTagNameNS(MON, 'Resource')).map(
        (resource) => `${resource.getAttribute('name')} ${resource.getAttribute('type')}`,
      );
    };
    expect(await resources('DEEP')).toEqual([
      'database DB',
      'blob-store FILESYSTEM',
      'signer CERTIFICATE',
      'tsa OTHER',
      'ebox WS',
    ]);
    expect(await resources('DEFAULT')).toEqual([
      'database DB',
      'blob-store FILESYSTEM',
      'signer CERTIFICATE',
    ]);
  });

  it('answers only GET (405 otherwise)', async () => {
    const answer = await fetch(`${rm.baseUrl}/health`, { method: 'POST' });
    expect(answer.status).toBe(405);
    expect(answer.headers.get('allow')).toBe('GET');
  });
});

describe('GET /health when the e-Box is unreachable', () => {
  let rm: TestService;

  beforeAll(async () => {
    rm = await startTestService({ RM_EBOX_URL: `http://127.0.0.1:${await closedPort()}` });
  });
  afterAll(async () => {
    await rm?.close();
  });

  it('answers 503 naming the e-Box; why is in the log, not in the answer', async () => {
    const { result, body } = await health(rm);
    expect(result.status).toBe(503);
    expect(body.level).toBe('CRITICAL');
    expect(body.failed).toEqual(['ebox']);
    expect(levelsOf(body)).toEqual({
      database: 'OK',
      'blob-store': 'OK',
      signer: 'OK',
      tsa: 'OK',
      ebox: 'CRITICAL',
    });
    const text = result.body.toString('utf8');
    expect(text).not.toMatch(/ECONNREFUSED|127\.0\.0\.1|\bat \S+ \(/);

    const logged = rm.logs.map((line) => JSON.parse(line) as Record<string, unknown>);
    const warning = logged.find((line) => line.message === 'GET /health');
    expect(warning).toMatchObject({ level: 'warn', checks: [{ resource: 'ebox', level: 'CRITICAL' }] });
    expect(JSON.stringify(warning)).toMatch(/ECONNREFUSED|e-Box/);
  });
});

describe('GET /health and /metrics with an external TSA (RM_TSA_URL)', () => {
  let tsaHost: TestService | undefined;
  let rm: TestService;

  beforeAll(async () => {
    // Another service's embedded TSA, on the same dev PKI: its CA is the default trust for RM_TSA_URL.
    tsaHost = await startTestService();
    rm = await startTestService({ RM_TSA_URL: `${tsaHost.baseUrl}/tsa`, RM_DELIVERY_PAUSED: 'true' });
  });
  afterAll(async () => {
    await rm?.close();
    await tsaHost?.close();
  });

  it('checks it as a web service and times its tokens; once it is gone, 503 naming the TSA', async () => {
    const { result, body } = await health(rm);
    expect(result.status).toBe(200);
    expect(body.checks.find((check) => check.resource === 'tsa')).toMatchObject({ type: 'WS', level: 'OK' });

    const before = await scrape(rm.baseUrl);
    expect((await sendDocument(rm, 'T-external-tsa')).status).toBe(200);
    const served = await scrape(rm.baseUrl);
    const ok = { tsa: 'external', result: 'ok' };
    expect(served.histogramCount(TIME_STAMPS, ok) - before.histogramCount(TIME_STAMPS, ok)).toBe(1);
    // The external TSA's certificate is known only from its tokens: its trust anchors are watched.
    expect(
      served.series('registered_mail_certificate_days_left').map((sample) => sample.labels?.role),
    ).toEqual(['signer', 'trust_anchor', 'tsa_trust_anchor']);

    await tsaHost!.close();
    tsaHost = undefined;
    const down = await health(rm);
    expect(down.result.status).toBe(503);
    expect(down.body.failed).toEqual(['tsa']);

    // A receipt cannot be time-stamped: the request is refused, and the failed token is timed.
    expectFault(await sendDocument(rm, 'T-no-tsa'), {
      code: 'SEPIA_T02',
      kind: 'SystemError',
      origin: 'Provider',
      retry: 'true',
    });
    const after = await scrape(rm.baseUrl);
    expect(after.histogramCount(TIME_STAMPS, { tsa: 'external', result: 'failed' })).toBe(1);
    expect(
      after.value('registered_mail_soap_requests_total', {
        port: '/RegisteredMail/v1',
        operation: 'sendDocument',
        outcome: 'SEPIA_T02',
      }),
    ).toBe(1);
  });
});
