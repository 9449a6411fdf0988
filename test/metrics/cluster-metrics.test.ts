import { mkdtempSync, rmSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import {
  findFreePort,
  killRemainingChildren,
  startServiceProcess,
  TranspiledSources,
  type ServiceProcess,
} from '../support/child-processes';
import { devSender, signNow, type SenderKey } from '../support/process-client';
import { buildSwaRequest, post, type HttpResult } from '../support/soap-client';
import { getStatusEnvelope, partsOf, samplePdf, sendDocumentEnvelope } from '../support/v1-requests';
import { scrape } from './prometheus-scrape';

/*
 * `registered-mail serve` with RM_WORKERS=2 as a real process tree (run from the sources transpiled
 * once, on the real clock). The primary serves no HTTP and a scrape reaches one worker: its /metrics
 * must show the requests both workers served, summed, and the database-wide outbox depth once.
 */

const V1 = '/RegisteredMail/v1';
const REQUESTS = 'registered_mail_soap_requests_total';
const DURATION = 'registered_mail_soap_request_duration_seconds';

function sendDocument(url: string, sender: SenderKey, token: string): Promise<HttpResult> {
  const spec = {
    token,
    recipient: { kind: 'citizen', inss: '85073003328' } as const,
    document: { content: samplePdf(token), contentId: 'document@cluster-metrics' },
    checkEboxStatus: 'BYPASS',
  };
  const request = buildSwaRequest(signNow(sendDocumentEnvelope(spec), sender), partsOf(spec));
  return post(url, request.body, { 'Content-Type': request.contentType, SOAPAction: '""' });
}

/** The pids of the processes that logged a `soap request` line for `operation`. */
function answeringPids(output: string, operation: string | undefined): Set<number> {
  const pids = new Set<number>();
  for (const line of output.split('\n')) {
    if (!line.startsWith('{')) continue;
    try {
      const entry = JSON.parse(line) as { message?: string; operation?: string; pid?: number };
      if (entry.message === 'soap request' && entry.operation === operation && entry.pid) pids.add(entry.pid);
    } catch {
      // a line cut by the output window
    }
  }
  return pids;
}

const describeOnLinux = process.platform === 'linux' ? describe : describe.skip;

describeOnLinux('GET /metrics of registered-mail serve with RM_WORKERS=2', () => {
  let sources: TranspiledSources;
  let dataDir: string;
  let service: ServiceProcess;
  let workerPids: number[];

  beforeAll(async () => {
    sources = TranspiledSources.create();
    dataDir = mkdtempSync(path.join(os.tmpdir(), 'rm-cluster-metrics-'));
    service = await startServiceProcess({
      dataDir,
      port: await findFreePort(),
      env: { RM_WORKERS: '2', RM_LOG_LEVEL: 'info', RM_DELIVERY_PAUSED: 'true' },
      sources,
    });
    const [, pids] = await service.process.waitForOutput(/workers:\s+2 \(pids (\d+, \d+)\)/);
    workerPids = pids.split(', ').map(Number);
  }, 120_000);

  afterAll(async () => {
    await killRemainingChildren();
    sources?.remove();
    if (dataDir) rmSync(dataDir, { recursive: true, force: true });
  });

  it('sums the requests both workers served in one scrape; the outbox depth is counted once', async () => {
    const sender = devSender(dataDir);
    const before = await scrape(service.baseUrl);
    expect(before.value('registered_mail_processes_reporting')).toBe(2);
    const sentOk = { port: V1, operation: 'sendDocument', outcome: 'ok' };
    const refused = { port: V1, operation: 'unknown', outcome: 'SOA-01001' };
    expect(before.value(REQUESTS, sentOk)).toBe(0);

    // From several connections at once: the primary hands connections to the workers in turn.
    const tokens = Array.from({ length: 12 }, (_, index) => `CLUSTER-METRICS-${index}`);
    const sends = await Promise.all(tokens.map((token) => sendDocument(service.url, sender, token)));
    expect(sends.map((result) => result.status)).toEqual(tokens.map(() => 200));
    const unsigned = await Promise.all(
      Array.from({ length: 4 }, () =>
        post(service.url, getStatusEnvelope('ZZZZZZZZZZZZZ'), {
          'Content-Type': 'text/xml; charset=utf-8',
          SOAPAction: '""',
        }),
      ),
    );
    expect(unsigned.map((result) => result.status)).toEqual([500, 500, 500, 500]);
    // Both workers served some of them (each logs its pid with every request).
    expect([...answeringPids(service.process.output, 'sendDocument')].sort()).toEqual([...workerPids].sort());

    // Each scrape, whichever worker answers it, shows the whole cluster.
    for (let scrapeNumber = 0; scrapeNumber < 4; scrapeNumber++) {
      const after = await scrape(service.baseUrl);
      expect(after.value('registered_mail_processes_reporting')).toBe(2);
      expect(after.value(REQUESTS, sentOk)).toBe(tokens.length);
      expect(after.value(REQUESTS, refused)).toBe(unsigned.length);
      expect(after.histogramCount(DURATION, { port: V1, operation: 'sendDocument', result: 'ok' })).toBe(
        tokens.length,
      );
      // Delivery is paused: every accepted item waits, and the gauge is read once, not once per worker.
      expect(after.value('registered_mail_outbox_entries')).toBe(tokens.length);
      expect(
        after.histogramCount('registered_mail_time_stamp_duration_seconds', {
          tsa: 'embedded',
          result: 'ok',
        }),
      ).toBe(tokens.length);
    }
  }, 60_000);
});
