import { mkdtempSync, rmSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import type { DataSource } from 'typeorm';
import {
  delay,
  findFreePort,
  killRemainingChildren,
  startEboxSimulatorProcess,
  startServiceProcess,
  TranspiledSources,
  waitFor,
  type EboxSimulatorProcess,
  type ServiceProcess,
} from '../support/child-processes';
import {
  expectDeliveredOncePerTicket,
  waitUntilAllSent,
  deliveryRecordCounts,
  devCaFile,
  getStatus,
  postSoap,
  seededRandom,
  sendAll,
  simulatorMessages,
  type SendProgress,
  EBOX_CALL_DELAY_MS,
  ITEM_BOUND_MS,
  KILLABLE_DELIVERY_ENV,
} from '../support/delivery-processes';
import { programEboxFaults } from '../support/ebox-control';
import { startEboxTap, type EboxTap, type TappedPublication } from '../support/ebox-tap';
import { testWithTool } from '../support/external-tools';
import { expectFault } from '../support/fault-assertions';
import { devSender, signNow } from '../support/process-client';
import {
  describeOnPostgres,
  openTestDatabase,
  removeTestDataDir,
  testServiceEnvironment,
} from '../support/test-database';
import { getStatusEnvelope } from '../support/v1-requests';

/*
 * Several nodes on one PostgreSQL database (issue 8, point 2), every party a real process:
 * - three `registered-mail serve` processes (one of them a cluster of two workers) on one database and
 *   one data directory (the dev PKI, the blob directory), each on its own port;
 * - one e-Box simulator process; each service process reaches it through its own tap (an HTTP hop in
 *   this process, test/support/ebox-tap.ts), which tells which process published which item;
 * - the sender is this jest process, spreading the items round robin over the nodes and trying a Token
 *   again on the next node whenever its node does not answer with a receipt;
 * - one node is killed with SIGKILL while publications are under way and started again on its port.
 *
 * The services run on the real clock, so this file waits on real time (bounded polls, the pause before
 * the restart); which node is killed, when, and how long it stays down come from a logged seed
 * (RM_NODES_TEST_SEED replays them; the processes' own interleaving is not replayable). What it asserts
 * holds for every interleaving.
 */

const ITEMS = 300;
const SENDERS_IN_PARALLEL = 6;
/** How long everything accepted may take to become SENT once the sender is done. */
const DELIVERY_BOUND_MS = 60_000;
/** How long the kill may wait for its moment: items accepted, some in the e-Box, the victim holding claims. */
const KILL_MOMENT_BOUND_MS = 30_000;
/**
 * How many claims the victim must hold at the kill: more than one, so that it cannot finish all of them
 * in the few milliseconds between the look and the SIGKILL (each takes an e-Box call of 150 ms).
 */
const CLAIMS_AT_KILL = 3;

/** A node: a port, a worker count, and the processes that served on that port one after the other. */
interface ServiceNode {
  name: string;
  port: number;
  workers: number;
  /** Each process started for this node, the current one last, with the tap it reached the e-Box through. */
  incarnations: { label: string; service: ServiceProcess; tap: EboxTap }[];
}

function current(node: ServiceNode): ServiceNode['incarnations'][number] {
  const last = node.incarnations.at(-1);
  if (last === undefined) throw new Error(`node ${node.name} was never started`);
  return last;
}

/** An outbox entry leased by a process, as read from the database. */
interface Claim {
  ticket: string;
  leaseExpiresAt: number;
}

/** The entries whose lease names process `pid` (owner `<host>:<pid>:<random>`, see OutboxWorker). */
async function claimsOf(dataSource: DataSource, pid: number): Promise<Claim[]> {
  const rows = (await dataSource.query(
    'SELECT ticket, lease_owner, lease_expires_at FROM outbox_entry WHERE lease_owner IS NOT NULL',
  )) as { ticket: string; lease_owner: string; lease_expires_at: string }[];
  return rows
    .filter((row) => Number(/:(\d+):[^:]*$/.exec(row.lease_owner)?.[1]) === pid)
    .map((row) => ({ ticket: row.ticket, leaseExpiresAt: Date.parse(row.lease_expires_at) }));
}

/** A publication seen by a tap, with the process it came from. */
interface Publication extends TappedPublication {
  node: string;
  incarnation: string;
}

function publicationsOf(nodes: readonly ServiceNode[]): Publication[] {
  return nodes.flatMap((node) =>
    node.incarnations.flatMap(({ label, tap }) =>
      tap.publications.map((publication) => ({ ...publication, node: node.name, incarnation: label })),
    ),
  );
}

function countBy<T>(values: readonly T[], key: (value: T) => string): Map<string, number> {
  const counts = new Map<string, number>();
  for (const value of values) counts.set(key(value), (counts.get(key(value)) ?? 0) + 1);
  return counts;
}

/* ---------------------------------------------------------------------------------------------- */

describeOnPostgres('several nodes need a database server; SQLite is one file on one machine')(
  'several service processes on one PostgreSQL database (separate processes, real clock)',
  () => {
    let work: string;
    let dataDir: string;
    let sources: TranspiledSources;
    let simulator: EboxSimulatorProcess;
    const nodes: ServiceNode[] = [];
    let dataSource: DataSource | undefined;

    beforeAll(async () => {
      work = mkdtempSync(path.join(os.tmpdir(), 'rm-nodes-'));
      dataDir = path.join(work, 'data');
      sources = TranspiledSources.create();
      simulator = await startEboxSimulatorProcess({ dataFile: path.join(work, 'ebox.jsonl'), sources });
    }, 60_000);

    afterAll(async () => {
      await killRemainingChildren();
      await dataSource?.destroy();
      await Promise.all(nodes.flatMap((node) => node.incarnations.map(({ tap }) => tap.close())));
      if (dataDir !== undefined) await removeTestDataDir(dataDir);
      rmSync(work, { recursive: true, force: true });
      sources?.remove();
    });

    testWithTool('openssl', ['version'])(
      `${ITEMS} items spread over three nodes while one is killed with SIGKILL and restarted: each is SENT exactly once, with a ProofOfDispatch that verifies`,
      async () => {
        const startedAt = Date.now();
        const elapsed = () => `${((Date.now() - startedAt) / 1000).toFixed(1)} s`;
        const seed = Number(process.env.RM_NODES_TEST_SEED ?? Date.now() % 2 ** 32);
        const random = seededRandom(seed);
        const log = [`seed ${seed} (RM_NODES_TEST_SEED=${seed} replays the kill)`];

        // Every e-Box call is held a little, so that the kill lands while publications are under way.
        await programEboxFaults(simulator.url, { failNext: 1_000_000, delayMs: EBOX_CALL_DELAY_MS });
        const databaseEnv = await testServiceEnvironment(dataDir);
        for (const [name, workers] of [
          ['A', 1],
          ['B', 1],
          ['C', 2],
        ] as const) {
          nodes.push({ name, workers, port: await findFreePort(), incarnations: [] });
        }
        const startNode = async (node: ServiceNode) => {
          const label = `${node.name}${node.incarnations.length + 1}`;
          const tap = await startEboxTap(simulator.url, label);
          const env = {
            ...KILLABLE_DELIVERY_ENV,
            ...databaseEnv,
            RM_WORKERS: String(node.workers),
            RM_EBOX_URL: tap.url,
          };
          const service = await startServiceProcess({ dataDir, port: node.port, sources, env }).catch(
            async (error: unknown) => {
              await tap.close();
              throw error;
            },
          );
          node.incarnations.push({ label, service, tap });
        };
        // The first start creates the dev PKI and the schema; the others find both.
        await startNode(nodes[0]);
        await Promise.all(nodes.slice(1).map(startNode));
        log.push(`nodes up at ${elapsed()}`);
        const sender = devSender(dataDir);
        const database = await openTestDatabase(dataDir);
        dataSource = database;

        // Round robin: item i goes to node i mod 3, its next attempt to the next node, and so on.
        const progress: SendProgress = { tickets: new Map(), problems: [], failedAttempts: 0 };
        let sending = true;
        const sent = sendAll(
          {
            count: ITEMS,
            tokenOf: (index) => `NODES-${String(index).padStart(3, '0')}`,
            urlOf: (index, attempt) => current(nodes[(index + attempt) % nodes.length]).service.url,
            sender,
            inParallel: SENDERS_IN_PARALLEL,
            itemBoundMs: ITEM_BOUND_MS,
          },
          progress,
        ).finally(() => {
          sending = false;
        });

        // The kill: a single-process node (its claims name its pid), once a seeded share of the items is
        // accepted and delivery is under way (some in the e-Box, not all) with claims held by the victim.
        const victim = nodes[Math.floor(random() * 2)];
        const victimProcess = current(victim);
        const victimPid = victimProcess.service.process.pid ?? -1;
        const killAfterAccepted = Math.floor(ITEMS * (0.2 + 0.3 * random()));
        const downForMs = 300 + Math.floor(random() * 700);
        const atKill = await waitFor(
          `delivery under way with claims held by node ${victim.name}`,
          async () => {
            const accepted = progress.tickets.size;
            if (accepted < killAfterAccepted) return undefined;
            const inEbox = (await simulatorMessages(simulator)).length;
            if (inEbox === 0 || inEbox >= accepted) return undefined;
            const held = await claimsOf(database, victimPid);
            return held.length >= CLAIMS_AT_KILL
              ? { accepted, inEbox, held: held.length, whileSending: sending }
              : undefined;
          },
          { timeoutMs: KILL_MOMENT_BOUND_MS, intervalMs: 20, details: () => log.join('; ') },
        );
        expect(await victimProcess.service.process.stop('SIGKILL')).toEqual({
          code: null,
          signal: 'SIGKILL',
        });
        // What the dead process still holds: claims nobody renews, which others may take only once expired.
        const orphans = await claimsOf(database, victimPid);
        log.push(
          `${victimProcess.label} killed at ${elapsed()} (${atKill.accepted} accepted, ${atKill.inEbox} in the ` +
            `e-Box, ${atKill.held} claims held, ${orphans.length} left at its death${atKill.whileSending ? '' : ', sender done'})`,
        );
        await delay(downForMs);
        await startNode(victim);
        log.push(`${current(victim).label} up at ${elapsed()}`);

        await sent;
        log.push(`all accepted at ${elapsed()}, ${progress.failedAttempts} sendDocument attempts retried`);
        expect(progress.problems).toEqual([]);
        expect(progress.tickets.size).toBe(ITEMS);
        // Delivery was under way at the kill, and the dead process left claims behind.
        expect(atKill.inEbox).toBeGreaterThan(0);
        expect(atKill.inEbox).toBeLessThan(atKill.accepted);
        expect(orphans.length).toBeGreaterThan(0);

        // Tickets never collide: one ticket per Token, all distinct, one item each in the database.
        const tickets = [...progress.tickets.values()];
        expect(new Set(tickets).size).toBe(ITEMS);
        const items = (await database.query('SELECT token, ticket FROM registered_mail_item')) as {
          token: string;
          ticket: string;
        }[];
        expect(new Map(items.map((item) => [item.token, item.ticket]))).toEqual(progress.tickets);
        expect(items).toHaveLength(ITEMS);

        // Every item SENT, as a client sees it through getStatus on any node.
        const urls = nodes.map((node) => current(node).service.url);
        const answers = await waitUntilAllSent(tickets, urls, sender, {
          inParallel: SENDERS_IN_PARALLEL,
          timeoutMs: DELIVERY_BOUND_MS,
          log,
        });
        log.push(`all SENT at ${elapsed()}`);

        // The e-Box holds exactly one message per ticket, and nothing else; every ProofOfDispatch verifies
        // (openssl, dev CA) and names the e-Box message of its ticket.
        expect(tickets).toHaveLength(ITEMS);
        await expectDeliveredOncePerTicket(simulator, tickets, answers, devCaFile(dataDir));

        // The records: one publication, one PUBLISHED event, one DISPATCH proof per item; no outbox entry.
        for (const [kind, counts] of Object.entries(await deliveryRecordCounts(database))) {
          expect({ kind, tickets: counts.size }).toEqual({ kind, tickets: ITEMS });
          expect({ kind, notOnce: tickets.filter((ticket) => counts.get(ticket) !== 1) }).toEqual({
            kind,
            notOnce: [],
          });
        }
        expect(await database.query('SELECT ticket FROM outbox_entry')).toEqual([]);

        // Who published: each e-Box message was created by exactly one publication (HTTP 201), of one
        // process; at least two nodes created some.
        const publications = publicationsOf(nodes);
        const created = publications.filter((publication) => publication.status === 201);
        const createdPerTicket = countBy(created, (publication) => publication.ticket);
        expect(tickets.filter((ticket) => createdPerTicket.get(ticket) !== 1)).toEqual([]);
        const createdPerNode = countBy(created, (publication) => publication.node);
        log.push(
          `e-Box messages created per process: ${[...countBy(created, (p) => p.incarnation)]
            .map(([label, count]) => `${label} ${count}`)
            .join(', ')}`,
        );
        expect([...createdPerNode.values()].filter((count) => count > 0).length).toBeGreaterThanOrEqual(2);
        log.push(`${publications.length - created.length} publications answered otherwise (409 or none)`);
        // Each item was published by one process, except the claims of the dead one, taken over: no live
        // process publishes an item whose claim another took (nor one it waited to start past its lease).
        const orphanTickets = new Set(orphans.map((orphan) => orphan.ticket));
        const publishedTwice = [...countBy(publications, (publication) => publication.ticket)]
          .filter(([ticket, count]) => count > 1 && !orphanTickets.has(ticket))
          .map(([ticket]) =>
            publications
              .filter((publication) => publication.ticket === ticket)
              .map((publication) => `${ticket} ${publication.incarnation} ${publication.status ?? '-'}`)
              .join(', '),
          );
        expect(publishedTwice).toEqual([]);

        // The dead process's claims: no other process published one of them before its lease expired;
        // each was taken over after that (by another node, or by the victim's next process), or had
        // been published by the dead process itself with its record landing as it died. Once either way.
        const takenOver: string[] = [];
        const early: string[] = [];
        for (const orphan of orphans) {
          const others = publications.filter(
            (publication) =>
              publication.ticket === orphan.ticket && publication.incarnation !== victimProcess.label,
          );
          for (const publication of others.filter((p) => p.arrivedAt < orphan.leaseExpiresAt)) {
            early.push(
              `${orphan.ticket} by ${publication.incarnation} ${orphan.leaseExpiresAt - publication.arrivedAt} ms early`,
            );
          }
          if (others.length > 0)
            takenOver.push(`${orphan.ticket} by ${others.map((p) => p.incarnation).join('+')}`);
          else {
            const ownCreation = created.find(
              (publication) =>
                publication.ticket === orphan.ticket && publication.incarnation === victimProcess.label,
            );
            expect({ orphan: orphan.ticket, publishedBy: ownCreation?.incarnation }).toEqual({
              orphan: orphan.ticket,
              publishedBy: victimProcess.label,
            });
          }
        }
        expect(early).toEqual([]);
        expect(takenOver.length).toBeGreaterThan(0);
        log.push(`${victimProcess.label}'s claims taken over: ${takenOver.join(', ')}`);

        // The replay cache is shared: a signed request accepted by one node is refused by another.
        const [first, second] = nodes.filter((node) => node !== victim).map((node) => current(node).service);
        const signed = signNow(getStatusEnvelope(tickets[0]), sender);
        const contentType = 'text/xml; charset=utf-8';
        expect((await postSoap(first.url, signed, contentType)).status).toBe(200);
        expectFault(await postSoap(second.url, signed, contentType), {
          code: 'SOA-01001',
          kind: 'SystemError',
          message: 'Service call not authenticated.',
        });
        // Signed anew (another Timestamp and signature), the same request is answered: the refusal was the replay.
        expect((await getStatus(second.url, sender, tickets[0])).status).toBe('SENT');

        // Every node stops cleanly.
        const exits = await Promise.all(nodes.map((node) => current(node).service.process.stop('SIGTERM')));
        expect(exits).toEqual(nodes.map(() => ({ code: 0, signal: null })));
        log.push(`checked at ${elapsed()}`);
        console.log(`several nodes test: ${log.join('; ')}`);
      },
      180_000,
    );
  },
);
