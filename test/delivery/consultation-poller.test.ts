import { createHash } from 'node:crypto';
import { mkdtempSync, rmSync } from 'node:fs';
import http from 'node:http';
import os from 'node:os';
import path from 'node:path';
import { ManualClock } from '../../src/clock/clock';
import { PayloadValidator } from '../../src/contract/xsd-validator';
import {
  ConsultationPoller,
  type ConsultationPollerLog,
  type ConsultationPollerSettings,
  type MessageStatusSource,
} from '../../src/delivery/consultation-poller';
import { eboxClientSettingsFromEnv } from '../../src/delivery/ebox-client-settings';
import { EboxMessageStatusClient } from '../../src/delivery/ebox-message-status-client';
import { EboxPublicationClient } from '../../src/delivery/ebox-publication-client';
import { EboxTokenClient } from '../../src/delivery/ebox-token-client';
import type { AwaitingConsultation, ConsultedItem, OutboxStore } from '../../src/domain/outbox';
import { type EboxSimulator, startEboxSimulator } from '../../src/ebox-simulator';
import { PemFileSigner } from '../../src/evidence/document-signer';
import { EvidenceIssuer } from '../../src/evidence/evidence-issuer';
import { ProofSigner } from '../../src/evidence/proof-signer';
import { createLogger } from '../../src/logging/logger';
import { ensureDevPki } from '../../src/pki/dev-pki';
import { EmbeddedTimeStampAuthority } from '../../src/timestamping/embedded-time-stamp-authority';
import { SAMPLE_ISSUER } from '../evidence/evidence-facts';
import { citizenItem } from './publication-fixtures';

const XSD_DIR = path.resolve(__dirname, '../../xsd');

// The application's logger is a ConsultationPollerLog (checked by the compiler).
const _applicationLogFits: ConsultationPollerLog = createLogger({ silent: true });

/** Programs the simulator's test-only fault injection. */
function injectFaults(url: string, plan: object): Promise<number> {
  return new Promise((resolve, reject) => {
    const request = http.request(`${url}/_test/faults`, {
      method: 'POST',
      headers: { 'Content-Type': 'application/json' },
    });
    request.on('error', reject);
    request.on('response', (response) => {
      response.resume();
      response.on('end', () => resolve(response.statusCode ?? 0));
    });
    request.end(JSON.stringify(plan));
  });
}

/** The two outbox methods the poller uses, in memory, with the contract of `OutboxStore`. */
class InMemoryConsultationStore implements Pick<OutboxStore, 'listAwaitingConsultation' | 'recordConsulted'> {
  readonly consulted = new Map<string, ConsultedItem>();
  /** Called at the start of every listing (tests wait on it). */
  onList: () => void = () => undefined;
  private readonly awaiting: { item: AwaitingConsultation; checkedAt: number }[] = [];

  add(item: AwaitingConsultation): void {
    this.awaiting.push({ item, checkedAt: Number.NEGATIVE_INFINITY });
  }

  async listAwaitingConsultation(limit: number, now: Date): Promise<AwaitingConsultation[]> {
    this.onList();
    const batch = this.awaiting
      .filter((entry) => !this.consulted.has(entry.item.ticket))
      .sort((a, b) => a.checkedAt - b.checkedAt)
      .slice(0, limit);
    for (const entry of batch) entry.checkedAt = now.getTime();
    return batch.map((entry) => entry.item);
  }

  async recordConsulted(outcome: ConsultedItem): Promise<boolean> {
    if (this.consulted.has(outcome.ticket)) return false;
    this.consulted.set(outcome.ticket, outcome);
    return true;
  }
}

/** Keeps what the poller logs. */
class CapturedLog implements ConsultationPollerLog {
  readonly entries: { level: string; message: string; meta: Record<string, unknown> }[] = [];
  info(message: string, meta: Record<string, unknown> = {}) {
    this.entries.push({ level: 'info', message, meta });
  }
  warn(message: string, meta: Record<string, unknown> = {}) {
    this.entries.push({ level: 'warn', message, meta });
  }
  error(message: string, meta: Record<string, unknown> = {}) {
    this.entries.push({ level: 'error', message, meta });
  }
  at(level: string) {
    return this.entries.filter((entry) => entry.level === level);
  }
}

/** The text of one element of an evidence. */
function elementText(content: Buffer, name: string): string | undefined {
  return new RegExp(`<${name}>([^<]*)</${name}>`).exec(content.toString('utf8'))?.[1];
}

describe('ConsultationPoller with the e-Box simulator and the real evidence issuer', () => {
  // Now: within the dev PKI's validity.
  const clock = new ManualClock(Date.now());
  let dir: string;
  let validator: PayloadValidator;
  let evidence: EvidenceIssuer;
  let simulator: EboxSimulator;
  let publication: EboxPublicationClient;
  let statuses: EboxMessageStatusClient;
  let ticketNumber = 0;

  beforeAll(async () => {
    dir = mkdtempSync(path.join(os.tmpdir(), 'rm-consultation-'));
    const pki = await ensureDevPki(dir, clock);
    const tsa = new EmbeddedTimeStampAuthority({
      signer: new PemFileSigner(pki.tsa.privateKey, pki.tsa.certificateDer, [pki.ca.certificateDer]),
      clock,
    });
    const signer = new PemFileSigner(pki.signer.privateKey, pki.signer.certificateDer, [
      pki.ca.certificateDer,
    ]);
    validator = await PayloadValidator.load(XSD_DIR);
    evidence = new EvidenceIssuer(
      new ProofSigner(signer, { tsa, level: 'B-T' }),
      clock,
      validator,
      SAMPLE_ISSUER,
    );

    simulator = await startEboxSimulator({ clock, testControl: true });
    const settings = eboxClientSettingsFromEnv({}, simulator.url);
    const tokens = new EboxTokenClient(settings, clock);
    publication = new EboxPublicationClient(settings, tokens, clock);
    statuses = new EboxMessageStatusClient(settings, tokens, clock);
  });

  afterAll(async () => {
    await simulator.close();
    validator.dispose();
    rmSync(dir, { recursive: true, force: true });
  });

  /** An item accepted now and published into the simulator (a real message id), awaiting consultation. */
  async function publishedItem(): Promise<AwaitingConsultation> {
    ticketNumber += 1;
    // A ticket as the service makes them (13 characters of the Crockford alphabet), or the evidence is refused.
    const ticket = `TKT${String(ticketNumber).padStart(10, '0')}`;
    const acceptedAt = clock.now();
    const { messageId, publishedAt } = await publication.publish(citizenItem({ ticket }));
    const content = Buffer.from('%PDF-1.7 document bytes');
    const sha256 = createHash('sha256').update(content).digest();
    return {
      ticket,
      token: `TOKEN-${ticketNumber}`,
      sender: { cbe: '0206731645', applicationId: 'MYAPP' },
      recipient: { kind: 'citizen', inss: '85073003328', qualityCode: 'CITIZEN' },
      document: {
        title: 'Avis de paiement',
        digest: { method: 'SHA-256', value: sha256 },
        downloadFileName: 'avis.pdf',
        mime: 'application/pdf',
        type: 'TAX_NOTICE',
        language: 'fr',
        blobSha256: sha256.toString('hex'),
        size: content.length,
      },
      annexes: [],
      acceptedAt,
      eboxMessageId: messageId,
      publishedAt,
    };
  }

  function pollerFor(
    store: InMemoryConsultationStore,
    log = new CapturedLog(),
    overrides: { statuses?: MessageStatusSource; settings?: Partial<ConsultationPollerSettings> } = {},
  ) {
    return new ConsultationPoller({
      store,
      statuses: overrides.statuses ?? statuses,
      evidence,
      clock,
      log,
      settings: { intervalMs: 60_000, batchSize: 10, ...overrides.settings },
    });
  }

  it('records nothing while the message is unread', async () => {
    const store = new InMemoryConsultationStore();
    store.add(await publishedItem());
    clock.advance(60_000);
    await expect(pollerFor(store).pollOnce()).resolves.toBe(0);
    expect(store.consulted.size).toBe(0);
  });

  it('records the consultation once, at the e-Box read time, with a ContentHandover proof', async () => {
    const store = new InMemoryConsultationStore();
    const item = await publishedItem();
    store.add(item);
    const log = new CapturedLog();
    const poller = pollerFor(store, log);
    await expect(poller.pollOnce()).resolves.toBe(0);

    clock.advance(3_600_000);
    const readDate = simulator.markRead(item.eboxMessageId)?.readDate;
    expect(readDate).toBe(clock.now().toISOString());
    clock.advance(5 * 60_000); // the poll sees it later: the time recorded stays the e-Box's
    await expect(poller.pollOnce()).resolves.toBe(1);

    const consulted = store.consulted.get(item.ticket);
    expect(consulted?.readAt).toEqual(new Date(readDate as string));
    const proof = consulted?.proof;
    if (proof === undefined) throw new Error('no proof recorded');
    expect(proof.kind).toBe('CONSULTATION');
    expect(proof.issuedAt).toEqual(clock.now());
    expect(proof.contentSha256).toEqual(createHash('sha256').update(proof.content).digest());
    expect(() => validator.validateDocument(proof.content)).not.toThrow();
    expect(elementText(proof.content, 'ERDSEventId')).toBe('ContentHandover');
    expect(elementText(proof.content, 'EvidenceIdentifier')).toBe(proof.evidenceId);
    expect(elementText(proof.content, 'EventTime')).toBe(readDate);
    expect(elementText(proof.content, 'SubmissionTime')).toBe(item.acceptedAt.toISOString());
    expect(elementText(proof.content, 'EboxMessageId')).toBe(item.eboxMessageId);
    expect(elementText(proof.content, 'Ticket')).toBe(item.ticket);
    expect(proof.signature.length).toBeGreaterThan(0);
    expect(log.at('info')).toEqual([
      expect.objectContaining({
        message: 'consultation recorded',
        meta: expect.objectContaining({ ticket: item.ticket, readAt: readDate }),
      }),
    ]);

    clock.advance(60_000);
    await expect(poller.pollOnce()).resolves.toBe(0);
    expect(store.consulted.get(item.ticket)).toBe(consulted);
  });

  it('counts nothing when another poller recorded the consultation first', async () => {
    const item = await publishedItem();
    simulator.markRead(item.eboxMessageId);
    const store = new InMemoryConsultationStore();
    store.add(item);
    // Both pollers listed the item before either recorded it.
    const listedTwice: Pick<OutboxStore, 'listAwaitingConsultation' | 'recordConsulted'> = {
      listAwaitingConsultation: async () => [item],
      recordConsulted: (outcome) => store.recordConsulted(outcome),
    };
    const first = new ConsultationPoller({
      store: listedTwice,
      statuses,
      evidence,
      clock,
      log: new CapturedLog(),
      settings: { intervalMs: 60_000, batchSize: 10 },
    });
    const second = new ConsultationPoller({
      store: listedTwice,
      statuses,
      evidence,
      clock,
      log: new CapturedLog(),
      settings: { intervalMs: 60_000, batchSize: 10 },
    });
    await expect(first.pollOnce()).resolves.toBe(1);
    const recorded = store.consulted.get(item.ticket);
    await expect(second.pollOnce()).resolves.toBe(0);
    expect(store.consulted.get(item.ticket)).toBe(recorded);
  });

  it('skips only the item whose status call failed, and records it on a later poll', async () => {
    const store = new InMemoryConsultationStore();
    const items = [await publishedItem(), await publishedItem(), await publishedItem()];
    for (const item of items) {
      store.add(item);
      simulator.markRead(item.eboxMessageId);
    }
    const log = new CapturedLog();
    const poller = pollerFor(store, log);
    expect(await injectFaults(simulator.url, { failNext: 1, status: 503 })).toBe(200);
    await expect(poller.pollOnce()).resolves.toBe(2);

    const warnings = log.at('warn');
    expect(warnings).toHaveLength(1);
    const skipped = warnings[0].meta.ticket;
    expect(warnings[0].meta.error).toContain('503');
    expect(store.consulted.has(skipped as string)).toBe(false);
    expect(items.filter((item) => store.consulted.has(item.ticket))).toHaveLength(2);

    clock.advance(60_000);
    await expect(poller.pollOnce()).resolves.toBe(1);
    expect(store.consulted.has(skipped as string)).toBe(true);
  });

  it('logs and skips a message the e-Box does not know, and goes on with the others', async () => {
    const store = new InMemoryConsultationStore();
    const known = await publishedItem();
    simulator.markRead(known.eboxMessageId);
    const unknown = {
      ...(await publishedItem()),
      ticket: 'TKTXXXXXXXXXX',
      eboxMessageId: 'no-such-message',
    };
    store.add(unknown);
    store.add(known);
    const log = new CapturedLog();
    await expect(pollerFor(store, log).pollOnce()).resolves.toBe(1);
    expect(store.consulted.has(known.ticket)).toBe(true);
    expect(store.consulted.has(unknown.ticket)).toBe(false);
    expect(log.at('error')).toEqual([
      {
        level: 'error',
        message: 'the e-Box does not know the message of a sent item',
        meta: { ticket: 'TKTXXXXXXXXXX', eboxMessageId: 'no-such-message' },
      },
    ]);
  });

  it('logs and skips an item whose evidence cannot be issued, and checks it again later', async () => {
    const store = new InMemoryConsultationStore();
    const good = await publishedItem();
    // A ticket the evidence schema refuses: nothing is signed, nothing recorded.
    const bad = { ...(await publishedItem()), ticket: 'not-a-ticket' };
    for (const item of [bad, good]) {
      simulator.markRead(item.eboxMessageId);
      store.add(item);
    }
    const log = new CapturedLog();
    const poller = pollerFor(store, log);
    await expect(poller.pollOnce()).resolves.toBe(1);
    expect(store.consulted.has(good.ticket)).toBe(true);
    expect(log.at('error')).toEqual([
      expect.objectContaining({
        message: 'consultation seen but not recorded, checked again later',
        meta: expect.objectContaining({ ticket: 'not-a-ticket' }),
      }),
    ]);
    clock.advance(60_000);
    await expect(poller.pollOnce()).resolves.toBe(0);
    expect(log.at('error')).toHaveLength(2);
  });

  it('states a read time the e-Box does not give as now, and never before the publication', async () => {
    const store = new InMemoryConsultationStore();
    const undated = await publishedItem();
    const published = await publishedItem();
    // Published 5 s after its acceptance: a read time before that is the e-Box's clock skew.
    const early = { ...published, publishedAt: new Date(published.acceptedAt.getTime() + 5_000) };
    store.add(undated);
    store.add(early);
    const beforeAcceptance = new Date(early.acceptedAt.getTime() - 10_000);
    const answers: MessageStatusSource = {
      status: async (messageId) =>
        messageId === undated.eboxMessageId
          ? { readStatus: 'READ', readAt: undefined }
          : { readStatus: 'READ', readAt: beforeAcceptance },
    };
    clock.advance(120_000);
    await expect(pollerFor(store, new CapturedLog(), { statuses: answers }).pollOnce()).resolves.toBe(2);
    expect(store.consulted.get(undated.ticket)?.readAt).toEqual(clock.now());
    expect(store.consulted.get(early.ticket)?.readAt).toEqual(early.publishedAt);
    const earlyProof = store.consulted.get(early.ticket)?.proof.content as Buffer;
    expect(elementText(earlyProof, 'EventTime')).toBe(early.publishedAt.toISOString());
  });

  it('never runs two rounds at once', async () => {
    const store = new InMemoryConsultationStore();
    store.add(await publishedItem());
    store.add(await publishedItem());
    let inFlight = 0;
    let mostInFlight = 0;
    const counted: MessageStatusSource = {
      status: async (messageId) => {
        inFlight += 1;
        mostInFlight = Math.max(mostInFlight, inFlight);
        try {
          return await statuses.status(messageId);
        } finally {
          inFlight -= 1;
        }
      },
    };
    const poller = pollerFor(store, new CapturedLog(), { statuses: counted, settings: { concurrency: 1 } });
    await expect(Promise.all([poller.pollOnce(), poller.pollOnce(), poller.pollOnce()])).resolves.toEqual([
      0, 0, 0,
    ]);
    expect(mostInFlight).toBe(1);
  });

  it('polls on its timer once started, and stop() waits for the round in progress', async () => {
    const store = new InMemoryConsultationStore();
    const item = await publishedItem();
    simulator.markRead(item.eboxMessageId);
    store.add(item);
    const listed = new Promise<void>((resolve) => {
      store.onList = resolve;
    });
    const poller = pollerFor(store, new CapturedLog(), { settings: { intervalMs: 1 } });
    poller.start();
    await listed; // a round has started (no time is asserted)
    await poller.stop();
    expect(store.consulted.has(item.ticket)).toBe(true);
  });

  it('refuses settings that cannot poll', () => {
    const store = new InMemoryConsultationStore();
    expect(() => pollerFor(store, new CapturedLog(), { settings: { intervalMs: 0 } })).toThrow(RangeError);
    expect(() => pollerFor(store, new CapturedLog(), { settings: { batchSize: 0 } })).toThrow(RangeError);
  });
});
