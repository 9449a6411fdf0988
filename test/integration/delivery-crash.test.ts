import { createHash } from 'node:crypto';
import { mkdtempSync, rmSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { DOMParser, type Document, type Element } from '@xmldom/xmldom';
import { openDatabase } from '../../src/storage/data-source';
import {
  delay,
  describeExit,
  findFreePort,
  killRemainingChildren,
  startEboxSimulatorProcess,
  startServiceProcess,
  TranspiledSources,
  waitFor,
  type EboxSimulatorProcess,
  type ServiceProcess,
} from '../support/child-processes';
import { opensslCmsVerify, testWithTool } from '../support/external-tools';
import { countsByTicket, devSender, parentPid, signNow, type SenderKey } from '../support/process-client';
import { buildSwaRequest, get, parseResponse, post, type HttpResult } from '../support/soap-client';
import {
  getStatusEnvelope,
  partsOf,
  samplePdf,
  sendDocumentEnvelope,
  type SendDocumentSpec,
} from '../support/v1-requests';

/*
 * Crash safety of delivery (issue 5), with every party a real process:
 * - the e-Box simulator runs on its own (src/ebox-simulator/main.ts: the entry point `npm run ebox` runs
 *   once built), its messages in a data file, so they outlive every kill of the service;
 * - the service is `registered-mail serve` (src/cli/main.ts, what `npm start` runs), killed with SIGKILL
 *   at random moments and started again on the same data directory and port;
 * - both run from the sources transpiled once for this file (as ts-node --transpile-only would on each
 *   of the many starts; see TranspiledSources);
 * - the sender is this jest process: a process apart from the service, which is all the scenario needs
 *   (it must outlive the kills and retry). A separate sender script would add a start-up and a second
 *   channel for its results without showing anything more.
 *
 * The service runs on the real clock, so this file waits on real time (bounded polls, the killer's random
 * pauses); the random pauses come from a logged seed (RM_CRASH_TEST_SEED replays a schedule; the
 * processes' own interleaving is not replayable).
 */

const T = 'http://socialsecurity.be/registeredmail/types/v1';
const EVIDENCE = 'urn:registeredmail:evidence:v1';
const ITEMS = 200;
const SENDERS_IN_PARALLEL = 4;
const MIN_KILLS = 5;
const MAX_KILLS = 8;
/** Every e-Box call is held this long, so that publications are under way when the service is killed. */
const EBOX_CALL_DELAY_MS = 150;
/** How long everything accepted may take to become SENT once the killing has stopped. */
const DELIVERY_BOUND_MS = 90_000;
/** How long one request may take before the sender counts it as failed and tries again. */
const REQUEST_TIMEOUT_MS = 30_000;
/** How long one item may keep failing before the sender gives up on it (and the test fails). */
const ITEM_BOUND_MS = 60_000;

/** The service's settings here: quick takeover of a killed process's claims, quick retries. */
const SERVICE_ENV = {
  RM_OUTBOX_LEASE_SECONDS: '3',
  RM_OUTBOX_POLL_MS: '100',
  RM_DELIVERY_RETRY_BASE_SECONDS: '1',
  RM_DELIVERY_RETRY_MAX_SECONDS: '2',
  // No consultation round may take an injected e-Box fault meant for a publication.
  RM_CONSULTATION_POLL_SECONDS: '3600',
  RM_LOG_LEVEL: 'warn',
};

/* ---------------------------------------------------------------------------------------------- */
/* A v1 client over HTTP, signing with the dev sender's key on the real clock                       */
/* ---------------------------------------------------------------------------------------------- */

function devCaFile(dataDir: string): string {
  return path.join(dataDir, 'dev-pki', 'ca', 'root-ca.cert.pem');
}

function withTimeout<T>(promise: Promise<T>, milliseconds: number, what: string): Promise<T> {
  let timer: NodeJS.Timeout | undefined;
  const timeout = new Promise<never>((_, reject) => {
    timer = setTimeout(() => reject(new Error(`${what}: no answer after ${milliseconds} ms`)), milliseconds);
  });
  return Promise.race([promise, timeout]).finally(() => clearTimeout(timer));
}

function postSoap(url: string, body: Buffer | string, contentType: string): Promise<HttpResult> {
  return withTimeout(
    post(url, body, { 'Content-Type': contentType, SOAPAction: '""' }),
    REQUEST_TIMEOUT_MS,
    url,
  );
}

function firstText(parent: Element | Document, namespace: string, localName: string): string | undefined {
  return parent.getElementsByTagNameNS(namespace, localName)[0]?.textContent ?? undefined;
}

function itemSpec(token: string): SendDocumentSpec {
  return {
    token,
    recipient: { kind: 'citizen', inss: '85073003328' },
    document: { content: samplePdf(token), contentId: 'document@crash-test' },
    // No profile look-up: the e-Box calls are the publications (and their recoveries) only.
    checkEboxStatus: 'BYPASS',
  };
}

/**
 * sendDocument; resolves with the ticket of the receipt.
 * @throws Error on anything but an HTTP 200 receipt for this Token (the caller tries again)
 */
async function sendDocument(url: string, sender: SenderKey, spec: SendDocumentSpec): Promise<string> {
  const request = buildSwaRequest(signNow(sendDocumentEnvelope(spec), sender), partsOf(spec));
  const result = await postSoap(url, request.body, request.contentType);
  if (result.status !== 200)
    throw new Error(`HTTP ${result.status}: ${result.body.toString().slice(0, 300)}`);
  const envelope = new DOMParser().parseFromString((await parseResponse(result)).envelope, 'text/xml');
  const receipt = envelope.getElementsByTagNameNS(T, 'Receipt')[0];
  const ticket = receipt ? firstText(receipt, T, 'Ticket') : undefined;
  if (!ticket || firstText(receipt, T, 'Token') !== spec.token)
    throw new Error(`no receipt for ${spec.token}: ${result.body.toString().slice(0, 300)}`);
  return ticket;
}

/** What getStatus answered; the proof's parts when the item is SENT. */
interface StatusAnswer {
  status: string;
  proof?: { evidence: Buffer; signature: Buffer; digestValue: string };
}

async function getStatus(url: string, sender: SenderKey, ticket: string): Promise<StatusAnswer> {
  const result = await postSoap(url, signNow(getStatusEnvelope(ticket), sender), 'text/xml; charset=utf-8');
  if (result.status !== 200)
    throw new Error(`getStatus ${ticket}: HTTP ${result.status}: ${result.body.toString().slice(0, 300)}`);
  const parsed = await parseResponse(result);
  const envelope = new DOMParser().parseFromString(parsed.envelope, 'text/xml');
  const status = firstText(envelope, T, 'Status') ?? '(none)';
  const proofElement = envelope.getElementsByTagNameNS(T, 'ProofOfDispatch')[0];
  if (!proofElement) return { status };
  const contentId = decodeURIComponent((firstText(proofElement, T, 'Content') ?? '').replace(/^cid:/, ''));
  const evidence = parsed.attachments.get(contentId)?.content;
  if (!evidence) throw new Error(`getStatus ${ticket}: ProofOfDispatch without its attachment ${contentId}`);
  return {
    status,
    proof: {
      evidence,
      signature: Buffer.from(firstText(proofElement, T, 'Signature') ?? '', 'base64'),
      digestValue: firstText(proofElement, T, 'DigestValue') ?? '',
    },
  };
}

/* ---------------------------------------------------------------------------------------------- */
/* The e-Box simulator's test control                                                              */
/* ---------------------------------------------------------------------------------------------- */

interface SimulatorMessage {
  messageId: string;
  idempotencyKey: string;
}

async function simulatorMessages(simulator: EboxSimulatorProcess): Promise<SimulatorMessage[]> {
  const answer = await get(`${simulator.url}/_test/messages`);
  if (answer.status !== 200) throw new Error(`GET /_test/messages: HTTP ${answer.status}`);
  return (JSON.parse(answer.body.toString()) as { messages: SimulatorMessage[] }).messages;
}

async function injectFaults(
  simulator: EboxSimulatorProcess,
  plan: { failNext: number; delayMs?: number },
): Promise<void> {
  const body = JSON.stringify(plan);
  const answer = await post(`${simulator.url}/_test/faults`, body, { 'Content-Type': 'application/json' });
  if (answer.status !== 200) throw new Error(`POST /_test/faults: HTTP ${answer.status}`);
}

/* ---------------------------------------------------------------------------------------------- */
/* The kill schedule and the checks                                                                */
/* ---------------------------------------------------------------------------------------------- */

/** mulberry32: a small seeded generator, so that a failing kill schedule can be replayed. */
function seededRandom(seed: number): () => number {
  let state = seed >>> 0;
  return () => {
    state = (state + 0x6d2b79f5) >>> 0;
    let t = state;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

/**
 * Problems with one SENT item's ProofOfDispatch: its digest, `openssl cms -verify` against the dev CA,
 * and the evidence naming the ticket, the dispatch event and the e-Box message of that ticket.
 */
function proofProblems(
  ticket: string,
  proof: NonNullable<StatusAnswer['proof']>,
  messageId: string | undefined,
  caFile: string,
): string[] {
  const problems: string[] = [];
  if (createHash('sha256').update(proof.evidence).digest('base64') !== proof.digestValue)
    problems.push(`${ticket}: the ProofOfDispatch digest does not match its attachment`);
  const verified = opensslCmsVerify(proof.signature, proof.evidence, caFile);
  if (verified.status !== 0)
    problems.push(`${ticket}: openssl cms -verify exited ${verified.status}: ${verified.output.trim()}`);
  const evidence = new DOMParser().parseFromString(proof.evidence.toString('utf8'), 'text/xml');
  if (firstText(evidence, EVIDENCE, 'Ticket') !== ticket)
    problems.push(`${ticket}: the evidence names ticket ${firstText(evidence, EVIDENCE, 'Ticket')}`);
  if (firstText(evidence, EVIDENCE, 'ERDSEventId') !== 'ContentConsignment')
    problems.push(`${ticket}: the evidence is a ${firstText(evidence, EVIDENCE, 'ERDSEventId')}`);
  if (messageId === undefined || firstText(evidence, EVIDENCE, 'EboxMessageId') !== messageId)
    problems.push(
      `${ticket}: the evidence names e-Box message ${firstText(evidence, EVIDENCE, 'EboxMessageId')}, the e-Box has ${messageId}`,
    );
  return problems;
}

/** Rows of a query grouped by ticket, counted. */
/* ---------------------------------------------------------------------------------------------- */
/* The sender                                                                                      */
/* ---------------------------------------------------------------------------------------------- */

/** What the sender got so far: a ticket per Token, the items it gave up on, how many attempts failed. */
interface SendProgress {
  tickets: Map<string, string>;
  problems: string[];
  failedAttempts: number;
}

/**
 * Sends `count` items, `SENDERS_IN_PARALLEL` at a time, to whichever process serves now (`currentUrl`),
 * recording into `progress`: each Token again and again until a receipt answers it, which a restarted
 * service does with the ticket it issued before the kill (its idempotent retry). "Accepted" means a
 * receipt with a ticket came back.
 */
async function sendAll(
  count: number,
  currentUrl: () => string,
  sender: SenderKey,
  progress: SendProgress,
): Promise<void> {
  let next = 0;
  const lane = async () => {
    for (let index = next++; index < count; index = next++) {
      const spec = itemSpec(`CRASH-${String(index).padStart(3, '0')}`);
      const giveUpAt = Date.now() + ITEM_BOUND_MS;
      for (;;) {
        try {
          progress.tickets.set(spec.token, await sendDocument(currentUrl(), sender, spec));
          break;
        } catch (error) {
          progress.failedAttempts += 1;
          if (Date.now() > giveUpAt) {
            progress.problems.push(`${spec.token}: never accepted; last error: ${(error as Error).message}`);
            break;
          }
          await delay(100); // the service is down or starting
        }
      }
    }
  };
  await Promise.all(Array.from({ length: SENDERS_IN_PARALLEL }, lane));
}

/** Asks getStatus about every ticket not yet SENT (answers kept in `answers`); true once all are SENT. */
async function allSent(
  tickets: string[],
  answers: Map<string, StatusAnswer>,
  url: string,
  sender: SenderKey,
): Promise<true | undefined> {
  const pending = tickets.filter((ticket) => answers.get(ticket)?.status !== 'SENT');
  for (let start = 0; start < pending.length; start += SENDERS_IN_PARALLEL) {
    await Promise.all(
      pending
        .slice(start, start + SENDERS_IN_PARALLEL)
        .map(async (ticket) => answers.set(ticket, await getStatus(url, sender, ticket))),
    );
  }
  return tickets.every((ticket) => answers.get(ticket)?.status === 'SENT') ? true : undefined;
}

/** One SIGKILL: whether the sender was still at work, and the counts at that moment. */
interface Kill {
  whileSending: boolean;
  accepted: number;
  inEbox: number;
}

function describeKills(kills: Kill[]): string {
  const each = kills.map((kill) => `${kill.accepted}/${kill.inEbox}${kill.whileSending ? '' : ' (sent)'}`);
  return `${kills.length} kills (accepted/in the e-Box at each: ${each.join(', ')})`;
}

/* ---------------------------------------------------------------------------------------------- */

describe('delivery survives crashes of the service (separate processes, real clock)', () => {
  let work: string;
  let sources: TranspiledSources;
  let simulator: EboxSimulatorProcess;

  beforeAll(async () => {
    work = mkdtempSync(path.join(os.tmpdir(), 'rm-crash-'));
    sources = TranspiledSources.create();
    simulator = await startEboxSimulatorProcess({ dataFile: path.join(work, 'ebox.jsonl'), sources });
  }, 60_000);

  beforeEach(async () => {
    const answer = await post(`${simulator.url}/_test/reset`, '', {});
    if (answer.status !== 200) throw new Error(`POST /_test/reset: HTTP ${answer.status}`);
  });

  // A failed test leaves no service behind; the simulator serves both tests.
  afterEach(() => killRemainingChildren([simulator.process]));

  afterAll(async () => {
    await killRemainingChildren();
    rmSync(work, { recursive: true, force: true });
    sources?.remove();
  });

  testWithTool('openssl', ['version'])(
    `${ITEMS} items sent while the service is killed with SIGKILL and restarted: each is SENT exactly once, with a ProofOfDispatch that verifies`,
    async () => {
      const startedAt = Date.now();
      const elapsed = () => `${((Date.now() - startedAt) / 1000).toFixed(1)} s`;
      const seed = Number(process.env.RM_CRASH_TEST_SEED ?? Date.now() % 2 ** 32);
      const random = seededRandom(seed);
      const log = [`seed ${seed} (RM_CRASH_TEST_SEED=${seed} replays the kill schedule)`];
      const dataDir = path.join(work, 'crash-data');
      // Every e-Box call is held a little, so that kills land while publications are under way.
      await injectFaults(simulator, { failNext: 1_000_000, delayMs: EBOX_CALL_DELAY_MS });
      // One port for every start, so that the sender finds each new process where the last one was.
      const port = await findFreePort();
      const startService = () =>
        startServiceProcess({ dataDir, port, sources, env: { ...SERVICE_ENV, RM_EBOX_URL: simulator.url } });
      let service: ServiceProcess = await startService();
      const sender = devSender(dataDir);

      const progress: SendProgress = { tickets: new Map(), problems: [], failedAttempts: 0 };
      let sending = true;
      const sent = sendAll(ITEMS, () => service.url, sender, progress).finally(() => {
        sending = false;
      });
      // The killer: after a random 300-1500 ms of service, SIGKILL, then a new process on the same data;
      // while the sender is at work (at most MAX_KILLS times), and at least MIN_KILLS times in all.
      const kills: Kill[] = [];
      const duringDelivery = (kill: Kill) => kill.inEbox > 0 && kill.inEbox < kill.accepted;
      while (kills.length < MAX_KILLS && (sending || kills.length < MIN_KILLS)) {
        await delay(300 + Math.floor(random() * 1200));
        if (sending && !kills.some(duringDelivery)) {
          // However slow the machine, one kill must land while delivery is under way (items accepted,
          // some in the e-Box, not all): wait for that moment (bounded; the assertion below tells).
          await waitFor(
            'delivery under way',
            async () => {
              const inEbox = (await simulatorMessages(simulator)).length;
              return inEbox > 0 && inEbox < progress.tickets.size ? true : undefined;
            },
            { timeoutMs: 20_000, intervalMs: 20 },
          ).catch(() => undefined);
        }
        const whileSending = sending;
        const accepted = progress.tickets.size;
        const inEbox = (await simulatorMessages(simulator)).length;
        const exit = await service.process.stop('SIGKILL');
        expect(exit.signal).toBe('SIGKILL');
        kills.push({ whileSending, accepted, inEbox });
        service = await startService();
      }
      log.push(`${describeKills(kills)}, done at ${elapsed()}`);
      await sent;
      log.push(
        `all sent at ${elapsed()}, ${progress.failedAttempts} sendDocument attempts failed and were retried`,
      );
      expect(progress.problems).toEqual([]);
      expect(progress.tickets.size).toBe(ITEMS);
      expect(kills.length).toBeGreaterThanOrEqual(MIN_KILLS);
      // Delivery was under way at some kills: items accepted, some of them in the e-Box, not all.
      expect(kills.filter(duringDelivery).length).toBeGreaterThan(0);

      // The last process runs until every accepted item is SENT, as a client sees it through getStatus.
      const accepted = [...progress.tickets.values()];
      const answers = new Map<string, StatusAnswer>();
      await waitFor('every accepted item to be SENT', () => allSent(accepted, answers, service.url, sender), {
        timeoutMs: DELIVERY_BOUND_MS,
        intervalMs: 500,
        details: () =>
          `${log.join('; ')}\nnot SENT: ${accepted
            .filter((ticket) => answers.get(ticket)?.status !== 'SENT')
            .map((ticket) => `${ticket} ${answers.get(ticket)?.status ?? '?'}`)
            .join(', ')}`,
      });
      log.push(`all SENT at ${elapsed()}`);

      // The e-Box holds exactly one message per accepted ticket, and nothing else.
      const messages = await simulatorMessages(simulator);
      const messagesByTicket = new Map<string, SimulatorMessage[]>();
      for (const message of messages) {
        const earlier = messagesByTicket.get(message.idempotencyKey) ?? [];
        messagesByTicket.set(message.idempotencyKey, [...earlier, message]);
      }
      const acceptedSet = new Set(accepted);
      expect(messages.filter((message) => !acceptedSet.has(message.idempotencyKey))).toEqual([]);
      expect(accepted.filter((ticket) => messagesByTicket.get(ticket)?.length !== 1)).toEqual([]);
      expect(messages).toHaveLength(ITEMS);

      // Every ProofOfDispatch verifies and names the e-Box message of its ticket.
      const caFile = devCaFile(dataDir);
      const problems = accepted.flatMap((ticket) => {
        const proof = answers.get(ticket)?.proof;
        if (!proof) return [`${ticket}: SENT without a ProofOfDispatch`];
        return proofProblems(ticket, proof, messagesByTicket.get(ticket)?.[0].messageId, caFile);
      });
      expect(problems).toEqual([]);

      // A clean stop, then the records: one publication, one PUBLISHED event, one DISPATCH proof per item.
      expect(await service.process.stop('SIGTERM')).toEqual({ code: 0, signal: null });
      const dataSource = await openDatabase(dataDir);
      try {
        const counts = await Promise.all([
          countsByTicket(dataSource, 'SELECT ticket, COUNT(*) AS n FROM item_publication GROUP BY ticket'),
          countsByTicket(
            dataSource,
            "SELECT ticket, COUNT(*) AS n FROM item_status_history WHERE event = 'PUBLISHED' GROUP BY ticket",
          ),
          countsByTicket(
            dataSource,
            "SELECT ticket, COUNT(*) AS n FROM item_proof WHERE kind = 'DISPATCH' GROUP BY ticket",
          ),
        ]);
        for (const byTicket of counts) {
          expect(byTicket.size).toBe(ITEMS);
          expect(accepted.filter((ticket) => byTicket.get(ticket) !== 1)).toEqual([]);
        }
        expect(await dataSource.query('SELECT ticket FROM outbox_entry')).toEqual([]);
      } finally {
        await dataSource.destroy();
      }
      log.push(`checked at ${elapsed()}`);
      console.log(`delivery crash test: ${log.join('; ')}`);
    },
    180_000,
  );

  testWithTool('openssl', ['version'])(
    'SIGTERM: the process finishes the publication under way, records it, and exits with code 0',
    async () => {
      const dataDir = path.join(work, 'sigterm-data');
      const port = await findFreePort();
      const env = { ...SERVICE_ENV, RM_OUTBOX_LEASE_SECONDS: '60', RM_EBOX_URL: simulator.url };
      const first = await startServiceProcess({ dataDir, port, env, sources });
      const sender = devSender(dataDir);

      // The publication is held 3 s in the e-Box (then served normally), so it is under way at the
      // SIGTERM; the item bypasses the profile look-up, so the publication is the next e-Box call.
      await injectFaults(simulator, { failNext: 1, delayMs: 3000 });
      const ticket = await sendDocument(first.url, sender, itemSpec('SIGTERM-1'));
      const claimOwner = await waitFor(
        'the worker to claim the item',
        async () => {
          const dataSource = await openDatabase(dataDir);
          try {
            const rows = (await dataSource.query('SELECT lease_owner FROM outbox_entry WHERE ticket = ?', [
              ticket,
            ])) as { lease_owner: string | null }[];
            return rows[0]?.lease_owner ?? undefined;
          } finally {
            await dataSource.destroy();
          }
        },
        { timeoutMs: 10_000, intervalMs: 20, details: () => first.process.output },
      );
      // The claim is held by the service: its process, or one of its cluster workers (RM_WORKERS).
      const claimPid = Number(/:(\d+):[^:]*$/.exec(claimOwner)?.[1]);
      expect([claimPid, parentPid(claimPid)]).toContain(first.process.pid);
      expect(await simulatorMessages(simulator)).toEqual([]);

      const exit = await first.process.stop('SIGTERM');
      expect(`${describeExit(exit)}\n${first.process.output}`).toMatch(/^exit code 0\n/);

      // What the terminated process did and recorded before it exited.
      const messages = await simulatorMessages(simulator);
      expect(messages.map((message) => message.idempotencyKey)).toEqual([ticket]);
      const dataSource = await openDatabase(dataDir);
      try {
        expect(await dataSource.query('SELECT ticket FROM outbox_entry')).toEqual([]);
        expect(await dataSource.query('SELECT ticket, ebox_message_id FROM item_publication')).toEqual([
          { ticket, ebox_message_id: messages[0].messageId },
        ]);
        expect(await dataSource.query("SELECT ticket FROM item_proof WHERE kind = 'DISPATCH'")).toEqual([
          { ticket },
        ]);
        expect(
          await dataSource.query(
            'SELECT status, event FROM item_status_history WHERE ticket = ? ORDER BY id',
            [ticket],
          ),
        ).toEqual([
          { status: 'PENDING', event: 'ACCEPTED' },
          { status: 'SENT', event: 'PUBLISHED' },
        ]);
      } finally {
        await dataSource.destroy();
      }

      // A new process answers SENT with the proof; the e-Box still holds the one message.
      const second = await startServiceProcess({ dataDir, port, env, sources });
      const answer = await getStatus(second.url, sender, ticket);
      expect(answer.status).toBe('SENT');
      expect(proofProblems(ticket, answer.proof!, messages[0].messageId, devCaFile(dataDir))).toEqual([]);
      expect(await simulatorMessages(simulator)).toHaveLength(1);
      expect(await second.process.stop('SIGTERM')).toEqual({ code: 0, signal: null });
    },
    60_000,
  );
});
