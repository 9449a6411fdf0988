import http from 'node:http';
import { existsSync, mkdtempSync, readFileSync, rmSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { DOMParser } from '@xmldom/xmldom';
import { openDatabase } from '../../src/storage/data-source';
import {
  describeExit,
  findFreePort,
  killRemainingChildren,
  startServiceProcess,
  TranspiledSources,
  waitFor,
  type ServiceProcess,
} from '../support/child-processes';
import { buildSwaRequest, parseResponse, post } from '../support/soap-client';
import { partsOf, samplePdf, sendDocumentEnvelope, type SendDocumentSpec } from '../support/v1-requests';
import { countsByTicket, devSender, parentPid, signNow, type SenderKey } from '../support/process-client';

/*
 * `registered-mail serve` with RM_WORKERS=2, as a user runs it (a real process tree: the primary and two
 * node:cluster workers on one port, run from the sources transpiled once). The service runs on the real
 * clock: the waits here are bounded polls on what the processes print or store.
 */

const T = 'http://socialsecurity.be/registeredmail/types/v1';
const SEND_BOUND_MS = 30_000;
const DELIVERY_BOUND_MS = 30_000;

function itemSpec(token: string): SendDocumentSpec {
  return {
    token,
    recipient: { kind: 'citizen', inss: '85073003328' },
    document: { content: samplePdf(token), contentId: 'document@cluster-test' },
    checkEboxStatus: 'BYPASS',
  };
}

/** sendDocument; resolves with the receipt's ticket. @throws Error on anything but a receipt for the Token */
async function sendDocument(url: string, sender: SenderKey, token: string): Promise<string> {
  const spec = itemSpec(token);
  const request = buildSwaRequest(signNow(sendDocumentEnvelope(spec), sender), partsOf(spec));
  const result = await post(url, request.body, { 'Content-Type': request.contentType, SOAPAction: '""' });
  if (result.status !== 200)
    throw new Error(`HTTP ${result.status}: ${result.body.toString().slice(0, 300)}`);
  const envelope = new DOMParser().parseFromString((await parseResponse(result)).envelope, 'text/xml');
  const ticket = envelope.getElementsByTagNameNS(T, 'Ticket')[0]?.textContent;
  if (!ticket) throw new Error(`no ticket for ${token}: ${result.body.toString().slice(0, 300)}`);
  return ticket;
}

/** The JSON log lines a process printed (the banner and other text are skipped). */
function logLines(output: string): Record<string, unknown>[] {
  return output
    .split('\n')
    .filter((line) => line.startsWith('{'))
    .flatMap((line) => {
      try {
        return [JSON.parse(line) as Record<string, unknown>];
      } catch {
        return []; // a line cut by the output window
      }
    });
}

/** One environment variable of a running process, from /proc/<pid>/environ. */
function environmentOf(pid: number, name: string): string | undefined {
  const entries = readFileSync(`/proc/${pid}/environ`, 'utf8').split('\0');
  return entries.find((entry) => entry.startsWith(`${name}=`))?.slice(name.length + 1);
}

const describeOnLinux = process.platform === 'linux' ? describe : describe.skip;

describeOnLinux('registered-mail serve with RM_WORKERS=2', () => {
  let sources: TranspiledSources;
  let dataDir: string;
  let service: ServiceProcess;
  let sender: SenderKey;
  let workerPids: number[];
  let eboxUrl: string;
  /** Tickets acknowledged by a receipt, by Token. */
  const tickets = new Map<string, string>();

  beforeAll(async () => {
    sources = TranspiledSources.create();
    dataDir = mkdtempSync(path.join(os.tmpdir(), 'rm-cluster-'));
    service = await startServiceProcess({
      dataDir,
      port: await findFreePort(),
      env: { RM_WORKERS: '2', RM_LOG_LEVEL: 'info', RM_OUTBOX_POLL_MS: '100' },
      sources,
    });
    const [, pids] = await service.process.waitForOutput(/workers:\s+2 \(pids (\d+, \d+)\)/);
    workerPids = pids.split(', ').map(Number);
    [, eboxUrl] = await service.process.waitForOutput(/e-Box:\s+(http:\/\/\S+)/);
    sender = devSender(dataDir);
  }, 120_000);

  afterAll(async () => {
    await killRemainingChildren();
    sources?.remove();
    if (dataDir) rmSync(dataDir, { recursive: true, force: true });
  });

  it('forks two workers that both answer; one e-Box simulator (the primary’s) serves them both', async () => {
    const primary = service.process.pid as number;
    expect(new Set(workerPids).size).toBe(2);
    for (const pid of workerPids) {
      expect(parentPid(pid)).toBe(primary);
      // A worker given RM_EBOX_URL starts no simulator of its own.
      expect(environmentOf(pid, 'RM_EBOX_URL')).toBe(eboxUrl);
      // One V8 background thread per worker (app/worker-exec-argv.ts): none of node's four per process.
      expect(readFileSync(`/proc/${pid}/cmdline`, 'utf8').split('\0')).toContain('--v8-pool-size=1');
    }

    // Requests from several connections at once: the primary hands connections to the workers in turn.
    const tokens = Array.from({ length: 12 }, (_, index) => `CLUSTER-${String(index).padStart(2, '0')}`);
    const answers = await Promise.all(tokens.map((token) => sendDocument(service.url, sender, token)));
    tokens.forEach((token, index) => tickets.set(token, answers[index]));
    expect(new Set(answers).size).toBe(tokens.length);

    const answering = new Set(
      logLines(service.process.output)
        .filter((line) => line.message === 'soap request' && line.operation === 'sendDocument')
        .map((line) => line.pid),
    );
    expect([...answering].sort()).toEqual([...workerPids].sort());
  }, 60_000);

  it('delivers every accepted item once (SENT, one publication, one e-Box message), whichever worker took it', async () => {
    const expected = [...tickets.values()];
    const dataSource = await openDatabase(dataDir);
    try {
      await waitFor(
        'every item to be SENT',
        async () => {
          const rows = (await dataSource.query(
            `SELECT COUNT(*) AS n FROM registered_mail_item WHERE status = 'SENT'`,
          )) as { n: number }[];
          return Number(rows[0].n) === expected.length ? true : undefined;
        },
        { timeoutMs: DELIVERY_BOUND_MS, details: () => service.process.output.slice(-3000) },
      );
      const publications = await countsByTicket(
        dataSource,
        'SELECT ticket, COUNT(*) AS n FROM item_publication GROUP BY ticket',
      );
      const published = await countsByTicket(
        dataSource,
        "SELECT ticket, COUNT(*) AS n FROM item_status_history WHERE event = 'PUBLISHED' GROUP BY ticket",
      );
      for (const ticket of expected) {
        expect(publications.get(ticket)).toBe(1);
        expect(published.get(ticket)).toBe(1);
      }
    } finally {
      await dataSource.destroy();
    }
    const messages = readFileSync(path.join(dataDir, 'ebox-simulator.jsonl'), 'utf8')
      .split('\n')
      .filter((line) => line.trim() !== '')
      .map((line) => JSON.parse(line) as { event: string; message?: { idempotencyKey: string } })
      .filter((event) => event.event === 'published');
    expect(messages).toHaveLength(expected.length);
    expect(new Set(messages.map((event) => event.message?.idempotencyKey)).size).toBe(expected.length);
  }, 60_000);

  it('many concurrent sends over both workers: none fails, every item is SENT', async () => {
    // The workers write one at a time (the primary's write lock); none may fail as busy meanwhile.
    // Fresh connections: sockets kept alive since the first test may be closed by the server's idle timeout
    // just as they are reused (a client-side "socket hang up" that says nothing about the service).
    http.globalAgent.destroy();
    const tokens = Array.from({ length: 64 }, (_, index) => `CLUSTER-LOAD-${String(index).padStart(2, '0')}`);
    const outcomes = await Promise.allSettled(
      tokens.map((token) => sendDocument(service.url, sender, token)),
    );
    const failures = outcomes.flatMap((outcome) =>
      outcome.status === 'rejected' ? [String(outcome.reason)] : [],
    );
    if (failures.length > 0) {
      throw new Error(
        `${failures.length} sends failed: ${failures[0]}\n${service.process.output.slice(-4000)}`,
      );
    }
    const loadTickets = outcomes.flatMap((outcome) =>
      outcome.status === 'fulfilled' ? [outcome.value] : [],
    );
    tokens.forEach((token, index) => tickets.set(token, loadTickets[index]));
    expect(new Set(loadTickets).size).toBe(tokens.length);

    const dataSource = await openDatabase(dataDir);
    try {
      const inList = loadTickets.map((ticket) => `'${ticket}'`).join(', ');
      await waitFor(
        'every item of the load to be SENT',
        async () => {
          const rows = (await dataSource.query(
            `SELECT COUNT(*) AS n FROM registered_mail_item WHERE status = 'SENT' AND ticket IN (${inList})`,
          )) as { n: number }[];
          return Number(rows[0].n) === loadTickets.length ? true : undefined;
        },
        { timeoutMs: DELIVERY_BOUND_MS, details: () => service.process.output.slice(-3000) },
      );
    } finally {
      await dataSource.destroy();
    }
  }, 120_000);

  it('replaces a worker that dies', async () => {
    const [victim, survivor] = workerPids;
    process.kill(victim, 'SIGKILL');
    const replacement = await waitFor(
      'a replacement worker to be ready',
      async () =>
        logLines(service.process.output)
          .filter((line) => line.message === 'worker ready')
          .map((line) => Number(line.workerPid))
          .find((pid) => !workerPids.includes(pid)),
      { timeoutMs: SEND_BOUND_MS, details: () => service.process.output.slice(-3000) },
    );
    expect(parentPid(replacement)).toBe(service.process.pid);
    expect(parentPid(survivor)).toBe(service.process.pid);
    workerPids = [survivor, replacement];
    tickets.set('CLUSTER-AFTER-KILL', await sendDocument(service.url, sender, 'CLUSTER-AFTER-KILL'));
  }, 60_000);

  it('SIGTERM: requests under way are answered, the workers and the primary exit 0, no accepted item is lost', async () => {
    const tokens = Array.from({ length: 8 }, (_, index) => `CLUSTER-TERM-${index}`);
    const sends = tokens.map((token) => sendDocument(service.url, sender, token));
    // Once the first answer is in, the others are under way (or not yet taken): stop then.
    await Promise.race(sends);
    const exit = await service.process.stop('SIGTERM');
    expect(describeExit(exit)).toBe('exit code 0');
    const outcomes = await Promise.allSettled(sends);
    outcomes.forEach((outcome, index) => {
      if (outcome.status === 'fulfilled') tickets.set(tokens[index], outcome.value);
      // A request the service never took fails to connect; one it took is answered, never a 5xx.
      else expect(String(outcome.reason)).not.toMatch(/HTTP \d/);
    });
    for (const pid of workerPids) expect(() => process.kill(pid, 0)).toThrow();
    // The workers took turns at the database's lock file.
    expect(existsSync(path.join(dataDir, 'registered-mail.sqlite.write-lock'))).toBe(true);

    const dataSource = await openDatabase(dataDir);
    try {
      const stored = (await dataSource.query(
        `SELECT i.ticket, i.status, o.ticket AS queued FROM registered_mail_item i
           LEFT JOIN outbox_entry o ON o.ticket = i.ticket`,
      )) as { ticket: string; status: string; queued: string | null }[];
      const byTicket = new Map(stored.map((row) => [row.ticket, row]));
      for (const ticket of tickets.values()) {
        const row = byTicket.get(ticket);
        expect(row).toBeDefined();
        // Delivered, or still in the outbox for the next start: accepted is never lost.
        expect(row?.status === 'SENT' || row?.queued === ticket).toBe(true);
      }
    } finally {
      await dataSource.destroy();
    }
  }, 60_000);
});
