import { X509Certificate } from 'node:crypto';
import path from 'node:path';
import { projectRoot } from '../../src/app/project-paths';
import { ManualClock } from '../../src/clock/clock';
import { startEboxSimulator, type EboxSimulator } from '../../src/ebox-simulator';
import { programEboxFaults } from '../support/ebox-control';
import { expectFault } from '../support/fault-assertions';
import { startTestService, type TestService } from '../support/service-fixture';
import { ticketOfSendAnswer } from '../support/signed-files';
import { get, post, type HttpResult } from '../support/soap-client';
import {
  getStatusEnvelope,
  partsOf,
  samplePdf,
  sendDocumentEnvelope,
  type SendDocumentSpec,
} from '../support/v1-requests';
import {
  getStatusRequestEnvelope,
  postToServicePort,
  SERVICE_PORT_PATH,
} from '../support/service-port-requests';
import { scrape, type Scrape } from './prometheus-scrape';

/*
 * GET /metrics of a running service, scraped over HTTP and parsed with a Prometheus text-format parser:
 * the counters move by exactly the requests sent (by port, operation and outcome: ok or the fault code),
 * the latency histograms count them, the outbox gauges follow paused then resumed delivery, publication
 * attempts are counted by outcome, and the certificates' days left follow the service's ManualClock.
 */

const V1 = '/RegisteredMail/v1';
const CITIZEN = '85073003328';
const UNKNOWN_TICKET = 'ZZZZZZZZZZZZZ';
const DAY_MS = 86_400_000;

const REQUESTS = 'registered_mail_soap_requests_total';
const DURATION = 'registered_mail_soap_request_duration_seconds';
const ATTEMPTS = 'registered_mail_publication_attempts_total';
const TIME_STAMPS = 'registered_mail_time_stamp_duration_seconds';
const OUTBOX = 'registered_mail_outbox_entries';
const OUTBOX_AGE = 'registered_mail_outbox_oldest_entry_age_seconds';
const DAYS_LEFT = 'registered_mail_certificate_days_left';

let tokenCounter = 0;

function itemSpec(): SendDocumentSpec {
  const token = `T-metrics-${++tokenCounter}`;
  return {
    token,
    recipient: { kind: 'citizen', inss: CITIZEN },
    document: { content: samplePdf(token), contentId: 'document@test' },
    checkEboxStatus: 'BYPASS',
  };
}

function sendDocument(rm: TestService): Promise<HttpResult> {
  const spec = itemSpec();
  return rm.postSwa(rm.sign(sendDocumentEnvelope(spec)), partsOf(spec));
}

/** A sendDocument whose signature no longer covers its Body (SOA-01001). */
function sendTampered(rm: TestService): Promise<HttpResult> {
  const spec = itemSpec();
  const signed = rm.sign(sendDocumentEnvelope(spec)).replace(spec.token, `${spec.token}-altered`);
  return rm.postSwa(signed, partsOf(spec));
}

/** Every counter and histogram series of `after` minus `before` (the series that moved, by key). */
function counterDelta(before: Scrape, after: Scrape, name: string): Record<string, number> {
  const moved: Record<string, number> = {};
  for (const sample of after.series(name)) {
    const labels = sample.labels ?? {};
    const difference = Number(sample.value) - before.value(name, labels);
    if (difference !== 0) moved[JSON.stringify(labels)] = difference;
  }
  return moved;
}

describe('GET /metrics', () => {
  let rm: TestService;

  beforeAll(async () => {
    rm = await startTestService({ RM_DELIVERY_PAUSED: 'true' });
  });
  afterAll(async () => {
    await rm?.close();
  });

  it('counts SOAP requests by port, operation and outcome, and times them', async () => {
    const before = await scrape(rm.baseUrl);

    const tickets = [
      await ticketOfSendAnswer(await sendDocument(rm)),
      await ticketOfSendAnswer(await sendDocument(rm)),
    ];
    expect((await rm.postXml(rm.sign(getStatusEnvelope(tickets[0])))).status).toBe(200);
    // The own port counts apart.
    const ownPortStatus = rm.sign(getStatusRequestEnvelope(tickets[1]));
    expect((await postToServicePort(rm, ownPortStatus, 'GetStatus')).status).toBe(200);
    expectFault(await sendTampered(rm), { code: 'SOA-01001', kind: 'SystemError' });
    expectFault(await rm.postXml(rm.sign(getStatusEnvelope(UNKNOWN_TICKET))), {
      code: 'REPO_B01',
      kind: 'BusinessError',
    });

    const after = await scrape(rm.baseUrl);
    expect(counterDelta(before, after, REQUESTS)).toEqual({
      [JSON.stringify({ port: V1, operation: 'sendDocument', outcome: 'ok' })]: 2,
      [JSON.stringify({ port: V1, operation: 'getStatus', outcome: 'ok' })]: 1,
      // Refused before its operation was known: the signature is checked first.
      [JSON.stringify({ port: V1, operation: 'unknown', outcome: 'SOA-01001' })]: 1,
      [JSON.stringify({ port: V1, operation: 'getStatus', outcome: 'REPO_B01' })]: 1,
      [JSON.stringify({ port: SERVICE_PORT_PATH, operation: 'GetStatus', outcome: 'ok' })]: 1,
    });

    const histogram = (labels: Record<string, string>) =>
      after.histogramCount(DURATION, labels) - before.histogramCount(DURATION, labels);
    expect(histogram({ port: V1, operation: 'sendDocument', result: 'ok' })).toBe(2);
    expect(histogram({ port: V1, operation: 'getStatus', result: 'ok' })).toBe(1);
    expect(histogram({ port: V1, operation: 'unknown', result: 'fault' })).toBe(1);
    expect(histogram({ port: V1, operation: 'getStatus', result: 'fault' })).toBe(1);
    const sends = { port: V1, operation: 'sendDocument', result: 'ok' };
    expect(after.type(REQUESTS)).toBe('COUNTER');
    expect(after.type(DURATION)).toBe('HISTOGRAM');
    expect(after.histogramBucket(DURATION, sends, '+Inf')).toBe(after.histogramCount(DURATION, sends));
    expect(after.histogramSum(DURATION, sends)).toBeGreaterThan(before.histogramSum(DURATION, sends));
    expect(after.value('registered_mail_processes_reporting')).toBe(1);
  });

  it('times the time-stamp tokens of the receipts (embedded TSA)', async () => {
    const labels = { tsa: 'embedded', result: 'ok' };
    const before = await scrape(rm.baseUrl);
    await ticketOfSendAnswer(await sendDocument(rm));
    const after = await scrape(rm.baseUrl);
    // One receipt, one CAdES-T signature-time-stamp.
    expect(after.histogramCount(TIME_STAMPS, labels) - before.histogramCount(TIME_STAMPS, labels)).toBe(1);
    expect(after.histogramSum(TIME_STAMPS, labels)).toBeGreaterThan(0);
  });

  it('shows the outbox filling while delivery is paused, then emptying once delivered', async () => {
    await rm.service.delivery.worker.drain();
    const empty = await scrape(rm.baseUrl);
    expect(empty.value(OUTBOX)).toBe(0);
    expect(empty.value(OUTBOX_AGE)).toBe(0);

    await ticketOfSendAnswer(await sendDocument(rm));
    rm.clock.advance(30_000);
    await ticketOfSendAnswer(await sendDocument(rm));
    rm.clock.advance(60_000);
    const waiting = await scrape(rm.baseUrl);
    expect(waiting.value(OUTBOX)).toBe(2);
    // The oldest was accepted 90 s ago by the service's clock.
    expect(waiting.value(OUTBOX_AGE)).toBe(90);

    await rm.service.delivery.worker.drain();
    const delivered = await scrape(rm.baseUrl);
    expect(delivered.value(OUTBOX)).toBe(0);
    expect(delivered.value(OUTBOX_AGE)).toBe(0);
    expect(counterDelta(waiting, delivered, ATTEMPTS)).toEqual({
      [JSON.stringify({ outcome: 'published' })]: 2,
    });
  });

  it('shows the days left of the signer, TSA and trust anchor certificates by the service clock', async () => {
    const pki = rm.service.pki!;
    const expected = (der: Buffer) =>
      Math.floor((new Date(new X509Certificate(der).validTo).getTime() - rm.clock.now().getTime()) / DAY_MS);
    const labelsOf = (role: string, der: Buffer) => {
      const certificate = new X509Certificate(der);
      return { role, subject: certificate.subject.split('\n').join(', '), serial: certificate.serialNumber };
    };
    const watched: [string, Buffer][] = [
      ['signer', pki.signer.certificateDer],
      ['tsa', pki.tsa.certificateDer],
      ['trust_anchor', pki.ca.certificateDer],
    ];

    const now = await scrape(rm.baseUrl);
    expect(now.series(DAYS_LEFT)).toHaveLength(watched.length);
    for (const [role, der] of watched) expect(now.value(DAYS_LEFT, labelsOf(role, der))).toBe(expected(der));

    rm.clock.advance(10 * DAY_MS);
    const later = await scrape(rm.baseUrl);
    for (const [role, der] of watched) {
      expect(later.value(DAYS_LEFT, labelsOf(role, der))).toBe(
        now.value(DAYS_LEFT, labelsOf(role, der)) - 10,
      );
    }
  });

  it('answers only GET (405 otherwise)', async () => {
    const result = await post(`${rm.baseUrl}/metrics`, '', { 'Content-Type': 'text/plain' });
    expect(result.status).toBe(405);
    expect(result.headers.allow).toBe('GET');
  });
});

describe('GET /metrics: publication attempts that fail', () => {
  const clock = new ManualClock(Date.now());
  let simulator: EboxSimulator;
  let rm: TestService;

  beforeAll(async () => {
    simulator = await startEboxSimulator({
      clock,
      profilesFile: path.join(projectRoot(), 'fixtures', 'ebox-profiles.json'),
      testControl: true,
      host: '127.0.0.1',
      port: 0,
    });
    rm = await startTestService(
      { RM_EBOX_URL: simulator.url, RM_DELIVERY_PAUSED: 'true', RM_DELIVERY_RETRY_BASE_SECONDS: '1' },
      { clock },
    );
  });
  afterAll(async () => {
    await rm?.close();
    await simulator?.close();
  });

  it('counts a deferred attempt as transient and a refused one as permanent', async () => {
    const before = await scrape(rm.baseUrl);
    await ticketOfSendAnswer(await sendDocument(rm));
    // The publication answers 503: one transient attempt, the item deferred.
    await programEboxFaults(simulator.url, { failNext: 1, status: 503 });
    await rm.service.delivery.worker.drain();
    await programEboxFaults(simulator.url, { failNext: 0 });
    const deferred = await scrape(rm.baseUrl);
    expect(counterDelta(before, deferred, ATTEMPTS)).toEqual({
      [JSON.stringify({ outcome: 'transient' })]: 1,
    });
    expect(deferred.value(OUTBOX)).toBe(1);

    // Due again after its backoff; this time the e-Box refuses it for good.
    clock.advance(60_000);
    await programEboxFaults(simulator.url, { failNext: 1, status: 400 });
    await rm.service.delivery.worker.drain();
    const refused = await scrape(rm.baseUrl);
    expect(counterDelta(deferred, refused, ATTEMPTS)).toEqual({
      [JSON.stringify({ outcome: 'permanent' })]: 1,
    });
    expect(refused.value(OUTBOX)).toBe(0);
  });
});

describe('GET /metrics with RM_METRICS=false', () => {
  let rm: TestService;

  beforeAll(async () => {
    rm = await startTestService({ RM_METRICS: 'false' });
  });
  afterAll(async () => {
    await rm?.close();
  });

  it('is not served; /health still is', async () => {
    expect((await get(`${rm.baseUrl}/metrics`)).status).toBe(404);
    expect((await get(`${rm.baseUrl}/health`)).status).toBe(200);
  });
});
