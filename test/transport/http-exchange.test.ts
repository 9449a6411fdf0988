import http from 'node:http';
import type { AddressInfo, Socket } from 'node:net';
import {
  httpExchange,
  type HttpExchangeFailure,
  type HttpExchangeRequest,
} from '../../src/transport/http-exchange';

/** The failure a call rejected with (errorOf wraps it so that the test can read it back). */
class FailureError extends Error {
  constructor(readonly failure: HttpExchangeFailure) {
    super(failure.kind);
  }
}

const errorOf = (failure: HttpExchangeFailure) => new FailureError(failure);

async function failureOf(promise: Promise<unknown>): Promise<HttpExchangeFailure> {
  const outcome = await promise.then(
    () => undefined,
    (error: unknown) => error,
  );
  expect(outcome).toBeInstanceOf(FailureError);
  return (outcome as FailureError).failure;
}

interface TestServer {
  url: (path: string) => URL;
  /** TCP connections accepted so far. */
  connections: () => number;
  close: () => Promise<void>;
}

async function startServer(handler: http.RequestListener): Promise<TestServer> {
  const sockets = new Set<Socket>();
  let connections = 0;
  const server = http.createServer(handler);
  server.on('connection', (socket: Socket) => {
    connections += 1;
    sockets.add(socket);
    socket.on('close', () => sockets.delete(socket));
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const { port } = server.address() as AddressInfo;
  return {
    url: (path) => new URL(`http://127.0.0.1:${port}${path}`),
    connections: () => connections,
    close: () =>
      new Promise<void>((resolve) => {
        for (const socket of sockets) socket.destroy();
        server.close(() => resolve());
      }),
  };
}

function readBody(request: http.IncomingMessage): Promise<Buffer> {
  return new Promise((resolve, reject) => {
    const chunks: Buffer[] = [];
    request.on('data', (chunk: Buffer) => chunks.push(chunk));
    request.on('end', () => resolve(Buffer.concat(chunks)));
    request.on('error', reject);
  });
}

const base = { timeoutMs: 5_000, maxResponseBytes: 64 * 1024, headers: {} } as const;

describe('httpExchange', () => {
  let server: TestServer | undefined;
  afterEach(async () => {
    await server?.close();
    server = undefined;
  });

  describe('with a body in a buffer, or none (undici)', () => {
    it('sends the method, path, query, headers and body, and reads the status, headers and answer', async () => {
      const seen: Array<{ method?: string; url?: string; auth?: string; length?: string; body: string }> = [];
      server = await startServer((request, response) => {
        void readBody(request).then((body) => {
          seen.push({
            method: request.method,
            url: request.url,
            auth: request.headers.authorization,
            length: request.headers['content-length'],
            body: body.toString(),
          });
          response.writeHead(201, { 'Content-Type': 'application/json', 'X-Answer': 'yes' });
          response.end('{"messageId":"m-1"}');
        });
      });
      const answer = await httpExchange(
        {
          ...base,
          method: 'POST',
          url: server.url('/ebox/messages?x=1'),
          headers: { Authorization: 'Bearer t' },
          body: Buffer.from('{"a":1}'),
        },
        errorOf,
      );
      expect(answer.status).toBe(201);
      expect(answer.headers['content-type']).toBe('application/json');
      expect(answer.headers['x-answer']).toBe('yes');
      expect(answer.body.toString()).toBe('{"messageId":"m-1"}');
      expect(seen).toEqual([
        { method: 'POST', url: '/ebox/messages?x=1', auth: 'Bearer t', length: '7', body: '{"a":1}' },
      ]);
      const get = await httpExchange({ ...base, method: 'GET', url: server.url('/profile') }, errorOf);
      expect(get.status).toBe(201);
      expect(seen[1]).toMatchObject({ method: 'GET', url: '/profile', body: '' });
    });

    it('keeps its connections for the next calls', async () => {
      server = await startServer((_request, response) => response.end('ok'));
      const testServer = server;
      // undici may open a second connection when a call follows the previous answer at once (the first is
      // not free yet at that moment); then both are reused.
      for (let i = 0; i < 20; i += 1) {
        const answer = await httpExchange({ ...base, method: 'GET', url: testServer.url(`/${i}`) }, errorOf);
        expect(answer.body.toString()).toBe('ok');
      }
      expect(testServer.connections()).toBeLessThanOrEqual(2);
    });

    it('fails with timeout when the answer does not come, and when its body stops coming', async () => {
      server = await startServer((request, response) => {
        if (request.url === '/slow-body') {
          response.writeHead(200, { 'Content-Length': '10' });
          response.write('12345');
        }
        // otherwise: never answers
      });
      const request = { ...base, method: 'GET', timeoutMs: 150 } as const;
      expect(await failureOf(httpExchange({ ...request, url: server.url('/never') }, errorOf))).toEqual({
        kind: 'timeout',
        timeoutMs: 150,
      });
      expect(await failureOf(httpExchange({ ...request, url: server.url('/slow-body') }, errorOf))).toEqual({
        kind: 'timeout',
        timeoutMs: 150,
      });
    });

    it('refuses an answer longer than allowed, and the next call works on a new connection', async () => {
      server = await startServer((request, response) =>
        response.end(request.url === '/big' ? Buffer.alloc(4096, 0x61) : 'small'),
      );
      const request = { ...base, method: 'GET', maxResponseBytes: 1024 } as const;
      expect(await failureOf(httpExchange({ ...request, url: server.url('/big') }, errorOf))).toEqual({
        kind: 'answer-too-large',
        maxResponseBytes: 1024,
      });
      const next = await httpExchange({ ...request, url: server.url('/small') }, errorOf);
      expect(next.body.toString()).toBe('small');
    });

    it('fails with answer-broke-off when the connection closes in the middle of the answer', async () => {
      server = await startServer((_request, response) => {
        response.writeHead(200, { 'Content-Length': '100' });
        response.write('only part of it', () => response.socket?.destroy());
      });
      const failure = await failureOf(
        httpExchange({ ...base, method: 'GET', url: server.url('/') }, errorOf),
      );
      expect(failure.kind).toBe('answer-broke-off');
    });

    it('fails with unreachable when nothing listens', async () => {
      server = await startServer((_request, response) => response.end());
      const url = server.url('/');
      await server.close();
      server = undefined;
      const failure = await failureOf(httpExchange({ ...base, method: 'GET', url }, errorOf));
      expect(failure).toMatchObject({ kind: 'unreachable', error: expect.any(Error) as Error });
    });
  });

  describe('with a streamed body (node:http)', () => {
    async function* chunks(count: number, size: number): AsyncIterable<Buffer> {
      for (let i = 0; i < count; i += 1) yield Buffer.alloc(size, 0x30 + (i % 10));
    }

    it('sends the body chunked, all of it, and reads the answer', async () => {
      let received: Buffer = Buffer.alloc(0);
      let encoding: string | undefined;
      server = await startServer((request, response) => {
        encoding = request.headers['transfer-encoding'];
        void readBody(request).then((body) => {
          received = body;
          response.end(`got ${body.length}`);
        });
      });
      const request: HttpExchangeRequest = {
        ...base,
        method: 'POST',
        url: server.url('/upload'),
        body: () => chunks(64, 16 * 1024),
      };
      const answer = await httpExchange(request, errorOf);
      expect(answer.body.toString()).toBe(`got ${64 * 16 * 1024}`);
      expect(encoding).toBe('chunked');
      expect(received.length).toBe(64 * 16 * 1024);
      expect(received.subarray(16 * 1024, 16 * 1024 + 4).toString()).toBe('1111');
    });

    it('takes an answer that comes before the body was sent, and sends no more of it', async () => {
      let pulled = 0;
      async function* endless(): AsyncIterable<Buffer> {
        for (;;) {
          pulled += 1;
          yield Buffer.alloc(64 * 1024, 0x61);
        }
      }
      server = await startServer((_request, response) => {
        response.writeHead(413, { Connection: 'close' });
        response.end('too large');
      });
      const answer = await httpExchange(
        { ...base, method: 'POST', url: server.url('/upload'), body: endless },
        errorOf,
      );
      expect(answer.status).toBe(413);
      expect(answer.body.toString()).toBe('too large');
      const pulledAtAnswer = pulled;
      await new Promise((resolve) => setImmediate(resolve));
      expect(pulled).toBe(pulledAtAnswer);
    });

    it('fails with body-unreadable when the body cannot be read', async () => {
      server = await startServer((request, response) => {
        void readBody(request).then(
          () => response.end('ok'),
          () => undefined,
        );
      });
      async function* failing(): AsyncIterable<Buffer> {
        yield Buffer.from('first part');
        throw new Error('the staged file is gone');
      }
      const failure = await failureOf(
        httpExchange({ ...base, method: 'POST', url: server.url('/upload'), body: failing }, errorOf),
      );
      expect(failure).toMatchObject({
        kind: 'body-unreadable',
        error: { message: 'the staged file is gone' },
      });
    });

    it('fails with timeout when the upload makes no progress', async () => {
      // The server never reads: once the socket buffers are full, the upload stalls.
      server = await startServer((request) => request.pause());
      const failure = await failureOf(
        httpExchange(
          {
            ...base,
            method: 'POST',
            timeoutMs: 200,
            url: server.url('/upload'),
            body: () => chunks(4096, 64 * 1024),
          },
          errorOf,
        ),
      );
      expect(failure).toEqual({ kind: 'timeout', timeoutMs: 200 });
    });
  });
});
