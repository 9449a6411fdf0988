import { createHash } from 'node:crypto';
import path from 'node:path';
import { DOMParser, type Document, type Element } from '@xmldom/xmldom';
import type { DataSource } from 'typeorm';
import { delay, waitFor, type EboxSimulatorProcess } from './child-processes';
import { opensslCmsVerify } from './external-tools';
import { countsByTicket, signNow, type SenderKey } from './process-client';
import { buildSwaRequest, get, parseResponse, post, type HttpResult } from './soap-client';
import {
  getStatusEnvelope,
  partsOf,
  samplePdf,
  sendDocumentEnvelope,
  type SendDocumentSpec,
} from './v1-requests';

/*
 * What the tests of delivery with every party a real process share (delivery-crash: one service killed
 * again and again; several-nodes: three services on one PostgreSQL database): a v1 client over HTTP that
 * signs with the dev sender's key on the real clock and retries each Token until a receipt answers it,
 * the e-Box simulator's message list, and the checks of the outcome (every item SENT once, its
 * ProofOfDispatch verified with openssl, the records one per ticket).
 */

const T = 'http://socialsecurity.be/registeredmail/types/v1';
const EVIDENCE = 'urn:registeredmail:evidence:v1';

/** How long one request may take before the sender counts it as failed and tries again. */
export const REQUEST_TIMEOUT_MS = 30_000;

/** How long one item may keep failing before the sender gives up on it (and the test fails). */
export const ITEM_BOUND_MS = 60_000;

/** Every e-Box call is held this long, so that publications are under way when a process is killed. */
export const EBOX_CALL_DELAY_MS = 150;

/**
 * The services' settings in the process-level delivery tests: quick takeover of a killed process's
 * claims, quick retries, and no consultation round (it could take an injected e-Box fault meant for a
 * publication).
 */
export const KILLABLE_DELIVERY_ENV = {
  RM_OUTBOX_LEASE_SECONDS: '3',
  RM_OUTBOX_POLL_MS: '100',
  RM_DELIVERY_RETRY_BASE_SECONDS: '1',
  RM_DELIVERY_RETRY_MAX_SECONDS: '2',
  RM_CONSULTATION_POLL_SECONDS: '3600',
  RM_LOG_LEVEL: 'warn',
};

/** The dev CA certificate of a data directory's dev PKI (what a recipient of a proof trusts). */
export function devCaFile(dataDir: string): string {
  return path.join(dataDir, 'dev-pki', 'ca', 'root-ca.cert.pem');
}

function withTimeout<T>(promise: Promise<T>, milliseconds: number, what: string): Promise<T> {
  let timer: NodeJS.Timeout | undefined;
  const timeout = new Promise<never>((_, reject) => {
    timer = setTimeout(() => reject(new Error(`${what}: no answer after ${milliseconds} ms`)), milliseconds);
  });
  return Promise.race([promise, timeout]).finally(() => clearTimeout(timer));
}

/**
 * POSTs a SOAP request (`SOAPAction: ""`) and resolves with the whole answer.
 * @throws Error when the connection fails or no answer comes within {@link REQUEST_TIMEOUT_MS}
 */
export function postSoap(url: string, body: Buffer | string, contentType: string): Promise<HttpResult> {
  return withTimeout(
    post(url, body, { 'Content-Type': contentType, SOAPAction: '""' }),
    REQUEST_TIMEOUT_MS,
    url,
  );
}

function firstText(parent: Element | Document, namespace: string, localName: string): string | undefined {
  return parent.getElementsByTagNameNS(namespace, localName)[0]?.textContent ?? undefined;
}

/**
 * The item these tests send under `token`: a small PDF (its content names the Token) to a citizen, with
 * no e-Box profile look-up, so that the e-Box calls are the publications (and their recoveries) only.
 */
export function itemSpec(token: string): SendDocumentSpec {
  return {
    token,
    recipient: { kind: 'citizen', inss: '85073003328' },
    document: { content: samplePdf(token), contentId: 'document@delivery-test' },
    checkEboxStatus: 'BYPASS',
  };
}

/**
 * sendDocument, signed now; resolves with the ticket of the receipt.
 * @throws Error on anything but an HTTP 200 receipt for this Token (the caller tries again)
 */
export async function sendDocument(url: string, sender: SenderKey, spec: SendDocumentSpec): Promise<string> {
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

/** A ProofOfDispatch as getStatus returns it: the evidence bytes, its detached CMS signature, its digest. */
export interface DispatchProof {
  evidence: Buffer;
  signature: Buffer;
  digestValue: string;
}

/** What getStatus answered; the proof's parts when the item is SENT. */
export interface StatusAnswer {
  status: string;
  proof?: DispatchProof;
}

/**
 * getStatus, signed now.
 * @throws Error on anything but an HTTP 200 answer, or a ProofOfDispatch without its attachment
 */
export async function getStatus(url: string, sender: SenderKey, ticket: string): Promise<StatusAnswer> {
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

/** A message the e-Box simulator holds (the fields these tests read). */
export interface SimulatorMessage {
  messageId: string;
  /** The publishing service's Idempotency-Key: the ticket. */
  idempotencyKey: string;
}

/** The messages the simulator holds (`GET /_test/messages`). @throws Error unless HTTP 200 */
export async function simulatorMessages(
  simulator: Pick<EboxSimulatorProcess, 'url'>,
): Promise<SimulatorMessage[]> {
  const answer = await get(`${simulator.url}/_test/messages`);
  if (answer.status !== 200) throw new Error(`GET /_test/messages: HTTP ${answer.status}`);
  return (JSON.parse(answer.body.toString()) as { messages: SimulatorMessage[] }).messages;
}

/** The simulator's messages grouped by ticket (their Idempotency-Key). */
function groupMessagesByTicket(messages: readonly SimulatorMessage[]): Map<string, SimulatorMessage[]> {
  const grouped = new Map<string, SimulatorMessage[]>();
  for (const message of messages) {
    const earlier = grouped.get(message.idempotencyKey) ?? [];
    grouped.set(message.idempotencyKey, [...earlier, message]);
  }
  return grouped;
}

/** mulberry32: a small seeded generator, so that a failing schedule of kills can be replayed. */
export function seededRandom(seed: number): () => number {
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
export function proofProblems(
  ticket: string,
  proof: DispatchProof,
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

/**
 * {@link proofProblems} of every ticket's answer (a SENT answer without a proof is a problem too), each
 * proof against the one e-Box message of its ticket.
 */
function dispatchProofProblems(
  tickets: readonly string[],
  answers: ReadonlyMap<string, StatusAnswer>,
  messages: ReadonlyMap<string, readonly SimulatorMessage[]>,
  caFile: string,
): string[] {
  return tickets.flatMap((ticket) => {
    const proof = answers.get(ticket)?.proof;
    if (!proof) return [`${ticket}: SENT without a ProofOfDispatch`];
    return proofProblems(ticket, proof, messages.get(ticket)?.[0].messageId, caFile);
  });
}

/** What the sender got so far: a ticket per Token, the items it gave up on, how many attempts failed. */
export interface SendProgress {
  tickets: Map<string, string>;
  problems: string[];
  failedAttempts: number;
}

/** What {@link sendAll} sends, where, and how hard it tries. */
export interface SendPlan {
  count: number;
  /** The Token of the item at `index` (0 to count - 1). */
  tokenOf(index: number): string;
  /** Where the `attempt`-th try (0 first) of the item at `index` goes: the service that serves now. */
  urlOf(index: number, attempt: number): string;
  sender: SenderKey;
  /** How many items are under way at once. */
  inParallel: number;
  /** How long one item may keep failing before the sender gives up on it (and the test fails). */
  itemBoundMs: number;
}

/**
 * Sends `plan.count` items of {@link itemSpec}, `plan.inParallel` at a time, recording into `progress`:
 * each Token again and again (100 ms apart) until a receipt answers it, which a restarted service, or
 * another node on the same database, does with the ticket issued before if there was one (the
 * idempotent retry). "Accepted" means a receipt with a ticket came back.
 */
export async function sendAll(plan: SendPlan, progress: SendProgress): Promise<void> {
  let next = 0;
  const lane = async () => {
    for (let index = next++; index < plan.count; index = next++) {
      const spec = itemSpec(plan.tokenOf(index));
      const giveUpAt = Date.now() + plan.itemBoundMs;
      for (let attempt = 0; ; attempt += 1) {
        try {
          progress.tickets.set(spec.token, await sendDocument(plan.urlOf(index, attempt), plan.sender, spec));
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
  await Promise.all(Array.from({ length: plan.inParallel }, lane));
}

/**
 * Asks getStatus about every ticket not yet SENT (answers kept in `answers`), `inParallel` at a time,
 * the requests spread round robin over `urls`; true once all are SENT.
 */
async function allSent(
  tickets: readonly string[],
  answers: Map<string, StatusAnswer>,
  urls: readonly string[],
  sender: SenderKey,
  inParallel: number,
): Promise<true | undefined> {
  const pending = tickets.filter((ticket) => answers.get(ticket)?.status !== 'SENT');
  for (let start = 0; start < pending.length; start += inParallel) {
    await Promise.all(
      pending
        .slice(start, start + inParallel)
        .map(async (ticket, offset) =>
          answers.set(ticket, await getStatus(urls[(start + offset) % urls.length], sender, ticket)),
        ),
    );
  }
  return tickets.every((ticket) => answers.get(ticket)?.status === 'SENT') ? true : undefined;
}

/**
 * Waits until getStatus, asked through `urls`, answers SENT for every ticket, as a client sees it.
 * @returns the last answer of every ticket (with its ProofOfDispatch)
 * @throws Error after `timeoutMs`, listing `log` and the tickets not SENT yet
 */
export async function waitUntilAllSent(
  tickets: readonly string[],
  urls: readonly string[],
  sender: SenderKey,
  options: { inParallel: number; timeoutMs: number; log: readonly string[] },
): Promise<Map<string, StatusAnswer>> {
  const answers = new Map<string, StatusAnswer>();
  await waitFor(
    'every accepted item to be SENT',
    () => allSent(tickets, answers, urls, sender, options.inParallel),
    {
      timeoutMs: options.timeoutMs,
      intervalMs: 500,
      details: () =>
        `${options.log.join('; ')}\nnot SENT: ${tickets
          .filter((ticket) => answers.get(ticket)?.status !== 'SENT')
          .map((ticket) => `${ticket} ${answers.get(ticket)?.status ?? '?'}`)
          .join(', ')}`,
    },
  );
  return answers;
}

/**
 * Expects the e-Box to hold exactly one message per ticket and nothing else, and every ticket's
 * ProofOfDispatch to verify against `caFile` and name that message.
 */
export async function expectDeliveredOncePerTicket(
  simulator: Pick<EboxSimulatorProcess, 'url'>,
  tickets: readonly string[],
  answers: ReadonlyMap<string, StatusAnswer>,
  caFile: string,
): Promise<void> {
  const messages = await simulatorMessages(simulator);
  const byTicket = groupMessagesByTicket(messages);
  const ticketSet = new Set(tickets);
  expect(messages.filter((message) => !ticketSet.has(message.idempotencyKey))).toEqual([]);
  expect(tickets.filter((ticket) => byTicket.get(ticket)?.length !== 1)).toEqual([]);
  expect(messages).toHaveLength(tickets.length);
  expect(dispatchProofProblems(tickets, answers, byTicket, caFile)).toEqual([]);
}

/** Per ticket, how many delivery records the database holds of each kind that must exist exactly once. */
export interface DeliveryRecordCounts {
  publications: Map<string, number>;
  publishedEvents: Map<string, number>;
  dispatchProofs: Map<string, number>;
}

/** Counts each ticket's publications, PUBLISHED history rows and DISPATCH proofs (SQLite or PostgreSQL). */
export async function deliveryRecordCounts(dataSource: DataSource): Promise<DeliveryRecordCounts> {
  const [publications, publishedEvents, dispatchProofs] = await Promise.all([
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
  return { publications, publishedEvents, dispatchProofs };
}
