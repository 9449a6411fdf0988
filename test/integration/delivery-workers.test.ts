import { mkdtempSync, rmSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { ManualClock } from '../../src/clock/clock';
import { startEboxSimulator, type EboxSimulator } from '../../src/ebox-simulator';
import { DeliveryRecords, deliveryRecordsOf } from '../support/delivery-records';
import { startEboxGate, type EboxGate } from '../support/ebox-control';
import { readEvidence } from '../support/evidence-view';
import { verifyAllReceipts } from '../support/receipt-verification';
import { startTestService, type TestService } from '../support/service-fixture';
import { readStatusAnswer, ticketOfSendAnswer } from '../support/signed-files';
import {
  getStatusEnvelope,
  partsOf,
  samplePdf,
  sendDocumentEnvelope,
  type SendDocumentSpec,
} from '../support/v1-requests';
import { openTestDatabase } from '../support/test-database';

/*
 * Delivery with several workers and across a shutdown, through running services on one data directory
 * and one e-Box simulator (RM_EBOX_URL) sharing one ManualClock:
 * - two services with delivery running, items sent to both in turn: each item is published once, by
 *   whichever worker claims it, with one proof of dispatch;
 * - close() (what SIGTERM/SIGINT call) while a publication is under way: the publication is finished and
 *   recorded before close() resolves; a service started afterwards on the data directory answers SENT.
 */

const CITIZEN = '85073003328';

function itemSpec(token: string): SendDocumentSpec {
  return {
    token,
    recipient: { kind: 'citizen', inss: CITIZEN },
    document: { content: samplePdf(token), contentId: 'document@test' },
    annexes: [{ content: Buffer.from(`annex of ${token}`), contentId: 'annex-1@test' }],
    checkEboxStatus: 'BYPASS',
  };
}

async function accept(rm: TestService, spec: SendDocumentSpec): Promise<string> {
  return ticketOfSendAnswer(await rm.postSwa(rm.sign(sendDocumentEnvelope(spec)), partsOf(spec)));
}

describe('several services delivering from one data directory', () => {
  const clock = new ManualClock(Date.now());
  let dataDir: string;
  let simulator: EboxSimulator;
  const services: TestService[] = [];

  beforeAll(async () => {
    dataDir = mkdtempSync(path.join(os.tmpdir(), 'rm-it-workers-'));
    simulator = await startEboxSimulator({ clock, host: '127.0.0.1', port: 0 });
    // Small batches: the two workers' rounds interleave and compete for the same entries.
    const env = { RM_EBOX_URL: simulator.url, RM_OUTBOX_BATCH: '3', RM_OUTBOX_CONCURRENCY: '2' };
    services.push(await startTestService(env, { dataDir, clock }));
    services.push(await startTestService(env, { dataDir, clock }));
  });
  afterAll(async () => {
    // Not rm.close(): the test verified every receipt and proof of the shared data directory already.
    for (const rm of services) await rm.service.close();
    await simulator?.close();
    rmSync(dataDir, { recursive: true, force: true });
  });

  it('publishes each of 20 items sent to both services exactly once, with one proof each', async () => {
    const [first, second] = services;
    const tickets: string[] = [];
    // To each service in turn, while both workers publish what was accepted so far.
    for (let index = 0; index < 20; index++) {
      tickets.push(await accept(services[index % 2], itemSpec(`T-workers-${index}`)));
    }
    await Promise.all(services.map((rm) => rm.service.delivery.worker.drain()));
    // Each accepted item wakes the worker of the service that accepted it, but which worker claims it
    // first is a race (one may publish all 20): what counts is that the two published 20 in all, each item
    // once. (test/integration/several-nodes shows several nodes sharing the work, taps on each.)
    const publishedBy = services.map(
      (rm) =>
        rm.logs.filter(
          (line) => (JSON.parse(line) as { message?: string }).message === 'item published in the e-Box',
        ).length,
    );
    expect(publishedBy[0] + publishedBy[1]).toBe(20);

    const messages = simulator.messages();
    expect(messages.map((message) => message.idempotencyKey).sort()).toEqual([...tickets].sort());
    const records = deliveryRecordsOf(first);
    const published = await records.rowsPerTicket('item_status_history', 'PUBLISHED');
    const proofs = await records.rowsPerTicket('item_proof');
    const publications = await records.rowsPerTicket('item_publication');
    for (const ticket of tickets) {
      expect([ticket, await records.status(ticket)]).toEqual([ticket, 'SENT']);
      expect([ticket, published.get(ticket), proofs.get(ticket), publications.get(ticket)]).toEqual([
        ticket,
        1,
        1,
        1,
      ]);
      const message = messages.find((candidate) => candidate.idempotencyKey === ticket)!;
      expect((await records.publication(ticket))!.eboxMessageId).toBe(message.messageId);
    }
    // Either service answers SENT with the same proof, naming the one message.
    for (const ticket of [tickets[0], tickets[19]]) {
      const message = messages.find((candidate) => candidate.idempotencyKey === ticket)!;
      const answers = await Promise.all(
        services.map(async (rm) => readStatusAnswer(await rm.postXml(rm.sign(getStatusEnvelope(ticket))))),
      );
      expect(answers.map((answer) => answer.status)).toEqual(['SENT', 'SENT']);
      expect(answers[0].proofOfDispatch!.content.equals(answers[1].proofOfDispatch!.content)).toBe(true);
      expect(readEvidence(answers[0].proofOfDispatch!.content).recipient.eboxMessageId).toBe(
        message.messageId,
      );
    }
    expect(await deliveryRecordsOf(second).rowsPerTicket('item_proof')).toEqual(proofs);
    const depth = await first.service.delivery.store.depth();
    expect(depth.count).toBe(0);
    // 20 receipts and 20 proofs of dispatch, each verified by openssl and Bouncy Castle.
    expect(await verifyAllReceipts(dataDir, { caFiles: [first.service.pki!.ca.certPemPath] })).toBe(40);
  });
});

describe('closing the service while a publication is under way', () => {
  const clock = new ManualClock(Date.now());
  let dataDir: string;
  let simulator: EboxSimulator;
  let gate: EboxGate;
  let restarted: TestService | undefined;

  beforeAll(async () => {
    dataDir = mkdtempSync(path.join(os.tmpdir(), 'rm-it-close-'));
    simulator = await startEboxSimulator({ clock, host: '127.0.0.1', port: 0 });
    gate = await startEboxGate(simulator.url);
  });
  afterAll(async () => {
    await restarted?.close();
    await gate?.close();
    await simulator?.close();
    rmSync(dataDir, { recursive: true, force: true });
  });

  it('finishes and records the publication before close() resolves', async () => {
    // Paused delivery: the publication starts when the test runs a round.
    const rm = await startTestService(
      { RM_EBOX_URL: gate.url, RM_DELIVERY_PAUSED: 'true' },
      { dataDir, clock },
    );
    const ticket = await accept(rm, itemSpec('T-close'));
    const worker = rm.service.delivery.worker;
    const round = worker.runOnce();
    // The publication is on its way to the e-Box (the gate holds it there).
    await gate.publicationArrived();

    // close() as SIGTERM calls it; the gate lets the publication through once close() is stopping
    // delivery, so the publication is still under way when the worker is told to stop.
    const stopping = new Promise<void>((resolve) => {
      const stop = worker.stop.bind(worker);
      jest.spyOn(worker, 'stop').mockImplementation(() => {
        resolve();
        return stop();
      });
    });
    const closed = rm.service.close();
    await stopping;
    expect(simulator.messages()).toEqual([]);
    gate.open();
    await closed;
    expect(await round).toBe(1);

    // What close() left in the database: the item SENT, with its publication and its proof.
    const dataSource = await openTestDatabase(dataDir);
    try {
      const records = new DeliveryRecords(dataSource, dataDir);
      expect(await records.status(ticket)).toBe('SENT');
      expect((await records.history(ticket)).map((row) => row.event)).toEqual(['ACCEPTED', 'PUBLISHED']);
      expect(await records.outboxEntry(ticket)).toBeNull();
      const [message] = simulator.messages();
      expect(simulator.messages()).toHaveLength(1);
      expect((await records.publication(ticket))!.eboxMessageId).toBe(message.messageId);
      expect((await records.proofs(ticket)).map((proof) => proof.kind)).toEqual(['DISPATCH']);
    } finally {
      await dataSource.destroy();
    }
    expect(rm.logs.some((line) => line.includes('item published in the e-Box'))).toBe(true);

    // A service started again on the data directory answers SENT with the proof of that publication.
    restarted = await startTestService({ RM_EBOX_URL: simulator.url }, { dataDir, clock });
    const answer = await readStatusAnswer(await restarted.postXml(restarted.sign(getStatusEnvelope(ticket))));
    expect(answer.status).toBe('SENT');
    expect(readEvidence(answer.proofOfDispatch!.content).recipient.eboxMessageId).toBe(
      simulator.messages()[0].messageId,
    );
    await restarted.service.delivery.worker.drain();
    expect(simulator.messages()).toHaveLength(1);
  });
});
