import { createHash } from 'node:crypto';
import path from 'node:path';
import type { Recipient, Sender, SendDocumentCommand, IssuedReceipt } from '../../src/domain/model';
import { assertDigestMethodsAccepted, assertRecipientValid } from '../../src/domain/send-document';
import { TICKET_PATTERN } from '../../src/domain/ticket-generator';
import { SigningUnavailableError } from '../../src/errors/faults';
import { ServiceError } from '../../src/errors/service-error';
import { createDataSource, SQLITE_FILE_NAME } from '../../src/storage/data-source';
import {
  ItemFileEntity,
  ItemReceiptEntity,
  ItemStatusHistoryEntity,
  RegisteredMailItemEntity,
} from '../../src/storage/entities';
import {
  CITIZEN,
  commandFor,
  countRows,
  ENTERPRISE,
  listStoredContents,
  makeEnvironment,
  SENDER,
  stageBytes,
  type Environment,
  type Node,
} from './storage-fixture';
import { testOnSqlite } from '../support/test-database';

const DOCUMENT = Buffer.from('%PDF-1.7 the registered document, long enough to arrive in several chunks\n');
const ANNEX_A = Buffer.from('first annex: plain text that is also split in chunks');
const ANNEX_B = Buffer.from('second annex');

interface SendOptions {
  token: string;
  recipient?: Recipient;
  sender?: Sender;
  documentBytes?: Buffer;
  annexBytes?: Buffer[];
  command?: SendDocumentCommand;
  requestId?: string;
}

/** What the SOAP port does: stage, send, and discard the session whatever happens. */
async function send(env: Environment, node: Node, options: SendOptions): Promise<IssuedReceipt> {
  const documentBytes = options.documentBytes ?? DOCUMENT;
  const annexBytes = options.annexBytes ?? [ANNEX_A, ANNEX_B];
  const command =
    options.command ??
    commandFor({ token: options.token, recipient: options.recipient, documentBytes, annexBytes });
  const needsSha512 = (method: string) => method === 'SHA-512';
  const session = env.staging.openSession();
  try {
    const document = await stageBytes(session, documentBytes, needsSha512(command.document.digest.method));
    const annexes = [];
    for (const [index, bytes] of annexBytes.entries()) {
      annexes.push(
        await stageBytes(session, bytes, needsSha512(command.annexes[index]?.digest.method ?? '')),
      );
    }
    return await node.service.send({
      sender: options.sender ?? SENDER,
      command,
      document,
      annexes,
      requestId: options.requestId ?? 'request-1',
    });
  } finally {
    await session.discard();
  }
}

async function expectFault(promise: Promise<unknown>, code: string): Promise<ServiceError> {
  const error = await promise.then(
    () => undefined,
    (reason: unknown) => reason,
  );
  expect(error).toBeInstanceOf(ServiceError);
  expect((error as ServiceError).code).toBe(code);
  return error as ServiceError;
}

const NOTHING = { items: 0, files: 0, history: 0, receipts: 0 };

describe('SendDocumentService on a real database', () => {
  let env: Environment;

  beforeEach(async () => {
    env = await makeEnvironment();
  });

  afterEach(async () => {
    await env.close();
  });

  it('stores the item, its files, its history and its receipt, and promotes the blobs', async () => {
    const receipt = await send(env, env.node, { token: 'dossier-42', requestId: 'req-abc' });

    expect(receipt.ticket).toMatch(TICKET_PATTERN);
    expect(receipt.token).toBe('dossier-42');
    expect(env.node.issuer.calls).toBe(1);
    expect(await countRows(env.node.dataSource)).toEqual({ items: 1, files: 3, history: 1, receipts: 1 });

    const manager = env.node.dataSource.manager;
    const item = await manager.findOneByOrFail(RegisteredMailItemEntity, { ticket: receipt.ticket });
    expect(item).toMatchObject({
      token: 'dossier-42',
      idempotencyToken: 'dossier-42',
      senderCbe: SENDER.cbe,
      senderApplicationId: SENDER.applicationId,
      recipientKind: 'citizen',
      recipientId: CITIZEN.kind === 'citizen' ? CITIZEN.inss : '',
      recipientQualityCode: 'CITIZEN',
      checkEboxStatus: 'ACTIVATED',
      status: 'PENDING',
    });
    expect(JSON.parse(item.meta)).toEqual([{ type: 'dossier', values: ['2025-001'] }]);
    expect(item.acceptedAt.toISOString()).toBe('2025-03-01T10:00:00.000Z');
    expect(item.updatedAt.toISOString()).toBe('2025-03-01T10:00:00.000Z');
    expect(item.requestFingerprint).toMatch(/^[0-9a-f]{64}$/);

    const files = await manager.find(ItemFileEntity, {
      where: { ticket: receipt.ticket },
      order: { position: 'ASC' },
    });
    expect(files.map((file) => [file.position, file.role, file.size, file.documentType])).toEqual([
      [0, 'DOCUMENT', DOCUMENT.length, 'EDER501'],
      [1, 'ANNEX', ANNEX_A.length, null],
      [2, 'ANNEX', ANNEX_B.length, null],
    ]);
    for (const [file, bytes] of [
      [files[0], DOCUMENT],
      [files[1], ANNEX_A],
      [files[2], ANNEX_B],
    ] as const) {
      expect(await env.contents.read(file.blobSha256)).toEqual(bytes);
    }
    expect(files[0]).toMatchObject({ digestMethod: 'SHA-256', language: 'fr', mime: 'application/pdf' });

    const history = await manager.findBy(ItemStatusHistoryEntity, { ticket: receipt.ticket });
    expect(history).toHaveLength(1);
    expect(history[0]).toMatchObject({ status: 'PENDING', event: 'ACCEPTED', detail: 'request req-abc' });
    expect(history[0].occurredAt.toISOString()).toBe('2025-03-01T10:00:00.000Z');

    const stored = await manager.findOneByOrFail(ItemReceiptEntity, { ticket: receipt.ticket });
    expect(stored.contentSha256).toBe(receipt.contentSha256.toString('hex'));
    expect(stored.contentSize).toBe(receipt.content.length);
    expect(Buffer.from(stored.signature, 'base64')).toEqual(receipt.signature);
    expect(await env.contents.read(stored.contentSha256)).toEqual(receipt.content);

    // Three attachments and the receipt; the staging session is gone, the blobs stay.
    expect(await listStoredContents(env.node.dataSource, env.dataDir)).toHaveLength(4);
  });

  it('accepts SHA-512 digests and enterprise recipients (9-digit CBE stored as 10 digits)', async () => {
    const command = commandFor({
      token: 't-512',
      recipient: { kind: 'enterprise', cbe: '406798006', qualityCode: 'QUAL_EMP_NOSS' },
      documentBytes: DOCUMENT,
      annexBytes: [ANNEX_A],
      documentMethod: 'SHA-512',
    });
    const receipt = await send(env, env.node, { token: 't-512', command, annexBytes: [ANNEX_A] });
    const item = await env.node.dataSource.manager.findOneByOrFail(RegisteredMailItemEntity, {
      ticket: receipt.ticket,
    });
    expect(item).toMatchObject({ recipientKind: 'enterprise', recipientId: '0406798006' });
  });

  describe('refusals store nothing', () => {
    it('digest mismatch -> FILE_B01, no rows, no blobs', async () => {
      const command = commandFor({ token: 'x', documentBytes: DOCUMENT, annexBytes: [ANNEX_A, ANNEX_B] });
      command.annexes[1].digest.value[0] ^= 0xff;
      await expectFault(send(env, env.node, { token: 'x', command }), 'FILE_B01');
      expect(await countRows(env.node.dataSource)).toEqual(NOTHING);
      expect(await listStoredContents(env.node.dataSource, env.dataDir)).toEqual([]);
      expect(env.node.issuer.calls).toBe(0);
    });

    it('a digest of the wrong length -> FILE_B01', async () => {
      const command = commandFor({ token: 'x', documentBytes: DOCUMENT });
      command.document.digest.value = command.document.digest.value.subarray(0, 20);
      await expectFault(send(env, env.node, { token: 'x', command, annexBytes: [] }), 'FILE_B01');
      expect(await countRows(env.node.dataSource)).toEqual(NOTHING);
    });

    it('SHA-1 anywhere -> FILE_B03, no rows, no blobs', async () => {
      const command = commandFor({
        token: 'x',
        documentBytes: DOCUMENT,
        annexBytes: [ANNEX_A],
        annexMethod: 'SHA-1',
      });
      expect(() => assertDigestMethodsAccepted(command)).toThrow(
        expect.objectContaining({ code: 'FILE_B03' }) as Error,
      );
      await expectFault(send(env, env.node, { token: 'x', command, annexBytes: [ANNEX_A] }), 'FILE_B03');
      expect(await countRows(env.node.dataSource)).toEqual(NOTHING);
      expect(await listStoredContents(env.node.dataSource, env.dataDir)).toEqual([]);
    });

    it.each<[string, Recipient]>([
      ['INSS', { kind: 'citizen', inss: '85073003329', qualityCode: 'CITIZEN' }],
      ['CBE', { kind: 'enterprise', cbe: '0123456789', qualityCode: 'QUAL_SSC' }],
    ])('bad %s check digits -> SOA-03007, no rows, no blobs', async (_name, recipient) => {
      expect(() => assertRecipientValid(recipient)).toThrow(
        expect.objectContaining({ code: 'SOA-03007' }) as Error,
      );
      await expectFault(send(env, env.node, { token: 'x', recipient }), 'SOA-03007');
      expect(await countRows(env.node.dataSource)).toEqual(NOTHING);
      expect(await listStoredContents(env.node.dataSource, env.dataDir)).toEqual([]);
      expect(env.node.issuer.calls).toBe(0);
    });
  });

  describe('Token', () => {
    it('a retry returns the identical receipt and ticket and stores nothing new', async () => {
      const first = await send(env, env.node, { token: 'dossier-7' });
      const before = await countRows(env.node.dataSource);
      const blobsBefore = await listStoredContents(env.node.dataSource, env.dataDir);
      env.clock.advance(60_000);

      const retry = await send(env, env.node, { token: 'dossier-7', requestId: 'request-2' });

      expect(retry.ticket).toBe(first.ticket);
      expect(retry.token).toBe(first.token);
      expect(retry.content.equals(first.content)).toBe(true);
      expect(retry.contentSha256.equals(first.contentSha256)).toBe(true);
      expect(retry.signature.equals(first.signature)).toBe(true);
      expect(retry.issuedAt.getTime()).toBe(first.issuedAt.getTime());
      expect(env.node.issuer.calls).toBe(1);
      expect(await countRows(env.node.dataSource)).toEqual(before);
      expect(await listStoredContents(env.node.dataSource, env.dataDir)).toEqual(blobsBefore);
    });

    it('the same bytes declared with another digest method are still a retry', async () => {
      const first = await send(env, env.node, { token: 'dossier-8', annexBytes: [] });
      const command = commandFor({ token: 'dossier-8', documentBytes: DOCUMENT, documentMethod: 'SHA-512' });
      const retry = await send(env, env.node, { token: 'dossier-8', command, annexBytes: [] });
      expect(retry.ticket).toBe(first.ticket);
    });

    it('same Token with another recipient -> REPO_B03, nothing stored', async () => {
      await send(env, env.node, { token: 'dossier-9' });
      const before = await countRows(env.node.dataSource);
      await expectFault(send(env, env.node, { token: 'dossier-9', recipient: ENTERPRISE }), 'REPO_B03');
      expect(await countRows(env.node.dataSource)).toEqual(before);
    });

    it('same Token with another document or another annex -> REPO_B03, nothing stored', async () => {
      await send(env, env.node, { token: 'dossier-10' });
      const before = await countRows(env.node.dataSource);
      const blobsBefore = await listStoredContents(env.node.dataSource, env.dataDir);
      await expectFault(
        send(env, env.node, { token: 'dossier-10', documentBytes: Buffer.from('another document') }),
        'REPO_B03',
      );
      await expectFault(
        send(env, env.node, { token: 'dossier-10', annexBytes: [ANNEX_A, Buffer.from('other annex')] }),
        'REPO_B03',
      );
      await expectFault(send(env, env.node, { token: 'dossier-10', annexBytes: [ANNEX_A] }), 'REPO_B03');
      expect(await countRows(env.node.dataSource)).toEqual(before);
      expect(await listStoredContents(env.node.dataSource, env.dataDir)).toEqual(blobsBefore);
    });

    it('the same Token of another sender (other CBE or other application) is another item', async () => {
      const first = await send(env, env.node, { token: 'shared' });
      const otherCbe = await send(env, env.node, {
        token: 'shared',
        sender: { cbe: '0206731645', applicationId: SENDER.applicationId },
      });
      const otherApplication = await send(env, env.node, {
        token: 'shared',
        sender: { cbe: SENDER.cbe, applicationId: 'another-app' },
      });
      expect(new Set([first.ticket, otherCbe.ticket, otherApplication.ticket]).size).toBe(3);
      expect((await countRows(env.node.dataSource)).items).toBe(3);
    });

    it('empty Tokens never collide', async () => {
      const first = await send(env, env.node, { token: '' });
      const second = await send(env, env.node, { token: '' });
      expect(second.ticket).not.toBe(first.ticket);
      const items = await env.node.dataSource.manager.find(RegisteredMailItemEntity);
      expect(items.map((item) => [item.token, item.idempotencyToken])).toEqual([
        ['', null],
        ['', null],
      ]);
      // Identical bytes: the blobs are shared, not duplicated (3 attachments + 2 distinct receipts).
      expect(await listStoredContents(env.node.dataSource, env.dataDir)).toHaveLength(5);
    });

    it('concurrent sends with one Token over two DataSources on one database: one item, one ticket', async () => {
      const second = await env.addNode();
      const nodes = [env.node, second];
      // Stage first, so that the sends themselves overlap (as requests of two processes would).
      const command = commandFor({ token: 'race', documentBytes: DOCUMENT, annexBytes: [ANNEX_A] });
      const sessions = Array.from({ length: 6 }, () => env.staging.openSession());
      const staged = await Promise.all(
        sessions.map(async (session) => ({
          document: await stageBytes(session, DOCUMENT),
          annexes: [await stageBytes(session, ANNEX_A)],
        })),
      );
      const receipts = await Promise.all(
        staged.map((content, index) =>
          nodes[index % 2].service.send({ sender: SENDER, command, ...content, requestId: `race-${index}` }),
        ),
      );
      await Promise.all(sessions.map((session) => session.discard()));

      const tickets = new Set(receipts.map((receipt) => receipt.ticket));
      expect(tickets.size).toBe(1);
      for (const receipt of receipts) {
        expect(receipt.content.equals(receipts[0].content)).toBe(true);
        expect(receipt.signature.equals(receipts[0].signature)).toBe(true);
      }
      expect(await countRows(second.dataSource)).toEqual({ items: 1, files: 2, history: 1, receipts: 1 });
      // Several requests got past the lookup and issued receipts: the unique key decided the winner.
      expect(env.node.issuer.calls + second.issuer.calls).toBeGreaterThan(1);
      expect(await listStoredContents(env.node.dataSource, env.dataDir)).toHaveLength(3);
    });
  });

  it('concurrent sends with one Token but other bytes: one wins, the other gets REPO_B03', async () => {
    const second = await env.addNode();
    const otherDocument = Buffer.from('a different document');
    const sessions = [env.staging.openSession(), env.staging.openSession()];
    const winnerFirst = {
      command: commandFor({ token: 'contested', documentBytes: DOCUMENT }),
      document: await stageBytes(sessions[0], DOCUMENT),
    };
    const loserFirst = {
      command: commandFor({ token: 'contested', documentBytes: otherDocument }),
      document: await stageBytes(sessions[1], otherDocument),
    };
    const outcomes = await Promise.allSettled([
      env.node.service.send({ sender: SENDER, annexes: [], requestId: 'a', ...winnerFirst }),
      second.service.send({ sender: SENDER, annexes: [], requestId: 'b', ...loserFirst }),
    ]);
    await Promise.all(sessions.map((session) => session.discard()));

    expect(outcomes.map((outcome) => outcome.status).sort()).toEqual(['fulfilled', 'rejected']);
    const rejected = outcomes.find((outcome) => outcome.status === 'rejected');
    expect((rejected as PromiseRejectedResult).reason).toMatchObject({ code: 'REPO_B03' });
    // Both got past the lookup; the loser's insert failed before it promoted anything.
    expect(env.node.issuer.calls + second.issuer.calls).toBe(2);
    expect(await countRows(env.node.dataSource)).toEqual({ items: 1, files: 1, history: 1, receipts: 1 });
    expect(await listStoredContents(env.node.dataSource, env.dataDir)).toHaveLength(2);
  });

  describe('tickets', () => {
    it('a primary-key collision is retried with a new ticket and a new receipt', async () => {
      const existing = await send(env, env.node, { token: 'first' });
      const candidates = [existing.ticket, 'ABCDEFGH23456'];
      const colliding = await env.addNode({ generateTicket: () => candidates.shift() ?? 'ZZZZZZZZZZZZZ' });

      const receipt = await send(env, colliding, { token: 'second' });

      expect(receipt.ticket).toBe('ABCDEFGH23456');
      expect(colliding.issuer.calls).toBe(2);
      expect(receipt.content.toString()).toContain('<Ticket>ABCDEFGH23456</Ticket>');
      expect(await countRows(env.node.dataSource)).toEqual({ items: 2, files: 6, history: 2, receipts: 2 });
    });

    it('gives up with TNG_T02 when every ticket is taken, storing nothing', async () => {
      const existing = await send(env, env.node, { token: 'first' });
      const before = await countRows(env.node.dataSource);
      const stuck = await env.addNode({ generateTicket: () => existing.ticket, maxTicketAttempts: 3 });
      await expectFault(send(env, stuck, { token: 'second', documentBytes: Buffer.from('new') }), 'TNG_T02');
      expect(stuck.issuer.calls).toBe(3);
      expect(await countRows(env.node.dataSource)).toEqual(before);
      expect(await env.contents.has(Buffer.from(digestHex('new'), 'hex'))).toBe(false);
    });
  });

  it('a receipt that cannot be signed (SEPIA_T02) stores nothing', async () => {
    const failing = await env.addNode({
      receiptIssuer: {
        issue: () => Promise.reject(new SigningUnavailableError({ cause: new Error('TSA down') })),
      },
    });
    await expectFault(send(env, failing, { token: 'unsigned' }), 'SEPIA_T02');
    expect(await countRows(env.node.dataSource)).toEqual(NOTHING);
    expect(await listStoredContents(env.node.dataSource, env.dataDir)).toEqual([]);
  });

  describe('storage failures', () => {
    it('a closed database -> SOA-02002 (retry)', async () => {
      await env.node.dataSource.destroy();
      const error = await expectFault(send(env, env.node, { token: 'closed' }), 'SOA-02002');
      expect(error.retry).toBe(true);
    });

    // PostgreSQL has no busy timeout: a writer waits for the row locks it needs (a lock_timeout, 55P03,
    // would be the operator's setting, and is SOA-02002 too: see storage-errors.ts).
    testOnSqlite('busy timeout')(
      'a write lock held beyond the busy timeout -> SOA-02002, nothing stored',
      async () => {
        const impatient = await makeEnvironment({}, { busyTimeoutMs: 50 });
        // Another "process" holds the write lock: its own connection, outside this process's queue.
        const holder = createDataSource({ sqlitePath: path.join(impatient.dataDir, SQLITE_FILE_NAME) });
        await holder.initialize();
        const lock = holder.createQueryRunner();
        try {
          await lock.query('BEGIN IMMEDIATE');
          await expectFault(send(impatient, impatient.node, { token: 'busy' }), 'SOA-02002');
          await lock.query('ROLLBACK');
          expect(await countRows(impatient.node.dataSource)).toEqual(NOTHING);
          expect(await listStoredContents(impatient.node.dataSource, impatient.dataDir)).toEqual([]);
          // The same request succeeds once the lock is gone.
          await send(impatient, impatient.node, { token: 'busy' });
        } finally {
          await holder.destroy();
          await impatient.close();
        }
      },
    );
  });
});

function digestHex(text: string): string {
  return createHash('sha256').update(text).digest('hex');
}
