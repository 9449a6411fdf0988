import { Readable } from 'node:stream';
import { ManualClock } from '../../src/clock/clock';
import { EboxPublicationClient } from '../../src/delivery/ebox-publication-client';
import { EboxTokenClient } from '../../src/delivery/ebox-token-client';
import { PermanentPublicationError, TransientPublicationError } from '../../src/delivery/publication-errors';
import { type FakeAnswer, type FakeEbox, type ReceivedRequest, startFakeEbox } from './fake-ebox';
import { citizenItem, settingsFor } from './publication-fixtures';

const T0 = '2026-03-01T10:00:00Z';
let fake: FakeEbox | undefined;

afterEach(async () => {
  await fake?.close();
  fake = undefined;
});

async function clientFor(
  handler: (request: ReceivedRequest) => FakeAnswer,
  options: { tokenLifetimeSeconds?: number; timeoutMs?: number } = {},
) {
  fake = await startFakeEbox(handler, { tokenLifetimeSeconds: options.tokenLifetimeSeconds });
  const clock = new ManualClock(T0);
  const settings = settingsFor(fake.url, options.timeoutMs);
  const client = new EboxPublicationClient(settings, new EboxTokenClient(settings, clock), clock);
  return { client, clock, fake };
}

const created: FakeAnswer = { status: 201, body: { messageId: 'msg-1', expirationDate: '2027-03-01' } };

async function failureOf(promise: Promise<unknown>): Promise<unknown> {
  return promise.then(
    () => {
      throw new Error('expected a failure');
    },
    (error: unknown) => error,
  );
}

describe('EboxPublicationClient', () => {
  it('publishes the messageToPublish and the files as multipart/form-data with the ticket as Idempotency-Key', async () => {
    const { client, fake } = await clientFor(() => created);
    const item = citizenItem();

    const result = await client.publish(item);

    expect(result).toEqual({
      messageId: 'msg-1',
      publishedAt: new Date(T0),
      noDigitalUser: false,
      alreadyPublished: false,
    });
    expect(fake.tokenRequests).toEqual([
      {
        authorization: `Basic ${Buffer.from('rm-client:s3cret').toString('base64')}`,
        body: 'grant_type=client_credentials',
      },
    ]);
    const [request] = fake.requests;
    expect(request.method).toBe('POST');
    expect(request.path).toBe('/ebox/messages');
    expect(request.headers['idempotency-key']).toBe('RM-TICKET-0001');
    expect(request.headers.authorization).toBe('Bearer token-1');
    expect(request.headers['content-type']).toMatch(/^multipart\/form-data; boundary=/);
    const parts = request.parts ?? [];
    expect(parts.map((part) => [part.name, part.fileName, part.contentType])).toEqual([
      ['messageToPublish', undefined, 'application/json'],
      ['document', 'avis.pdf', 'application/pdf'],
      ['annex1', 'annexe.txt', 'text/plain'],
    ]);
    const message = JSON.parse(parts[0].content.toString('utf8')) as {
      attachments: { httpPartName: string }[];
    };
    expect(message.attachments.map((attachment) => attachment.httpPartName)).toEqual(['document', 'annex1']);
    expect(parts[1].content.toString()).toBe('%PDF-1.7 document bytes');
    expect(parts[2].content.toString()).toBe('annex bytes');
  });

  it('reports NO_DIGITAL_USER on a 201 as a publication', async () => {
    const { client } = await clientFor(() => ({
      status: 201,
      body: { messageId: 'msg-2', code: 'NO_DIGITAL_USER', message: 'the recipient has no e-Box' },
    }));
    await expect(client.publish(citizenItem())).resolves.toMatchObject({
      messageId: 'msg-2',
      noDigitalUser: true,
      alreadyPublished: false,
    });
  });

  it('keeps the token across publications and fetches a new one when it nears expiry', async () => {
    const { client, clock, fake } = await clientFor(() => created, { tokenLifetimeSeconds: 600 });
    await client.publish(citizenItem());
    clock.advance(500_000);
    await client.publish(citizenItem());
    expect(fake.tokenRequests).toHaveLength(1);
    clock.advance(50_000); // 550 s of 600: inside the renewal margin
    await client.publish(citizenItem());
    expect(fake.tokenRequests).toHaveLength(2);
    expect(fake.requests.map((request) => request.headers.authorization)).toEqual([
      'Bearer token-1',
      'Bearer token-1',
      'Bearer token-2',
    ]);
  });

  it('fetches a new token once after a 401 and publishes again, reopening the files', async () => {
    const { client, fake } = await clientFor((request) =>
      request.headers.authorization === 'Bearer token-1'
        ? { status: 401, body: { code: 'UNAUTHORIZED', message: 'token revoked' } }
        : created,
    );
    const item = citizenItem();
    await expect(client.publish(item)).resolves.toMatchObject({ messageId: 'msg-1' });
    expect(fake.tokenRequests).toHaveLength(2);
    expect(fake.requests).toHaveLength(2);
    expect(fake.requests[1].parts?.[1].content.toString()).toBe('%PDF-1.7 document bytes');
    expect((item.document as unknown as { opened: number }).opened).toBe(2);
  });

  it('gives up with a permanent error when the new token is refused too', async () => {
    const { client, fake } = await clientFor(() => ({ status: 401, body: { code: 'UNAUTHORIZED' } }));
    const error = await failureOf(client.publish(citizenItem()));
    expect(error).toBeInstanceOf(PermanentPublicationError);
    expect(fake.requests).toHaveLength(2);
  });

  it('treats a 409 with the message id as already published', async () => {
    const { client, fake } = await clientFor(() => ({
      status: 409,
      body: { messageId: 'msg-first', receiptDate: '2026-03-01T09:00:00Z' },
    }));
    await expect(client.publish(citizenItem())).resolves.toEqual({
      messageId: 'msg-first',
      publishedAt: new Date('2026-03-01T09:00:00Z'),
      noDigitalUser: false,
      alreadyPublished: true,
    });
    expect(fake.requests).toHaveLength(1);
  });

  it('recovers the message id of a 409 without body by searching the idempotency key', async () => {
    const { client, fake } = await clientFor((request) =>
      request.method === 'POST'
        ? { status: 409 }
        : request.path === '/ebox/messages'
          ? {
              status: 200,
              body: { items: [{ messageId: 'msg-found', readStatus: 'UNREAD', visible: true }] },
            }
          : { status: 200, body: { messageId: 'msg-found', receiptDate: '2026-03-01T08:30:00Z' } },
    );
    await expect(client.publish(citizenItem())).resolves.toEqual({
      messageId: 'msg-found',
      publishedAt: new Date('2026-03-01T08:30:00Z'),
      noDigitalUser: false,
      alreadyPublished: true,
    });
    const search = fake.requests[1];
    expect(search.method).toBe('GET');
    expect(search.path).toBe('/ebox/messages');
    expect(search.query.get('idempotencyKey')).toBe('RM-TICKET-0001');
    expect(search.headers.authorization).toBe('Bearer token-1');
    expect(fake.requests[2].path).toBe('/ebox/messages/msg-found');
  });

  it('takes the time it learned of a 409 when the e-Box cannot tell the first receiptDate', async () => {
    const { client } = await clientFor((request) =>
      request.method === 'POST' ? { status: 409, body: { messageId: 'msg-x' } } : { status: 503 },
    );
    await expect(client.publish(citizenItem())).resolves.toMatchObject({
      messageId: 'msg-x',
      publishedAt: new Date(T0),
      alreadyPublished: true,
    });
  });

  it('is transient when a 409 cannot be resolved to a message', async () => {
    const { client } = await clientFor((request) =>
      request.method === 'POST' ? { status: 409 } : { status: 200, body: [] },
    );
    expect(await failureOf(client.publish(citizenItem()))).toBeInstanceOf(TransientPublicationError);
  });

  it.each([500, 502, 503, 408])('classifies %i as transient', async (status) => {
    const { client } = await clientFor(() => ({ status, body: { code: 'DOWN', message: 'maintenance' } }));
    const error = await failureOf(client.publish(citizenItem()));
    expect(error).toBeInstanceOf(TransientPublicationError);
    expect((error as TransientPublicationError).status).toBe(status);
  });

  it('classifies 429 as transient with its Retry-After in seconds', async () => {
    const { client } = await clientFor(() => ({ status: 429, headers: { 'Retry-After': '120' } }));
    const error = (await failureOf(client.publish(citizenItem()))) as TransientPublicationError;
    expect(error).toBeInstanceOf(TransientPublicationError);
    expect(error.retryAfterMs).toBe(120_000);
  });

  it('reads a Retry-After date against the clock', async () => {
    const { client } = await clientFor(() => ({
      status: 503,
      headers: { 'Retry-After': 'Sun, 01 Mar 2026 10:05:00 GMT' },
    }));
    const error = (await failureOf(client.publish(citizenItem()))) as TransientPublicationError;
    expect(error.retryAfterMs).toBe(300_000);
  });

  it('classifies 400 INVALID_INPUT as permanent, with the e-Box code and message', async () => {
    const { client } = await clientFor(() => ({
      status: 400,
      body: {
        id: '3f1c5b0e-0000-4000-8000-000000000000',
        code: 'INVALID_INPUT',
        message: '0852093432 is not a valid company',
      },
    }));
    const error = (await failureOf(client.publish(citizenItem()))) as PermanentPublicationError;
    expect(error).toBeInstanceOf(PermanentPublicationError);
    expect(error.status).toBe(400);
    expect(error.code).toBe('INVALID_INPUT');
    expect(error.eboxMessage).toBe('0852093432 is not a valid company');
  });

  it('classifies a dropped connection as transient', async () => {
    const { client } = await clientFor(() => 'drop-connection');
    expect(await failureOf(client.publish(citizenItem()))).toBeInstanceOf(TransientPublicationError);
  });

  it('classifies a refused connection as transient', async () => {
    const clock = new ManualClock(T0);
    const closed = await startFakeEbox(() => created);
    await closed.close();
    const settings = settingsFor(closed.url);
    const client = new EboxPublicationClient(settings, new EboxTokenClient(settings, clock), clock);
    expect(await failureOf(client.publish(citizenItem()))).toBeInstanceOf(TransientPublicationError);
  });

  it('classifies an e-Box that never answers as transient after the timeout', async () => {
    const { client } = await clientFor(() => 'never-answer', { timeoutMs: 200 });
    const error = await failureOf(client.publish(citizenItem()));
    expect(error).toBeInstanceOf(TransientPublicationError);
    expect((error as Error).message).toMatch(/no progress/);
  });

  it('classifies a file that cannot be read as transient', async () => {
    const { client } = await clientFor(() => created);
    const item = citizenItem();
    item.document.open = () =>
      new Readable({
        read() {
          this.destroy(new Error('ENOENT: blob missing'));
        },
      });
    const error = await failureOf(client.publish(item));
    expect(error).toBeInstanceOf(TransientPublicationError);
  });
});
