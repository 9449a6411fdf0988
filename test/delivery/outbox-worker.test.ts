import { DOMParser } from '@xmldom/xmldom';
import { createHash } from 'node:crypto';
import { mkdtempSync, rmSync } from 'node:fs';
import http from 'node:http';
import os from 'node:os';
import path from 'node:path';
import { ManualClock } from '../../src/clock/clock';
import { PayloadValidator } from '../../src/contract/xsd-validator';
import { eboxClientSettingsFromEnv } from '../../src/delivery/ebox-client-settings';
import { EboxProfileClient } from '../../src/delivery/ebox-profile-client';
import { EboxPublicationClient } from '../../src/delivery/ebox-publication-client';
import { EboxTokenClient } from '../../src/delivery/ebox-token-client';
import {
  OutboxWorker,
  type ItemPublisher,
  type OutboxWorkerSettings,
  type RecipientProfiles,
} from '../../src/delivery/outbox-worker';
import type { Recipient } from '../../src/domain/model';
import type { ItemFacts } from '../../src/domain/outbox';
import { type EboxSimulator, startEboxSimulator } from '../../src/ebox-simulator';
import { PemFileSigner } from '../../src/evidence/document-signer';
import { EvidenceIssuer } from '../../src/evidence/evidence-issuer';
import { ProofSigner } from '../../src/evidence/proof-signer';
import { createLogger, type Logger } from '../../src/logging/logger';
import { ensureDevPki, type DevPki } from '../../src/pki/dev-pki';
import { BlobStore } from '../../src/storage/blob-store';
import { EmbeddedTimeStampAuthority } from '../../src/timestamping/embedded-time-stamp-authority';
import {
  TimeStampUnavailableError,
  type MessageImprint,
  type TimeStampAuthority,
} from '../../src/timestamping/time-stamp-authority';
import { SAMPLE_ISSUER } from '../evidence/evidence-facts';
import { logLinesTransport } from '../support/log-lines';
import { MemoryOutboxStore } from '../support/memory-outbox-store';

jest.setTimeout(60_000);

const XSD_DIR = path.resolve(__dirname, '../../xsd');
const PROFILES_FILE = path.resolve(__dirname, '../../fixtures/ebox-profiles.json');
const CITIZEN_INSS = '85073003328';
/** fixtures/ebox-profiles.json: a valid INSS whose e-Box does not exist. */
const NO_EBOX_INSS = '85010100115';

const SETTINGS: OutboxWorkerSettings = {
  leaseMs: 60_000,
  batchSize: 10,
  concurrency: 2,
  pollIntervalMs: 3_600_000,
  retryBaseMs: 10_000,
  retryMaxMs: 600_000,
  retryPeriodMs: 2 * 3_600_000,
};

/** Programs the simulator's test-only fault injection. */
function injectFaults(url: string, plan: object): Promise<void> {
  return testControl(url, '/_test/faults', plan);
}

function testControl(url: string, route: string, body: object = {}): Promise<void> {
  return new Promise((resolve, reject) => {
    const request = http.request(`${url}${route}`, {
      method: 'POST',
      headers: { 'Content-Type': 'application/json' },
    });
    request.on('error', reject);
    request.on('response', (response) => {
      response.resume();
      response.on('end', () =>
        response.statusCode === 200 ? resolve() : reject(new Error(`${route}: ${response.statusCode}`)),
      );
    });
    request.end(JSON.stringify(body));
  });
}

/** The real logger, its JSON lines kept for the assertions. */
function capturingLogger(): { log: Logger; lines: string[]; entries: () => Record<string, unknown>[] } {
  const lines: string[] = [];
  const log = createLogger({ level: 'debug' });
  log.clear().add(logLinesTransport(lines));
  return { log, lines, entries: () => lines.map((line) => JSON.parse(line) as Record<string, unknown>) };
}

/** The text of the first element with this local name in an evidence. */
function evidenceField(content: Buffer, localName: string): string | undefined {
  const document = new DOMParser().parseFromString(content.toString('utf8'), 'text/xml');
  return document.getElementsByTagNameNS('*', localName).item(0)?.textContent ?? undefined;
}

const sha256Hex = (bytes: Buffer) => createHash('sha256').update(bytes).digest('hex');

/** A ticket of the contract's form: 13 digits and capitals. */
const ticketOf = (serial: number) => `RMW${String(serial).padStart(10, '0')}`;

describe('OutboxWorker', () => {
  const clock = new ManualClock(Math.floor(Date.now() / 1000) * 1000);
  let dir: string;
  let pki: DevPki;
  let validator: PayloadValidator;
  let blobs: BlobStore;
  let simulator: EboxSimulator;
  let publisher: EboxPublicationClient;
  let evidence: EvidenceIssuer;
  /** While true, the TSA fails: no proof can be signed. */
  let tsaDown = false;
  let serial = 0;
  let store: MemoryOutboxStore;
  let logged: ReturnType<typeof capturingLogger>;

  beforeAll(async () => {
    dir = mkdtempSync(path.join(os.tmpdir(), 'rm-outbox-worker-'));
    pki = await ensureDevPki(path.join(dir, 'dev-pki'), clock);
    validator = await PayloadValidator.load(XSD_DIR);
    blobs = new BlobStore(path.join(dir, 'data'));

    const embedded = new EmbeddedTimeStampAuthority({
      signer: new PemFileSigner(pki.tsa.privateKey, pki.tsa.certificateDer, [pki.ca.certificateDer]),
      clock,
    });
    const tsa: TimeStampAuthority = {
      timestamp: (imprint: MessageImprint) =>
        tsaDown
          ? Promise.reject(new TimeStampUnavailableError('the TSA does not answer'))
          : embedded.timestamp(imprint),
    };
    const signer = new PemFileSigner(pki.signer.privateKey, pki.signer.certificateDer, [
      pki.ca.certificateDer,
    ]);
    evidence = new EvidenceIssuer(
      new ProofSigner(signer, { tsa, level: 'B-T' }),
      clock,
      validator,
      SAMPLE_ISSUER,
    );

    simulator = await startEboxSimulator({ clock, testControl: true, profilesFile: PROFILES_FILE });
    publisher = publicationClientFor(simulator.url);
  });

  afterAll(async () => {
    await simulator?.close();
    validator?.dispose();
    rmSync(dir, { recursive: true, force: true });
  });

  beforeEach(async () => {
    await testControl(simulator.url, '/_test/reset');
    tsaDown = false;
    store = new MemoryOutboxStore();
    logged = capturingLogger();
  });

  function publicationClientFor(url: string): EboxPublicationClient {
    const settings = eboxClientSettingsFromEnv({}, url);
    return new EboxPublicationClient(settings, new EboxTokenClient(settings, clock), clock);
  }

  function workerWith(
    overrides: {
      settings?: Partial<OutboxWorkerSettings>;
      publisher?: ItemPublisher;
      owner?: string;
      profiles?: RecipientProfiles;
    } = {},
  ): OutboxWorker {
    return new OutboxWorker({
      store,
      publisher: overrides.publisher ?? publisher,
      profiles: overrides.profiles,
      evidence,
      blobs,
      clock,
      log: logged.log,
      settings: { ...SETTINGS, ...overrides.settings },
      random: () => 0.5,
      owner: overrides.owner ?? 'node-a',
    });
  }

  /** Stores the item's files as blobs and puts the item in the outbox, accepted now. */
  async function accept(
    options: { recipient?: Recipient; acceptedAt?: Date } = {},
  ): Promise<ItemFacts & { bytes: Buffer[] }> {
    serial += 1;
    const ticket = ticketOf(serial);
    const documentBytes = Buffer.from(`%PDF-1.7 decision of item ${ticket}`);
    const annexBytes = Buffer.from(`annex of item ${ticket}`);
    const stored = async (bytes: Buffer) => {
      const sha256 = await blobs.write(bytes);
      return {
        digest: { method: 'SHA-256' as const, value: sha256 },
        blobSha256: sha256.toString('hex'),
        size: bytes.length,
      };
    };
    const item: ItemFacts = {
      ticket,
      token: `DOSSIER-${serial}`,
      sender: { cbe: '0206731645', applicationId: 'MYAPP' },
      recipient: options.recipient ?? { kind: 'citizen', inss: CITIZEN_INSS, qualityCode: 'CITIZEN' },
      document: {
        title: 'Avis de paiement',
        downloadFileName: 'avis.pdf',
        mime: 'application/pdf',
        type: 'TAX_NOTICE',
        language: 'fr',
        ...(await stored(documentBytes)),
      },
      annexes: [
        {
          title: 'Annexe 1',
          downloadFileName: 'annexe.txt',
          mime: 'text/plain',
          ...(await stored(annexBytes)),
        },
      ],
      acceptedAt: options.acceptedAt ?? clock.now(),
    };
    store.add(item);
    return { ...item, bytes: [documentBytes, annexBytes] };
  }

  function messagesOf(ticket: string) {
    return simulator.messages().filter((message) => message.idempotencyKey === ticket);
  }

  it('publishes a due item once and records it with its ProofOfDispatch', async () => {
    const item = await accept();
    const worker = workerWith();

    expect(await worker.runOnce()).toBe(1);
    expect(await worker.runOnce()).toBe(0);

    const [message] = messagesOf(item.ticket);
    expect(simulator.messages()).toHaveLength(1);
    expect(message.recipient).toEqual({ eboxType: 'citizen', ssin: CITIZEN_INSS });
    expect(message.attachments.map((attachment) => [attachment.httpPartName, attachment.sha256])).toEqual([
      ['document', sha256Hex(item.bytes[0])],
      ['annex1', sha256Hex(item.bytes[1])],
    ]);

    expect(store.entries.has(item.ticket)).toBe(false);
    const { publication } = store.sent.get(item.ticket) ?? {};
    expect(publication).toMatchObject({
      ticket: item.ticket,
      owner: 'node-a',
      eboxMessageId: message.messageId,
      publishedAt: new Date(message.receiptDate),
      noDigitalUser: false,
      recordedAt: clock.now(),
    });
    const proof = publication?.proof;
    if (proof === undefined) throw new Error('no proof recorded');
    expect(proof.kind).toBe('DISPATCH');
    expect(() => validator.validateDocument(proof.content)).not.toThrow();
    expect(proof.contentSha256.toString('hex')).toBe(sha256Hex(proof.content));
    expect(evidenceField(proof.content, 'EvidenceIdentifier')).toBe(proof.evidenceId);
    expect(evidenceField(proof.content, 'ERDSEventId')).toMatch(/ContentConsignment$/);
    expect(evidenceField(proof.content, 'EboxMessageId')).toBe(message.messageId);
    expect(proof.signature.length).toBeGreaterThan(0);

    // The log names the item and the message, never the recipient's INSS or the document's bytes.
    expect(logged.entries()).toContainEqual(
      expect.objectContaining({ level: 'info', ticket: item.ticket, eboxMessageId: message.messageId }),
    );
    const everything = logged.lines.join('\n');
    expect(everything).not.toContain(CITIZEN_INSS);
    expect(everything).not.toContain('%PDF');
  });

  it('publishes in acceptance order, round after round', async () => {
    const t0 = clock.now().getTime();
    // Put in the outbox out of order; accepted in the order c, a, b.
    const a = await accept({ acceptedAt: new Date(t0 - 2000) });
    const b = await accept({ acceptedAt: new Date(t0 - 1000) });
    const c = await accept({ acceptedAt: new Date(t0 - 3000) });
    const worker = workerWith({ settings: { batchSize: 2, concurrency: 1 } });

    expect(await worker.runOnce()).toBe(2);
    expect(await worker.runOnce()).toBe(1);
    expect(simulator.messages().map((message) => message.idempotencyKey)).toEqual([
      c.ticket,
      a.ticket,
      b.ticket,
    ]);
  });

  it('processes no more than the batch at once and leaves what is not due yet', async () => {
    const later = await accept({ acceptedAt: new Date(clock.now().getTime() + 60_000) });
    await accept();
    await accept();
    await accept();
    const worker = workerWith({ settings: { batchSize: 2 } });
    expect(await worker.runOnce()).toBe(2);
    await worker.drain();
    expect(simulator.messages()).toHaveLength(3);
    expect(store.entries.has(later.ticket)).toBe(true);
  });

  it('defers after 503s with growing delays, then publishes', async () => {
    const item = await accept();
    const worker = workerWith();
    await injectFaults(simulator.url, { failNext: 2, status: 503 });

    expect(await worker.runOnce()).toBe(1);
    expect(await worker.runOnce()).toBe(0); // not due before its next attempt
    clock.set(store.deferrals[0].nextAttemptAt);
    expect(await worker.runOnce()).toBe(1);
    clock.set(store.deferrals[1].nextAttemptAt);
    await worker.drain();

    const delays = store.deferrals.map(
      (deferral) => deferral.nextAttemptAt.getTime() - deferral.recordedAt.getTime(),
    );
    // base 10 s, equal jitter at 0.5: 7.5 s, then 15 s.
    expect(delays).toEqual([7500, 15_000]);
    expect(store.deferrals[0].reason).toMatch(/503/);
    expect(store.sent.has(item.ticket)).toBe(true);
    expect(messagesOf(item.ticket)).toHaveLength(1);
    expect(logged.entries()).toContainEqual(
      expect.objectContaining({ level: 'warn', message: 'publication deferred', failedAttempts: 2 }),
    );
  });

  it("waits at least the e-Box's Retry-After after a 429", async () => {
    const item = await accept();
    const worker = workerWith({ settings: { retryBaseMs: 100 } });
    await injectFaults(simulator.url, { failNext: 1, status: 429 });

    await worker.runOnce();
    const [deferral] = store.deferrals;
    // The step would be 75 ms; the simulator's Retry-After says 1 s.
    expect(deferral.nextAttemptAt.getTime() - deferral.recordedAt.getTime()).toBe(1000);
    clock.advance(999);
    expect(await worker.runOnce()).toBe(0);
    clock.advance(1);
    await worker.drain();
    expect(store.sent.has(item.ticket)).toBe(true);
  });

  it('defers while the e-Box cannot be reached, then publishes once it is back', async () => {
    const item = await accept();
    const away = await startEboxSimulator({ clock, profilesFile: PROFILES_FILE });
    const port = new URL(away.url).port;
    await away.close();
    const worker = workerWith({ publisher: publicationClientFor(away.url) });

    expect(await worker.runOnce()).toBe(1);
    expect(store.deferrals).toHaveLength(1);
    expect(store.entries.get(item.ticket)).toMatchObject({ attempts: 1, leaseOwner: undefined });

    const back = await startEboxSimulator({ clock, profilesFile: PROFILES_FILE, port: Number(port) });
    try {
      clock.set(store.deferrals[0].nextAttemptAt);
      await worker.drain();
      expect(store.sent.get(item.ticket)?.publication.eboxMessageId).toBe(back.messages()[0].messageId);
      expect(back.messages()).toHaveLength(1);
    } finally {
      await back.close();
    }
  });

  it('fails an item for good when the e-Box refuses the recipient, with its code', async () => {
    const item = await accept({ recipient: { kind: 'enterprise', cbe: '0852093432', qualityCode: 'X' } });
    await workerWith().drain();
    expect(store.failed.get(item.ticket)?.reason).toBe(
      'the e-Box refused the publication: INVALID_INPUT: 0852093432 is not a valid company (HTTP 400)',
    );
    expect(store.entries.has(item.ticket)).toBe(false);
    expect(store.deferrals).toHaveLength(0);
    expect(simulator.messages()).toHaveLength(0);
  });

  it('fails an item for good on an injected 400', async () => {
    const item = await accept();
    await injectFaults(simulator.url, { failNext: 1, status: 400 });
    await workerWith().drain();
    expect(store.failed.get(item.ticket)).toMatchObject({
      owner: 'node-a',
      reason: 'the e-Box refused the publication: INJECTED_FAULT: injected fault 400 (HTTP 400)',
      recordedAt: clock.now(),
    });
  });

  it('fails an item for good once transient failures outlast the retry period', async () => {
    const item = await accept();
    const worker = workerWith();
    await injectFaults(simulator.url, { failNext: 1000, status: 503 });
    for (let round = 0; round < 100 && store.entries.has(item.ticket); round += 1) {
      await worker.runOnce();
      const entry = store.entries.get(item.ticket);
      if (entry) clock.set(entry.nextAttemptAt);
    }
    const reason = store.failed.get(item.ticket)?.reason;
    expect(reason).toMatch(
      /^retries exhausted: still failing 2h( \d+m)?( \d+s)? after acceptance \(\d+ attempts\)/,
    );
    expect(reason).toMatch(/last error: .*503/);
    // Every attempt before the end of the period was deferred, with delays capped at the maximum.
    const last = store.deferrals[store.deferrals.length - 1];
    expect(last.recordedAt.getTime() - item.acceptedAt.getTime()).toBeLessThan(SETTINGS.retryPeriodMs);
    expect(last.nextAttemptAt.getTime() - last.recordedAt.getTime()).toBe(SETTINGS.retryMaxMs * 0.75);
    expect(simulator.messages()).toHaveLength(0);
  });

  it('defers an injected 409 that no message explains, then publishes one message', async () => {
    const item = await accept();
    const worker = workerWith();
    await injectFaults(simulator.url, { failNext: 1, status: 409 });
    await worker.runOnce();
    expect(store.deferrals[0].reason).toMatch(/finds no message/);
    clock.set(store.deferrals[0].nextAttemptAt);
    await worker.drain();
    expect(store.sent.has(item.ticket)).toBe(true);
    expect(messagesOf(item.ticket)).toHaveLength(1);
  });

  it('defers when the proof cannot be signed, then recovers the message through a 409 and proves it', async () => {
    const item = await accept();
    const worker = workerWith();
    tsaDown = true;
    await worker.runOnce();
    const [first] = messagesOf(item.ticket);
    expect(store.sent.has(item.ticket)).toBe(false);
    expect(store.deferrals[0].reason).toMatch(
      new RegExp(
        `^published as e-Box message ${first.messageId}, but the proof of dispatch could not be issued`,
      ),
    );

    tsaDown = false;
    clock.set(store.deferrals[0].nextAttemptAt);
    // The next publication meets a 409 without message id: the status search must find the first one.
    await injectFaults(simulator.url, { failNext: 1, status: 409 });
    await worker.drain();

    expect(messagesOf(item.ticket)).toHaveLength(1);
    const publication = store.sent.get(item.ticket)?.publication;
    expect(publication?.eboxMessageId).toBe(first.messageId);
    // The dispatch is the first publication, not the later recovery.
    expect(publication?.publishedAt).toEqual(new Date(first.receiptDate));
    const proof = publication?.proof;
    if (proof === undefined) throw new Error('no proof recorded');
    expect(evidenceField(proof.content, 'EboxMessageId')).toBe(first.messageId);
    expect(new Date(evidenceField(proof.content, 'EventTime') ?? '')).toEqual(new Date(first.receiptDate));
    expect(proof.issuedAt).toEqual(clock.now());
  });

  it('never gives up a published item for want of its proof, even past the retry period', async () => {
    const item = await accept();
    const worker = workerWith();
    tsaDown = true;
    for (let round = 0; round < 40; round += 1) {
      await worker.runOnce();
      const entry = store.entries.get(item.ticket);
      if (entry) clock.set(entry.nextAttemptAt);
    }
    // Far beyond the retry period, the item is still waiting for its proof, not ERROR.
    expect(clock.now().getTime() - item.acceptedAt.getTime()).toBeGreaterThan(SETTINGS.retryPeriodMs);
    expect(store.failed.has(item.ticket)).toBe(false);
    expect(store.entries.has(item.ticket)).toBe(true);
    const last = store.deferrals[store.deferrals.length - 1];
    expect(last.nextAttemptAt.getTime() - last.recordedAt.getTime()).toBeLessThanOrEqual(SETTINGS.retryMaxMs);

    tsaDown = false;
    await worker.drain();
    expect(store.sent.has(item.ticket)).toBe(true);
    expect(messagesOf(item.ticket)).toHaveLength(1);
  });

  it('records nothing when another worker took the claim over during the publication', async () => {
    const item = await accept();
    let takenOver = false;
    const slowNodeA: ItemPublisher = {
      publish: async (publication) => {
        // Node A stalls past its lease; node B claims the entry meanwhile.
        clock.advance(SETTINGS.leaseMs + 1);
        const now = clock.now();
        const claims = await store.claimDue('node-b', now, new Date(now.getTime() + SETTINGS.leaseMs), 10);
        takenOver = claims.some((claim) => claim.ticket === item.ticket);
        return publisher.publish(publication);
      },
    };
    expect(await workerWith({ publisher: slowNodeA }).runOnce()).toBe(1);

    expect(takenOver).toBe(true);
    expect(store.sent.has(item.ticket)).toBe(false);
    expect(store.deferrals).toHaveLength(0);
    expect(store.entries.get(item.ticket)).toMatchObject({ leaseOwner: 'node-b', attempts: 0 });
    expect(logged.entries()).toContainEqual(
      expect.objectContaining({
        level: 'warn',
        ticket: item.ticket,
        message: expect.stringMatching(/claim lost/),
      }),
    );

    // Node B dies too; node C takes over once B's lease expires and records the one message.
    clock.advance(SETTINGS.leaseMs);
    await workerWith({ owner: 'node-c' }).drain();
    expect(messagesOf(item.ticket)).toHaveLength(1);
    expect(store.sent.get(item.ticket)?.publication).toMatchObject({
      owner: 'node-c',
      eboxMessageId: messagesOf(item.ticket)[0].messageId,
    });
  });

  it('leaves an item alone whose claim expired while it waited in its batch and was taken over', async () => {
    const first = await accept();
    const second = await accept();
    const publishedByA: string[] = [];
    let secondTakenOver = false;
    // Node A publishes one item at a time; the first takes longer than the lease. The keeper renews the
    // first item's lease (done by hand here: the clock is manual), not that of the second, still waiting:
    // node B claims the second meanwhile.
    const slowNodeA: ItemPublisher = {
      publish: async (publication) => {
        publishedByA.push(publication.ticket);
        if (publication.ticket === first.ticket) {
          clock.advance(SETTINGS.leaseMs + 1);
          const now = clock.now();
          await store.renewLease(first.ticket, 'node-a', new Date(now.getTime() + SETTINGS.leaseMs));
          const claims = await store.claimDue('node-b', now, new Date(now.getTime() + SETTINGS.leaseMs), 10);
          secondTakenOver = claims.some((claim) => claim.ticket === second.ticket);
        }
        return publisher.publish(publication);
      },
    };
    await workerWith({ publisher: slowNodeA, settings: { concurrency: 1 } }).runOnce();

    expect(secondTakenOver).toBe(true);
    // Node A published and recorded the first item only: the second is node B's now.
    expect(publishedByA).toEqual([first.ticket]);
    expect(store.sent.get(first.ticket)?.publication.owner).toBe('node-a');
    expect(store.entries.get(second.ticket)).toMatchObject({ leaseOwner: 'node-b', attempts: 0 });
    expect(messagesOf(second.ticket)).toHaveLength(0);
    expect(logged.entries()).toContainEqual(
      expect.objectContaining({
        level: 'warn',
        ticket: second.ticket,
        message: expect.stringMatching(/claim lost/),
      }),
    );
  });

  it('renews, before publishing it, the claim of an item that waited in its batch', async () => {
    const first = await accept();
    const second = await accept();
    const slowFirst: ItemPublisher = {
      publish: (publication) => {
        // A third of the lease passes during the first publication.
        if (publication.ticket === first.ticket) clock.advance(SETTINGS.leaseMs / 3);
        return publisher.publish(publication);
      },
    };
    await workerWith({ publisher: slowFirst, settings: { concurrency: 1 } }).runOnce();

    expect(store.sent.get(second.ticket)?.publication.owner).toBe('node-a');
    expect(store.renewals).toEqual([
      {
        ticket: second.ticket,
        owner: 'node-a',
        leaseExpiresAt: new Date(clock.now().getTime() + SETTINGS.leaseMs),
        held: true,
      },
    ]);
  });

  it('stop() lets the publication under way finish and be recorded, and releases the others', async () => {
    const first = await accept();
    const second = await accept();
    let publishing!: () => void;
    const started = new Promise<void>((resolve) => (publishing = resolve));
    let secondHeldBy: string | undefined;
    const signalling: ItemPublisher = {
      publish: (publication) => {
        secondHeldBy = store.entries.get(second.ticket)?.leaseOwner;
        publishing();
        return publisher.publish(publication);
      },
    };
    const worker = workerWith({ publisher: signalling, settings: { concurrency: 1 } });
    await injectFaults(simulator.url, { failNext: 1, delayMs: 300 });

    const round = worker.runOnce();
    await started;
    await worker.stop();

    expect(await round).toBe(1);
    expect(secondHeldBy).toBe('node-a'); // claimed with the first, never started
    expect(store.sent.has(first.ticket)).toBe(true);
    expect(store.entries.get(second.ticket)).toMatchObject({ leaseOwner: undefined, attempts: 0 });
    expect(simulator.messages().map((message) => message.idempotencyKey)).toEqual([first.ticket]);
    // A stopped worker claims nothing more.
    expect(await worker.runOnce()).toBe(0);
    // The released entry is due at once for any worker.
    await workerWith({ owner: 'node-b' }).drain();
    expect(store.sent.get(second.ticket)?.publication.owner).toBe('node-b');
  });

  it('renews the lease of a long publication', async () => {
    const item = await accept();
    const worker = workerWith({ settings: { leaseMs: 90 } });
    await injectFaults(simulator.url, { failNext: 1, delayMs: 500 });
    await worker.runOnce();
    expect(store.sent.has(item.ticket)).toBe(true);
    expect(store.renewals.length).toBeGreaterThan(0);
    expect(store.renewals[0]).toEqual({
      ticket: item.ticket,
      owner: 'node-a',
      leaseExpiresAt: new Date(clock.now().getTime() + 90),
      held: true,
    });
  });

  it('records NO_DIGITAL_USER for a recipient who never opened an e-Box', async () => {
    const item = await accept({ recipient: { kind: 'citizen', inss: NO_EBOX_INSS, qualityCode: 'CITIZEN' } });
    await workerWith().drain();
    const [message] = messagesOf(item.ticket);
    expect(message.code).toBe('NO_DIGITAL_USER');
    expect(store.sent.get(item.ticket)?.publication).toMatchObject({
      eboxMessageId: message.messageId,
      noDigitalUser: true,
    });
  });

  it('recovers NO_DIGITAL_USER from the recipient profile when the publication is found through a 409', async () => {
    const item = await accept({ recipient: { kind: 'citizen', inss: NO_EBOX_INSS, qualityCode: 'CITIZEN' } });
    const settings = eboxClientSettingsFromEnv({}, simulator.url);
    const worker = workerWith({
      profiles: new EboxProfileClient(settings, new EboxTokenClient(settings, clock), clock),
    });
    tsaDown = true;
    await worker.runOnce();
    const [first] = messagesOf(item.ticket);
    expect(first.code).toBe('NO_DIGITAL_USER');

    tsaDown = false;
    clock.set(store.deferrals[0].nextAttemptAt);
    // The 409 and the status search say nothing of NO_DIGITAL_USER: the profile (no e-Box) does.
    await injectFaults(simulator.url, { failNext: 1, status: 409 });
    await worker.drain();
    expect(messagesOf(item.ticket)).toHaveLength(1);
    expect(store.sent.get(item.ticket)?.publication).toMatchObject({
      eboxMessageId: first.messageId,
      noDigitalUser: true,
    });
  });

  it('runs as a loop that wake() cuts short, and that survives a failing store', async () => {
    const worker = workerWith();
    const claimDue = store.claimDue.bind(store);
    let failures = 1;
    store.claimDue = (...args) => {
      if (failures > 0) {
        failures -= 1;
        return Promise.reject(new Error('database is locked'));
      }
      return claimDue(...args);
    };
    let recorded!: () => void;
    const published = new Promise<void>((resolve) => (recorded = resolve));
    const recordPublished = store.recordPublished.bind(store);
    store.recordPublished = async (outcome) => {
      const result = await recordPublished(outcome);
      recorded();
      return result;
    };

    worker.start();
    try {
      const item = await accept();
      // The first round failed and the loop pauses for an hour: wake() ends the pause.
      worker.wake();
      await published;
      expect(store.sent.has(item.ticket)).toBe(true);
      // drain() may run while the loop does: rounds never overlap.
      await worker.drain();
      expect(messagesOf(item.ticket)).toHaveLength(1);
    } finally {
      await worker.stop();
    }
    expect(logged.entries()).toContainEqual(
      expect.objectContaining({
        level: 'error',
        message: 'outbox round failed',
        error: 'Error: database is locked',
      }),
    );
  });

  it('refuses settings that make no sense', () => {
    expect(() => workerWith({ settings: { concurrency: 0 } })).toThrow(RangeError);
    expect(() => workerWith({ settings: { leaseMs: Number.NaN } })).toThrow(/leaseMs/);
  });
});
