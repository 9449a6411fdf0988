import path from 'node:path';
import { projectRoot } from '../../src/app/project-paths';
import { ManualClock } from '../../src/clock/clock';
import {
  EboxPublicationClient,
  EboxTokenClient,
  eboxClientSettingsFromEnv,
  publicationItemOf,
} from '../../src/delivery';
import { startEboxSimulator, type EboxSimulator, type SimulatedMessage } from '../../src/ebox-simulator';
import { deliveryRecordsOf, type DeliveryRecords } from '../support/delivery-records';
import { programEboxFaults } from '../support/ebox-control';
import { readEvidence } from '../support/evidence-view';
import { startTestService, type TestService } from '../support/service-fixture';
import { readStatusAnswer, ticketOfSendAnswer, type StatusAnswer } from '../support/signed-files';
import { getStatusEnvelope, partsOf, samplePdf, sendDocumentEnvelope } from '../support/v1-requests';
import { defaultContentStore } from '../support/stored-content';

/*
 * Delivery against an e-Box that misbehaves, through the running service: a simulator started by the test
 * with its fault injection (`/_test/faults`), named by RM_EBOX_URL, sharing the service's ManualClock.
 * A transient failure (503, 429, no answer in time, a 409 whose message cannot be found) defers the item,
 * which is published once on a later attempt; a refusal (400) and a transient failure past the retry
 * period make it ERROR with the reason; a publication made by a worker that died before recording it is
 * taken over when its lease expires and recovered from the e-Box (an injected 409 without a messageId:
 * found through the status search), still one message, with the first publication's time.
 *
 * Settings: retry delays 1 s then doubling (jittered: half fixed, half random), a retry period of 60 s,
 * one publication at a time, delivery paused so that only the test's drain() publishes.
 */

const CITIZEN = '85073003328';
const SECOND = 1000;
const RETRY_PERIOD_SECONDS = 60;
const LEASE_SECONDS = 120;

describe('delivery when the e-Box fails', () => {
  const clock = new ManualClock(Date.now());
  let simulator: EboxSimulator;
  let rm: TestService;
  let records: DeliveryRecords;
  let tokenCounter = 0;

  beforeAll(async () => {
    simulator = await startEboxSimulator({
      clock,
      profilesFile: path.join(projectRoot(), 'fixtures', 'ebox-profiles.json'),
      testControl: true,
      host: '127.0.0.1',
      port: 0,
    });
    rm = await startTestService(
      {
        RM_EBOX_URL: simulator.url,
        RM_DELIVERY_PAUSED: 'true',
        RM_OUTBOX_CONCURRENCY: '1',
        RM_OUTBOX_LEASE_SECONDS: String(LEASE_SECONDS),
        RM_DELIVERY_RETRY_BASE_SECONDS: '1',
        RM_DELIVERY_RETRY_MAX_SECONDS: '8',
        RM_DELIVERY_RETRY_PERIOD_SECONDS: String(RETRY_PERIOD_SECONDS),
      },
      { clock },
    );
    records = deliveryRecordsOf(rm);
  });
  afterEach(async () => {
    await programEboxFaults(simulator.url, { failNext: 0 });
  });
  afterAll(async () => {
    await rm?.close();
    await simulator?.close();
  });

  /** Accepts an item (CheckEboxStatus BYPASS: the only e-Box calls are the worker's). */
  async function accept(): Promise<string> {
    const token = `T-fault-${++tokenCounter}`;
    const spec = {
      token,
      recipient: { kind: 'citizen', inss: CITIZEN } as const,
      document: { content: samplePdf(token), contentId: 'document@test' },
      checkEboxStatus: 'BYPASS',
    };
    return ticketOfSendAnswer(await rm.postSwa(rm.sign(sendDocumentEnvelope(spec)), partsOf(spec)));
  }

  async function status(ticket: string): Promise<StatusAnswer> {
    return readStatusAnswer(await rm.postXml(rm.sign(getStatusEnvelope(ticket))));
  }

  function messagesFor(ticket: string): SimulatedMessage[] {
    return simulator.messages().filter((message) => message.idempotencyKey === ticket);
  }

  function drain(): Promise<void> {
    return rm.service.delivery.worker.drain();
  }

  async function events(ticket: string): Promise<string[]> {
    return (await records.history(ticket)).map((row) => `${row.status} ${row.event}`);
  }

  /** The item is still waiting after `attempts` failed attempts, and nothing reached the e-Box. */
  async function expectDeferred(ticket: string, attempts: number, error: RegExp) {
    expect((await status(ticket)).status).toBe('PENDING');
    expect(await events(ticket)).toEqual(['PENDING ACCEPTED']);
    const entry = (await records.outboxEntry(ticket))!;
    expect(entry).toMatchObject({ attempts, leaseOwner: null, leaseExpiresAt: null });
    expect(entry.lastError).toMatch(error);
    expect(await records.proofs(ticket)).toEqual([]);
    return entry;
  }

  /** The item is SENT with its proof of dispatch, and the e-Box holds exactly one message for it. */
  async function expectSentOnce(ticket: string): Promise<SimulatedMessage> {
    const messages = messagesFor(ticket);
    expect(messages).toHaveLength(1);
    const answer = await status(ticket);
    expect(answer.status).toBe('SENT');
    expect(readEvidence(answer.proofOfDispatch!.content).recipient.eboxMessageId).toBe(messages[0].messageId);
    expect(await events(ticket)).toEqual(['PENDING ACCEPTED', 'SENT PUBLISHED']);
    expect(await records.outboxEntry(ticket)).toBeNull();
    expect((await records.proofs(ticket)).map((proof) => proof.kind)).toEqual(['DISPATCH']);
    return messages[0];
  }

  it('defers an item the e-Box answers 503, and publishes it once after the retry delay', async () => {
    const ticket = await accept();
    await programEboxFaults(simulator.url, { failNext: 1, status: 503 });
    await drain();

    const failedAt = clock.now().getTime();
    const entry = await expectDeferred(ticket, 1, /503/);
    // First retry step 1 s, jittered into [0.5 s, 1 s].
    const delay = entry.nextAttemptAt.getTime() - failedAt;
    expect(delay).toBeGreaterThanOrEqual(500);
    expect(delay).toBeLessThanOrEqual(1000);
    expect(messagesFor(ticket)).toEqual([]);

    // Not due yet: a round leaves it alone.
    await drain();
    await expectDeferred(ticket, 1, /503/);

    clock.set(new Date(entry.nextAttemptAt.getTime()));
    await drain();
    await expectSentOnce(ticket);
  });

  it("waits at least the e-Box's Retry-After after a 429", async () => {
    const ticket = await accept();
    await programEboxFaults(simulator.url, { failNext: 1, status: 429 });
    await drain();

    // The simulator's Retry-After is 1 s; the jittered step is at most 1 s: the e-Box's wish wins.
    const entry = await expectDeferred(ticket, 1, /429/);
    expect(entry.nextAttemptAt.getTime() - clock.now().getTime()).toBe(1000);

    clock.advance(999);
    await drain();
    await expectDeferred(ticket, 1, /429/);
    clock.advance(1);
    await drain();
    await expectSentOnce(ticket);
  });

  it('fails an item the e-Box refuses (400): ERROR with the e-Box code, no proof', async () => {
    const ticket = await accept();
    await programEboxFaults(simulator.url, { failNext: 1, status: 400 });
    await drain();

    const history = await records.history(ticket);
    expect(history.map((row) => `${row.status} ${row.event}`)).toEqual([
      'PENDING ACCEPTED',
      'ERROR PUBLICATION_FAILED',
    ]);
    expect(history[1].detail).toMatch(/the e-Box refused the publication: INJECTED_FAULT.*\(HTTP 400\)/);
    expect(history[1].occurredAt).toEqual(clock.now());
    expect(await records.outboxEntry(ticket)).toBeNull();
    expect(await records.publication(ticket)).toBeNull();
    expect(await records.proofs(ticket)).toEqual([]);

    const answer = await status(ticket);
    expect(answer).toMatchObject({ status: 'ERROR', attachmentCount: 0 });
    expect(answer.proofOfDispatch).toBeUndefined();

    // Final: later rounds never publish it.
    clock.advance(30 * SECOND);
    await drain();
    expect(messagesFor(ticket)).toEqual([]);
    expect((await status(ticket)).status).toBe('ERROR');
  });

  it('fails an item still failing when the retry period is over: ERROR, retries exhausted', async () => {
    const ticket = await accept();
    await programEboxFaults(simulator.url, { failNext: 10, status: 503 });
    await drain();
    await expectDeferred(ticket, 1, /503/);

    clock.advance((RETRY_PERIOD_SECONDS + 1) * SECOND);
    await drain();

    const history = await records.history(ticket);
    expect(history.map((row) => `${row.status} ${row.event}`)).toEqual([
      'PENDING ACCEPTED',
      'ERROR PUBLICATION_FAILED',
    ]);
    expect(history[1].detail).toMatch(
      /^retries exhausted: still failing 1m 1s after acceptance \(2 attempts\)/,
    );
    expect(history[1].detail).toMatch(/last error: .*503/);
    expect(await records.outboxEntry(ticket)).toBeNull();
    const answer = await status(ticket);
    expect(answer.status).toBe('ERROR');
    expect(answer.proofOfDispatch).toBeUndefined();
    expect(messagesFor(ticket)).toEqual([]);
  });

  it('defers an item on a 409 whose message the e-Box cannot find, then publishes it', async () => {
    const ticket = await accept();
    // The injected 409 names no message; the status search finds none for the ticket.
    await programEboxFaults(simulator.url, { failNext: 1, status: 409 });
    await drain();
    const entry = await expectDeferred(ticket, 1, /published but finds no message/);

    clock.set(entry.nextAttemptAt);
    await drain();
    await expectSentOnce(ticket);
  });

  it('takes over the item of a worker that published it and died: one message, the first time', async () => {
    const ticket = await accept();
    // A worker of another node claims the item, publishes it, and dies before recording anything.
    const store = rm.service.delivery.store;
    const [claimed] = await store.claimDue(
      'dead-node:1:0000',
      clock.now(),
      new Date(clock.now().getTime() + LEASE_SECONDS * SECOND),
      100,
    );
    expect(claimed.ticket).toBe(ticket);
    const settings = eboxClientSettingsFromEnv({ RM_EBOX_URL: simulator.url });
    const deadWorkersClient = new EboxPublicationClient(
      settings,
      new EboxTokenClient(settings, clock),
      clock,
    );
    const firstPublishedAt = clock.now();
    const first = await deadWorkersClient.publish(
      publicationItemOf(claimed, defaultContentStore(rm.service.dataSource, rm.dataDir)),
    );

    // While its lease holds, the item is nobody else's.
    clock.advance(60 * SECOND);
    await drain();
    expect((await status(ticket)).status).toBe('PENDING');
    expect((await records.outboxEntry(ticket))!.leaseOwner).toBe('dead-node:1:0000');

    // Once it expired the service's worker takes the item over; the e-Box answers 409 without a messageId
    // (injected), and the message is found through the status search by ticket.
    clock.advance(61 * SECOND);
    await programEboxFaults(simulator.url, { failNext: 1, status: 409 });
    await drain();

    const message = await expectSentOnce(ticket);
    expect(message.messageId).toBe(first.messageId);
    // The dispatch is the first publication's, at the e-Box's receipt time, not the time of the takeover.
    expect(message.receiptDate).toBe(firstPublishedAt.toISOString());
    const evidence = readEvidence((await records.proof(ticket, 'DISPATCH')).content);
    expect(evidence.eventTime).toBe(firstPublishedAt.toISOString());
    expect(await records.publication(ticket)).toMatchObject({
      eboxMessageId: first.messageId,
      publishedAt: firstPublishedAt,
    });
    const [, published] = await records.history(ticket);
    expect(published.detail).toBe(`e-Box message ${first.messageId}`);
  });
});

describe('delivery when the e-Box does not answer in time (RM_EBOX_TIMEOUT_MS)', () => {
  const clock = new ManualClock(Date.now());
  let simulator: EboxSimulator;
  let rm: TestService;
  let records: DeliveryRecords;

  beforeAll(async () => {
    simulator = await startEboxSimulator({ clock, testControl: true, host: '127.0.0.1', port: 0 });
    rm = await startTestService(
      {
        RM_EBOX_URL: simulator.url,
        RM_EBOX_TIMEOUT_MS: '200',
        RM_DELIVERY_PAUSED: 'true',
        RM_DELIVERY_RETRY_BASE_SECONDS: '1',
      },
      { clock },
    );
    records = deliveryRecordsOf(rm);
  });
  afterAll(async () => {
    await rm?.close();
    await simulator?.close();
  });

  it('defers an item whose publication gets no answer in time, then publishes it once', async () => {
    const spec = {
      token: 'T-timeout',
      recipient: { kind: 'citizen', inss: CITIZEN } as const,
      document: { content: samplePdf('T-timeout'), contentId: 'document@test' },
      checkEboxStatus: 'BYPASS',
    };
    const ticket = await ticketOfSendAnswer(
      await rm.postSwa(rm.sign(sendDocumentEnvelope(spec)), partsOf(spec)),
    );
    // The e-Box holds the next call 1 s: five times the 200 ms the service waits for progress.
    await programEboxFaults(simulator.url, { failNext: 1, delayMs: 1000 });
    await rm.service.delivery.worker.drain();

    const entry = (await records.outboxEntry(ticket))!;
    expect(entry).toMatchObject({ attempts: 1, leaseOwner: null });
    expect(entry.lastError).toMatch(/made no progress for 200 ms/);
    expect(await records.status(ticket)).toBe('PENDING');

    clock.set(entry.nextAttemptAt);
    await rm.service.delivery.worker.drain();
    const answer = await readStatusAnswer(await rm.postXml(rm.sign(getStatusEnvelope(ticket))));
    expect(answer.status).toBe('SENT');
    const messages = simulator.messages().filter((message) => message.idempotencyKey === ticket);
    expect(messages).toHaveLength(1);
    expect(readEvidence(answer.proofOfDispatch!.content).recipient.eboxMessageId).toBe(messages[0].messageId);
    expect((await records.history(ticket)).map((row) => row.event)).toEqual(['ACCEPTED', 'PUBLISHED']);
  });
});
