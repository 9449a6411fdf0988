import { createHash, randomBytes } from 'node:crypto';
import type { EntitySubscriberInterface } from 'typeorm';
import type { ProofKind, Recipient, StoredProof } from '../../src/domain/model';
import { createDataSource, databaseOptionsIn } from '../../src/storage/data-source';
import {
  ContentChunkEntity,
  ItemProofEntity,
  ItemPublicationEntity,
  ItemStatusHistoryEntity,
  OutboxEntryEntity,
  RegisteredMailItemEntity,
} from '../../src/storage/entities';
import { InitialSchema1795800000000 } from '../../src/storage/migrations/1795800000000-initial-schema';
import { ReplayCache1795900000000 } from '../../src/storage/migrations/1795900000000-replay-cache';
import { TypeormOutboxStore } from '../../src/storage/typeorm-outbox-store';
import { testOnSqlite } from '../support/test-database';
import {
  CITIZEN,
  commandFor,
  digestOf,
  ENTERPRISE,
  listStoredContents,
  makeTempDir,
  makeEnvironment,
  SENDER,
  stageBytes,
  type Environment,
  type Node,
} from '../domain/storage-fixture';
import { queryRows } from '../support/portable-sql';
import {
  onPostgres,
  openTestDatabase,
  removeTestDataDir,
  testDatabaseOptions,
} from '../support/test-database';

const MINUTE = 60_000;

/** Accepts an item through the real SendDocumentService; one minute later on the clock than the last. */
async function accept(
  env: Environment,
  token: string,
  options: { recipient?: Recipient; annexes?: Buffer[] } = {},
): Promise<string> {
  env.clock.advance(MINUTE);
  const documentBytes = Buffer.from(`document of ${token}`);
  const annexBytes = options.annexes ?? [];
  const session = env.staging.openSession();
  try {
    const document = await stageBytes(session, documentBytes);
    const annexes = [];
    for (const bytes of annexBytes) annexes.push(await stageBytes(session, bytes));
    const receipt = await env.node.service.send({
      sender: SENDER,
      command: commandFor({ token, recipient: options.recipient, documentBytes, annexBytes }),
      document,
      annexes,
      requestId: `request-${token}`,
    });
    return receipt.ticket;
  } finally {
    await session.discard();
  }
}

/** Arbitrary proof bytes with their real SHA-256 (the store checks it). */
function proofOf(kind: ProofKind, issuedAt: Date): StoredProof {
  const content = Buffer.concat([Buffer.from(`<Evidence kind="${kind}">`), randomBytes(64)]);
  return {
    kind,
    evidenceId: `evidence-${randomBytes(8).toString('hex')}`,
    content,
    contentSha256: createHash('sha256').update(content).digest(),
    signature: randomBytes(300),
    issuedAt,
  };
}

function outboxOf(env: Environment, node: Node): TypeormOutboxStore {
  return new TypeormOutboxStore(node.dataSource, node.contents);
}

async function historyOf(node: Node, ticket: string) {
  const rows = await node.dataSource.manager.find(ItemStatusHistoryEntity, {
    where: { ticket },
    order: { id: 'ASC' },
  });
  return rows.map((row) => ({
    status: row.status,
    event: row.event,
    occurredAt: row.occurredAt.toISOString(),
    detail: row.detail,
  }));
}

/** Everything delivery may write, to show that a refused write wrote nothing. */
async function deliveryState(env: Environment) {
  const manager = env.node.dataSource.manager;
  return {
    items: (await manager.find(RegisteredMailItemEntity, { order: { ticket: 'ASC' } })).map((item) => [
      item.ticket,
      item.status,
      item.updatedAt.toISOString(),
    ]),
    history: await manager.count(ItemStatusHistoryEntity),
    outbox: await manager.find(OutboxEntryEntity, { order: { ticket: 'ASC' } }),
    publications: await manager.find(ItemPublicationEntity, { order: { ticket: 'ASC' } }),
    proofs: await manager.find(ItemProofEntity, { order: { ticket: 'ASC', kind: 'ASC' } }),
    contents: await listStoredContents(env.node.dataSource, env.dataDir),
  };
}

describe('TypeormOutboxStore on a real database', () => {
  let env: Environment;
  let outbox: TypeormOutboxStore;

  beforeEach(async () => {
    env = await makeEnvironment();
    outbox = outboxOf(env, env.node);
  });

  afterEach(async () => {
    await env.close();
  });

  const later = (minutes: number): Date => new Date(env.clock.now().getTime() + minutes * MINUTE);

  it('accepting an item puts it into the outbox, due at its acceptance time', async () => {
    const ticket = await accept(env, 'first');
    const acceptedAt = env.clock.now();
    const entries = await env.node.dataSource.manager.find(OutboxEntryEntity);
    expect(entries).toEqual([
      {
        ticket,
        acceptedAt,
        nextAttemptAt: acceptedAt,
        attempts: 0,
        leaseOwner: null,
        leaseExpiresAt: null,
        lastError: null,
      },
    ]);
    await expect(outbox.depth()).resolves.toEqual({ count: 1, oldestAcceptedAt: acceptedAt });
  });

  it('claims in acceptance order, up to the limit, with the item facts as the domain types', async () => {
    const annexes = [Buffer.from('annex one'), Buffer.from('annex two')];
    const first = await accept(env, 'first', { annexes });
    const firstAcceptedAt = env.clock.now();
    const second = await accept(env, 'second', { recipient: ENTERPRISE });
    const third = await accept(env, 'third');

    const now = env.clock.now();
    const claimed = await outbox.claimDue('worker-1', now, later(5), 2);
    expect(claimed.map((item) => item.ticket)).toEqual([first, second]);
    const receipt = await env.node.store.loadReceipt(first);
    expect(claimed[0]).toEqual({
      ticket: first,
      token: 'first',
      sender: SENDER,
      recipient: CITIZEN,
      document: {
        title: 'Attestation',
        digest: digestOf('SHA-256', Buffer.from('document of first')),
        downloadFileName: 'attestation.pdf',
        mime: 'application/pdf',
        type: 'EDER501',
        language: 'fr',
        blobSha256: createHash('sha256').update('document of first').digest('hex'),
        size: 'document of first'.length,
      },
      annexes: annexes.map((bytes, index) => ({
        title: `Annex ${index + 1}`,
        digest: digestOf('SHA-256', bytes),
        downloadFileName: `annex-${index + 1}.txt`,
        mime: 'text/plain',
        blobSha256: createHash('sha256').update(bytes).digest('hex'),
        size: bytes.length,
      })),
      acceptedAt: receipt.issuedAt,
      attempts: 0,
      owner: 'worker-1',
      leaseExpiresAt: later(5),
    });
    expect(receipt.issuedAt).toEqual(firstAcceptedAt);
    expect(claimed[1].recipient).toEqual(ENTERPRISE);
    // The content addresses lead to the stored bytes.
    expect(await env.contents.read(claimed[0].annexes[1].blobSha256)).toEqual(annexes[1]);

    const rest = await outbox.claimDue('worker-2', now, later(5), 10);
    expect(rest.map((item) => item.ticket)).toEqual([third]);
    await expect(outbox.claimDue('worker-3', now, later(5), 10)).resolves.toEqual([]);
  });

  it('an entry is not claimable before its acceptance time', async () => {
    await accept(env, 'first');
    const before = new Date(env.clock.now().getTime() - 1);
    await expect(outbox.claimDue('worker-1', before, later(5), 10)).resolves.toEqual([]);
  });

  it('two DataSources on one database claiming concurrently never claim the same entry, and claim all', async () => {
    const tickets: string[] = [];
    for (let index = 0; index < 12; index += 1) tickets.push(await accept(env, `item-${index}`));
    const other = await env.addNode();
    const stores = [outbox, outboxOf(env, other)];

    // Count the claims, to show that the two really competed for the same entries: on SQLite one
    // compare-and-set UPDATE per entry a worker tries to claim; on PostgreSQL one locking SELECT per batch.
    let claimUpdates = 0;
    let lockingSelects = 0;
    const recorder: EntitySubscriberInterface = {
      beforeQuery: (event) => {
        if (/^UPDATE "outbox_entry"/.test(event.query)) claimUpdates += 1;
        if (/FOR UPDATE SKIP LOCKED/.test(event.query)) lockingSelects += 1;
      },
    };
    env.node.dataSource.subscribers.push(recorder);
    other.dataSource.subscribers.push(recorder);

    const now = env.clock.now();
    const rounds = await Promise.all(
      [0, 1, 2, 3].map(async (round) => {
        const store = stores[round % 2];
        const owner = `worker-${round}`;
        const claimed: string[] = [];
        for (;;) {
          const batch = await store.claimDue(owner, now, later(5), 3);
          if (batch.length === 0) return claimed;
          for (const item of batch) expect(item.owner).toBe(owner);
          claimed.push(...batch.map((item) => item.ticket));
        }
      }),
    );
    const all = rounds.flat();
    expect(all).toHaveLength(tickets.length);
    expect(new Set(all)).toEqual(new Set(tickets));
    if (onPostgres()) {
      // Every batch of 3 claimed, and each round's last, empty, batch.
      expect(lockingSelects).toBeGreaterThanOrEqual(tickets.length / 3 + 4);
    } else {
      expect(claimUpdates).toBeGreaterThan(tickets.length);
    }

    const entries = await env.node.dataSource.manager.find(OutboxEntryEntity);
    for (const entry of entries) {
      const holder = rounds.findIndex((claimed) => claimed.includes(entry.ticket));
      expect(entry.leaseOwner).toBe(`worker-${holder}`);
    }
  });

  it('a live lease is not claimable, an expired one is taken over; the old owner then writes nothing', async () => {
    const ticket = await accept(env, 'leased');
    const start = env.clock.now();
    const leaseEnd = later(1);
    expect(await outbox.claimDue('old-owner', start, leaseEnd, 10)).toHaveLength(1);

    await expect(
      outbox.claimDue('new-owner', new Date(leaseEnd.getTime() - 1), later(5), 10),
    ).resolves.toEqual([]);
    expect(await outbox.renewLease(ticket, 'old-owner', later(1))).toBe(true);
    env.clock.set(leaseEnd);
    const taken = await outbox.claimDue('new-owner', leaseEnd, later(5), 10);
    expect(taken.map((item) => [item.ticket, item.owner])).toEqual([[ticket, 'new-owner']]);

    const before = await deliveryState(env);
    const recordedAt = later(1);
    await expect(
      outbox.recordPublished({
        ticket,
        owner: 'old-owner',
        eboxMessageId: 'message-old',
        publishedAt: recordedAt,
        noDigitalUser: false,
        proof: proofOf('DISPATCH', recordedAt),
        recordedAt,
      }),
    ).resolves.toBe(false);
    await expect(
      outbox.recordDeferred({
        ticket,
        owner: 'old-owner',
        nextAttemptAt: later(10),
        reason: 'x',
        recordedAt,
      }),
    ).resolves.toBe(false);
    await expect(outbox.recordFailed({ ticket, owner: 'old-owner', reason: 'x', recordedAt })).resolves.toBe(
      false,
    );
    await expect(outbox.renewLease(ticket, 'old-owner', later(10))).resolves.toBe(false);
    await outbox.releaseClaim(ticket, 'old-owner');
    // Nothing changed: not the item, not its history, not the entry (still the new owner's), no proof blob.
    expect(await deliveryState(env)).toEqual(before);
    expect(before.outbox[0]).toMatchObject({ leaseOwner: 'new-owner', attempts: 0 });

    await expect(outbox.renewLease(ticket, 'new-owner', later(10))).resolves.toBe(true);
  });

  it('recordPublished: SENT with history rows, the proof byte for byte, the entry gone', async () => {
    const ticket = await accept(env, 'published');
    const [claimed] = await outbox.claimDue('worker', env.clock.now(), later(5), 1);
    env.clock.advance(1000);
    const publishedAt = env.clock.now();
    env.clock.advance(500);
    const recordedAt = env.clock.now();
    const proof = proofOf('DISPATCH', recordedAt);

    await expect(
      outbox.recordPublished({
        ticket,
        owner: claimed.owner,
        eboxMessageId: 'msg-123',
        publishedAt,
        noDigitalUser: false,
        proof,
        recordedAt,
      }),
    ).resolves.toBe(true);

    const item = await env.node.dataSource.manager.findOneByOrFail(RegisteredMailItemEntity, { ticket });
    expect([item.status, item.updatedAt]).toEqual(['SENT', recordedAt]);
    expect((await historyOf(env.node, ticket)).slice(1)).toEqual([
      {
        status: 'SENT',
        event: 'PUBLISHED',
        occurredAt: recordedAt.toISOString(),
        detail: 'e-Box message msg-123',
      },
    ]);
    expect(await env.node.dataSource.manager.findOneByOrFail(ItemPublicationEntity, { ticket })).toEqual({
      ticket,
      eboxMessageId: 'msg-123',
      publishedAt,
      noDigitalUser: false,
      consultedAt: null,
      consultationCheckedAt: null,
    });
    await expect(outbox.depth()).resolves.toEqual({ count: 0, oldestAcceptedAt: undefined });

    await expect(env.node.store.loadProof(ticket, 'DISPATCH')).resolves.toEqual(proof);
    await expect(env.node.store.loadProof(ticket, 'CONSULTATION')).resolves.toBeUndefined();
    await expect(env.node.store.findStatus(SENDER, ticket)).resolves.toEqual({
      ticket,
      token: 'published',
      status: 'SENT',
      proofOfDispatch: proof,
    });
    // The proof's bytes are stored under their SHA-256, in the database (written with the SENT status).
    expect(await env.contents.read(proof.contentSha256)).toEqual(proof.content);
    await expect(
      env.node.dataSource.manager.exists(ContentChunkEntity, {
        where: { sha256: proof.contentSha256.toString('hex') },
      }),
    ).resolves.toBe(true);

    // A second publication of the ticket cannot be recorded: the entry is gone.
    const again = {
      ticket,
      owner: claimed.owner,
      eboxMessageId: 'msg-456',
      publishedAt,
      noDigitalUser: false,
    };
    const state = await deliveryState(env);
    await expect(
      outbox.recordPublished({ ...again, proof: proofOf('DISPATCH', recordedAt), recordedAt }),
    ).resolves.toBe(false);
    expect(await deliveryState(env)).toEqual(state);

    // Even with an entry put back by hand, the proof's key refuses a second ProofOfDispatch: all rolled back.
    await env.node.dataSource.manager.insert(OutboxEntryEntity, {
      ticket,
      acceptedAt: recordedAt,
      nextAttemptAt: recordedAt,
      attempts: 0,
      leaseOwner: claimed.owner,
      leaseExpiresAt: later(5),
      lastError: null,
    });
    const withEntry = await deliveryState(env);
    const secondProof = proofOf('DISPATCH', recordedAt);
    await expect(outbox.recordPublished({ ...again, proof: secondProof, recordedAt })).rejects.toMatchObject({
      code: 'REPO_T01',
    });
    const after = await deliveryState(env);
    // Nothing of the refused proof remains: its content was rolled back with its transaction.
    expect(after).toEqual(withEntry);
    await expect(env.node.store.loadProof(ticket, 'DISPATCH')).resolves.toEqual(proof);
  });

  it('delivery records made together share one commit; one whose lease is gone writes nothing, the others are kept', async () => {
    const tickets = [
      await accept(env, 'together-1'),
      await accept(env, 'together-2'),
      await accept(env, 'together-3'),
    ];
    const claimed = await outbox.claimDue('worker', env.clock.now(), later(5), 3);
    expect(claimed.map((item) => item.ticket).sort()).toEqual([...tickets].sort());
    env.clock.advance(1000);
    const recordedAt = env.clock.now();
    let commits = 0;
    env.node.dataSource.subscribers.push({
      afterTransactionCommit: () => {
        commits += 1;
      },
    });

    const [published, failed, stale] = await Promise.all([
      outbox.recordPublished({
        ticket: claimed[0].ticket,
        owner: 'worker',
        eboxMessageId: 'msg-together',
        publishedAt: recordedAt,
        noDigitalUser: false,
        proof: proofOf('DISPATCH', recordedAt),
        recordedAt,
      }),
      outbox.recordFailed({ ticket: claimed[1].ticket, owner: 'worker', reason: 'refused', recordedAt }),
      outbox.recordFailed({ ticket: claimed[2].ticket, owner: 'another-worker', reason: 'x', recordedAt }),
    ]);

    expect([published, failed, stale]).toEqual([true, true, false]);
    expect(commits).toBe(1);
    const state = await deliveryState(env);
    const statusOf = (ticket: string) => state.items.find(([itemTicket]) => itemTicket === ticket)?.[1];
    expect([claimed[0], claimed[1], claimed[2]].map((item) => statusOf(item.ticket))).toEqual([
      'SENT',
      'ERROR',
      'PENDING',
    ]);
    expect(state.outbox.map((entry) => entry.ticket)).toEqual([claimed[2].ticket]);
  });

  it('recordPublished with NO_DIGITAL_USER writes that history row after PUBLISHED', async () => {
    const ticket = await accept(env, 'no-ebox');
    const [claimed] = await outbox.claimDue('worker', env.clock.now(), later(5), 1);
    const recordedAt = env.clock.now();
    await outbox.recordPublished({
      ticket,
      owner: claimed.owner,
      eboxMessageId: 'msg-ndu',
      publishedAt: recordedAt,
      noDigitalUser: true,
      proof: proofOf('DISPATCH', recordedAt),
      recordedAt,
    });
    const history = await historyOf(env.node, ticket);
    expect(history.map((row) => [row.status, row.event])).toEqual([
      ['PENDING', 'ACCEPTED'],
      ['SENT', 'PUBLISHED'],
      ['SENT', 'NO_DIGITAL_USER'],
    ]);
    expect(history[2].detail).toMatch(/no e-Box.*published all the same/);
    const publication = await env.node.dataSource.manager.findOneByOrFail(ItemPublicationEntity, { ticket });
    expect(publication.noDigitalUser).toBe(true);
  });

  it('recordDeferred counts the attempt and hides the entry until its next attempt time', async () => {
    const ticket = await accept(env, 'deferred');
    const [claimed] = await outbox.claimDue('worker', env.clock.now(), later(5), 1);
    const nextAttemptAt = later(2);
    await expect(
      outbox.recordDeferred({
        ticket,
        owner: claimed.owner,
        nextAttemptAt,
        reason: 'e-Box answered 503',
        recordedAt: env.clock.now(),
      }),
    ).resolves.toBe(true);
    expect(await env.node.dataSource.manager.findOneByOrFail(OutboxEntryEntity, { ticket })).toMatchObject({
      attempts: 1,
      nextAttemptAt,
      leaseOwner: null,
      leaseExpiresAt: null,
      lastError: 'e-Box answered 503',
    });
    const item = await env.node.dataSource.manager.findOneByOrFail(RegisteredMailItemEntity, { ticket });
    expect(item.status).toBe('PENDING');

    await expect(
      outbox.claimDue('worker', new Date(nextAttemptAt.getTime() - 1), later(5), 10),
    ).resolves.toEqual([]);
    const [again] = await outbox.claimDue('worker-2', nextAttemptAt, later(10), 10);
    expect([again.ticket, again.attempts]).toEqual([ticket, 1]);

    await outbox.recordDeferred({
      ticket,
      owner: 'worker-2',
      nextAttemptAt: later(20),
      reason: 'timeout',
      recordedAt: nextAttemptAt,
    });
    const [third] = await outbox.claimDue('worker-3', later(20), later(25), 10);
    expect(third.attempts).toBe(2);
  });

  it('releaseClaim makes the entry claimable again at once, without counting an attempt', async () => {
    const ticket = await accept(env, 'released');
    const now = env.clock.now();
    await outbox.claimDue('worker', now, later(5), 1);
    await outbox.releaseClaim(ticket, 'worker');
    const [again] = await outbox.claimDue('worker-2', now, later(5), 1);
    expect([again.ticket, again.attempts]).toEqual([ticket, 0]);
  });

  it('recordFailed makes the item ERROR with the reason, and the entry leaves the outbox', async () => {
    const ticket = await accept(env, 'failed');
    const [claimed] = await outbox.claimDue('worker', env.clock.now(), later(5), 1);
    env.clock.advance(1000);
    const recordedAt = env.clock.now();
    await expect(
      outbox.recordFailed({
        ticket,
        owner: claimed.owner,
        reason: 'e-Box refused: unknown recipient',
        recordedAt,
      }),
    ).resolves.toBe(true);
    expect((await historyOf(env.node, ticket)).slice(1)).toEqual([
      {
        status: 'ERROR',
        event: 'PUBLICATION_FAILED',
        occurredAt: recordedAt.toISOString(),
        detail: 'e-Box refused: unknown recipient',
      },
    ]);
    await expect(env.node.store.findStatus(SENDER, ticket)).resolves.toEqual({
      ticket,
      token: 'failed',
      status: 'ERROR',
    });
    await expect(outbox.depth()).resolves.toEqual({ count: 0, oldestAcceptedAt: undefined });
    await expect(
      outbox.recordFailed({ ticket, owner: claimed.owner, reason: 'again', recordedAt }),
    ).resolves.toBe(false);
  });

  async function publishAll(tokens: string[]): Promise<string[]> {
    const tickets: string[] = [];
    for (const token of tokens) tickets.push(await accept(env, token));
    const claimed = await outbox.claimDue('worker', env.clock.now(), later(5), tokens.length);
    for (const item of claimed) {
      env.clock.advance(1000);
      const at = env.clock.now();
      await outbox.recordPublished({
        ticket: item.ticket,
        owner: 'worker',
        eboxMessageId: `msg-${item.token}`,
        publishedAt: at,
        noDigitalUser: false,
        proof: proofOf('DISPATCH', at),
        recordedAt: at,
      });
    }
    return tickets;
  }

  it('listAwaitingConsultation: never checked first, then checked longest ago (round robin)', async () => {
    const [a, b, c] = await publishAll(['a', 'b', 'c']);
    const pending = await accept(env, 'still-pending');

    env.clock.advance(MINUTE);
    const firstCall = await outbox.listAwaitingConsultation(2, env.clock.now());
    expect(firstCall.map((item) => item.ticket)).toEqual([a, b]);
    expect(firstCall[0]).toMatchObject({ ticket: a, token: 'a', eboxMessageId: 'msg-a', recipient: CITIZEN });
    const publication = await env.node.dataSource.manager.findOneByOrFail(ItemPublicationEntity, {
      ticket: a,
    });
    expect(firstCall[0].publishedAt).toEqual(publication.publishedAt);
    expect(publication.consultationCheckedAt).toEqual(env.clock.now());

    env.clock.advance(MINUTE);
    const secondCall = await outbox.listAwaitingConsultation(2, env.clock.now());
    expect(secondCall.map((item) => item.ticket)).toEqual([c, a]);

    env.clock.advance(MINUTE);
    const thirdCall = await outbox.listAwaitingConsultation(10, env.clock.now());
    // b was checked longest ago; c and a at the same time: then the earlier publication first.
    expect(thirdCall.map((item) => item.ticket)).toEqual([b, a, c]);
    expect(thirdCall.map((item) => item.ticket)).not.toContain(pending);

    // A consulted item is no longer listed.
    await outbox.recordConsulted({
      ticket: b,
      readAt: env.clock.now(),
      proof: proofOf('CONSULTATION', env.clock.now()),
    });
    env.clock.advance(MINUTE);
    expect((await outbox.listAwaitingConsultation(10, env.clock.now())).map((item) => item.ticket)).toEqual([
      a,
      c,
    ]);
    await expect(outbox.listAwaitingConsultation(0, env.clock.now())).resolves.toEqual([]);
  });

  testOnSqlite("query plans are SQLite's EXPLAIN QUERY PLAN")(
    'listAwaitingConsultation reads the awaiting index in order: no sort of every unconsulted publication',
    async () => {
      await publishAll(['x', 'y']);
      await outbox.listAwaitingConsultation(10, env.clock.now());
      const selects: { query: string; parameters: unknown[] }[] = [];
      const recorder: EntitySubscriberInterface = {
        beforeQuery: (event) => {
          if (/^SELECT .* FROM "item_publication"/.test(event.query)) {
            selects.push({
              query: event.query,
              parameters: (event.parameters as unknown[] | undefined) ?? [],
            });
          }
        },
      };
      env.node.dataSource.subscribers.push(recorder);
      env.clock.advance(MINUTE);
      await outbox.listAwaitingConsultation(10, env.clock.now());
      env.node.dataSource.subscribers.splice(env.node.dataSource.subscribers.indexOf(recorder), 1);

      expect(selects).toHaveLength(2);
      const plans = await Promise.all(
        selects.map(async ({ query, parameters }) =>
          (
            (await env.node.dataSource.query(`EXPLAIN QUERY PLAN ${query}`, parameters)) as {
              detail: string;
            }[]
          )
            .map((step) => step.detail)
            .join('\n'),
        ),
      );
      for (const plan of plans) expect(plan).toMatch(/IDX_item_publication_awaiting/);
      // The checked ones come in index order: at most ties are sorted, never the whole set.
      expect(plans[1]).not.toMatch(/USE TEMP B-TREE FOR ORDER BY/);
    },
  );

  it('recordConsulted records once: the CONSULTED row at the read time and the proof', async () => {
    const [ticket] = await publishAll(['read']);
    const readAt = new Date(env.clock.now().getTime() + 30_000);
    env.clock.advance(MINUTE);
    const proof = proofOf('CONSULTATION', env.clock.now());
    await expect(outbox.recordConsulted({ ticket, readAt, proof })).resolves.toBe(true);

    const history = await historyOf(env.node, ticket);
    expect(history[history.length - 1]).toEqual({
      status: 'SENT',
      event: 'CONSULTED',
      occurredAt: readAt.toISOString(),
      detail: null,
    });
    const publication = await env.node.dataSource.manager.findOneByOrFail(ItemPublicationEntity, { ticket });
    expect(publication.consultedAt).toEqual(readAt);
    await expect(env.node.store.loadProof(ticket, 'CONSULTATION')).resolves.toEqual(proof);

    const state = await deliveryState(env);
    await expect(
      outbox.recordConsulted({
        ticket,
        readAt: env.clock.now(),
        proof: proofOf('CONSULTATION', env.clock.now()),
      }),
    ).resolves.toBe(false);
    expect(await deliveryState(env)).toEqual(state);
    await expect(env.node.store.loadProof(ticket, 'CONSULTATION')).resolves.toEqual(proof);
    const item = await env.node.dataSource.manager.findOneByOrFail(RegisteredMailItemEntity, { ticket });
    expect(item.status).toBe('SENT');
  });

  it('recordConsulted of an item never published records nothing', async () => {
    const ticket = await accept(env, 'unpublished');
    const state = await deliveryState(env);
    await expect(
      outbox.recordConsulted({
        ticket,
        readAt: env.clock.now(),
        proof: proofOf('CONSULTATION', env.clock.now()),
      }),
    ).resolves.toBe(false);
    expect(await deliveryState(env)).toEqual(state);
  });

  it('depth counts the waiting entries and names the oldest acceptance', async () => {
    await expect(outbox.depth()).resolves.toEqual({ count: 0, oldestAcceptedAt: undefined });
    await accept(env, 'one');
    const oldest = env.clock.now();
    const second = await accept(env, 'two');
    await accept(env, 'three');
    await expect(outbox.depth()).resolves.toEqual({ count: 3, oldestAcceptedAt: oldest });
    // Claimed entries still wait; deferred ones too.
    await outbox.claimDue('worker', env.clock.now(), later(5), 10);
    await outbox.recordFailed({ ticket: second, owner: 'worker', reason: 'x', recordedAt: env.clock.now() });
    await expect(outbox.depth()).resolves.toEqual({ count: 2, oldestAcceptedAt: oldest });
  });
});

describe('the delivery migration', () => {
  it('puts the items PENDING before the upgrade into the outbox, and only those', async () => {
    const dataDir = makeTempDir('rm-migration-');
    try {
      // The database as the previous release left it: the first two migrations only.
      const previous = createDataSource(databaseOptionsIn(dataDir, await testDatabaseOptions(dataDir)));
      previous.setOptions({
        entities: [],
        migrations: [InitialSchema1795800000000, ReplayCache1795900000000],
      });
      await previous.initialize();
      const insert = (ticket: string, status: string, acceptedAt: string) =>
        queryRows(
          previous,
          'INSERT INTO registered_mail_item (ticket, token, idempotency_token, sender_cbe, ' +
            'sender_application_id, recipient_kind, recipient_id, recipient_quality_code, check_ebox_status, ' +
            'meta, status, request_fingerprint, accepted_at, updated_at) ' +
            "VALUES (:ticket, '', NULL, '0861023666', 'app', 'citizen', '85073003328', 'CITIZEN', 'ACTIVATED', " +
            "'[]', :status, :fingerprint, :acceptedAt, :acceptedAt)",
          { ticket, status, fingerprint: '0'.repeat(64), acceptedAt },
        );
      await insert('PENDING000002', 'PENDING', '2025-02-01T08:00:00.000Z');
      await insert('PENDING000001', 'PENDING', '2025-01-01T08:00:00.000Z');
      await insert('ERROR00000001', 'ERROR', '2024-12-01T08:00:00.000Z');
      await previous.destroy();

      const upgraded = await openTestDatabase(dataDir);
      try {
        const entries = await upgraded.manager.find(OutboxEntryEntity, { order: { acceptedAt: 'ASC' } });
        expect(entries).toEqual(
          [
            ['PENDING000001', '2025-01-01T08:00:00.000Z'],
            ['PENDING000002', '2025-02-01T08:00:00.000Z'],
          ].map(([ticket, at]) => ({
            ticket,
            acceptedAt: new Date(at),
            nextAttemptAt: new Date(at),
            attempts: 0,
            leaseOwner: null,
            leaseExpiresAt: null,
            lastError: null,
          })),
        );
        const rows = (await upgraded.query('SELECT name FROM schema_migrations ORDER BY id')) as {
          name: string;
        }[];
        expect(rows.map((row) => row.name)).toEqual([
          'InitialSchema1795800000000',
          'ReplayCache1795900000000',
          'Delivery1796000000000',
          'ContentChunks1796100000000',
        ]);
      } finally {
        await upgraded.destroy();
      }
    } finally {
      await removeTestDataDir(dataDir);
    }
  });
});
