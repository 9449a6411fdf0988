import { createHash, randomBytes } from 'node:crypto';
import http, { type IncomingMessage } from 'node:http';
import net, { type AddressInfo } from 'node:net';
import { MalformedMessageError } from '../../src/errors/faults';
import { MultipartBody } from '../../src/http/mime/multipart-body';

/*
 * MultipartBody over real HTTP connections (raw sockets, so that a body can stop anywhere): the parts in
 * order, the first one capped, every way a body can end badly, and the socket paused while an attachment
 * nobody reads holds a full buffer.
 */

const BOUNDARY = 'uuid:4f1e-multipart-body';
const LIMITS = {
  maxRequestBytes: 64 * 1024 * 1024,
  maxParts: 4,
  maxFirstPartBytes: 1024,
  firstPartTooLarge: () => new MalformedMessageError('first part too large'),
};

function part(headers: string, content: Buffer | string): Buffer {
  return Buffer.concat([
    Buffer.from(`--${BOUNDARY}\r\n${headers}\r\n\r\n`),
    Buffer.from(content),
    Buffer.from('\r\n'),
  ]);
}
const CLOSE = Buffer.from(`--${BOUNDARY}--\r\n`);
const ROOT = part('Content-Type: text/xml\r\nContent-ID: <root@x>', '<Envelope/>');

let server: http.Server;
let port: number;
let handle: (request: IncomingMessage) => Promise<unknown>;
let served: (request: IncomingMessage) => void;
/** Told of the next request's outcome (what `handle` returned) once the server has the request. */
let received: (outcome: Promise<unknown>) => void = () => undefined;

/** What `handle` makes of the next request the server receives. */
function nextOutcome(): Promise<unknown> {
  return new Promise<Promise<unknown>>((resolve) => (received = resolve)).then((outcome) => outcome);
}

beforeAll(async () => {
  server = http.createServer((request, response) => {
    served(request);
    const outcome = handle(request);
    received(outcome);
    outcome.then(
      () => response.end('ok'),
      () => response.end('failed'),
    );
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  port = (server.address() as AddressInfo).port;
});

afterAll(async () => {
  await new Promise<void>((resolve) => server.close(() => resolve()));
});

beforeEach(() => {
  served = () => undefined;
});

/** Opens a connection and writes the request head (chunked body) and `body`; the socket stays open. */
async function send(body: Buffer, options: { end?: boolean } = {}): Promise<net.Socket> {
  const socket = net.connect(port, '127.0.0.1');
  await new Promise<void>((resolve) => socket.once('connect', resolve));
  socket.on('error', () => undefined);
  socket.write(
    'POST / HTTP/1.1\r\nHost: x\r\nTransfer-Encoding: chunked\r\n' +
      `Content-Type: multipart/related; type="text/xml"; boundary="${BOUNDARY}"\r\n\r\n`,
  );
  if (body.length > 0)
    socket.write(Buffer.concat([Buffer.from(`${body.length.toString(16)}\r\n`), body, Buffer.from('\r\n')]));
  if (options.end !== false) socket.write('0\r\n\r\n');
  return socket;
}

/** Reads `body`'s first part (headers, then bytes) and returns the body, ready for its next parts. */
async function pastFirstPart(body: MultipartBody): Promise<MultipartBody> {
  await body.firstPartHeaders();
  await body.firstPartBytes();
  return body;
}

async function readAll(stream: NodeJS.ReadableStream): Promise<Buffer> {
  const chunks: Buffer[] = [];
  for await (const chunk of stream) chunks.push(chunk as Buffer);
  return Buffer.concat(chunks);
}

test('gives the first part as bytes, then each later part as a stream, in order, then undefined', async () => {
  const annex = randomBytes(200_000);
  handle = async (request) => {
    const body = new MultipartBody(request, LIMITS);
    const rootHeaders = await body.firstPartHeaders();
    const rootBytes = await body.firstPartBytes();
    const parts = [];
    for (let next = await body.nextPart(); next; next = await body.nextPart()) {
      parts.push({
        id: next.headers['content-id'],
        type: next.contentType,
        bytes: await readAll(next.content),
      });
    }
    return { rootId: rootHeaders.headers['content-id'], root: rootBytes.toString(), parts };
  };
  const outcome = nextOutcome();
  const socket = await send(
    Buffer.concat([
      ROOT,
      part('Content-Type: application/pdf\r\nContent-ID: <doc@x>', 'PDF bytes'),
      part('Content-Type: application/octet-stream\r\nContent-ID: <annex@x>', annex),
      CLOSE,
    ]),
  );
  const result = (await outcome) as {
    rootId: string;
    root: string;
    parts: { id: string; type: string; bytes: Buffer }[];
  };
  socket.destroy();
  expect(result.rootId).toBe('<root@x>');
  expect(result.root).toBe('<Envelope/>');
  expect(result.parts.map(({ id, type }) => [id, type])).toEqual([
    ['<doc@x>', 'application/pdf'],
    ['<annex@x>', 'application/octet-stream'],
  ]);
  expect(result.parts[0].bytes.toString()).toBe('PDF bytes');
  expect(result.parts[1].bytes.equals(annex)).toBe(true);
});

test('ignores an epilogue after the closing delimiter', async () => {
  handle = async (request) => {
    const body = await pastFirstPart(new MultipartBody(request, LIMITS));
    const next = await body.nextPart();
    const bytes = await readAll(next!.content);
    await new Promise((resolve) => request.once('end', resolve));
    return { bytes: bytes.toString(), after: await body.nextPart(), failure: body.failure() };
  };
  const outcome = nextOutcome();
  const socket = await send(Buffer.concat([ROOT, part('Content-Type: application/pdf', 'PDF'), CLOSE]), {
    end: false,
  });
  // The epilogue in chunks of its own, one of them looking like part headers.
  for (const epilogue of ['an epilogue\r\n', `--${BOUNDARY}\r\nContent-Type: text/plain\r\n\r\nx\r\n`]) {
    await new Promise((resolve) => setTimeout(resolve, 20));
    socket.write(`${Buffer.byteLength(epilogue).toString(16)}\r\n${epilogue}\r\n`);
  }
  socket.write('0\r\n\r\n');
  expect(await outcome).toEqual({ bytes: 'PDF', after: undefined, failure: undefined });
  socket.destroy();
});

test('two waits for the next part at once: each is answered, one with the part, one with the end', async () => {
  handle = async (request) => {
    const body = await pastFirstPart(new MultipartBody(request, LIMITS));
    const [first, second] = await Promise.all([body.nextPart(), body.nextPart()]);
    return { first: first && (await readAll(first.content)).toString(), second };
  };
  const outcome = nextOutcome();
  const socket = await send(Buffer.concat([ROOT, part('Content-Type: application/pdf', 'PDF'), CLOSE]));
  expect(await outcome).toEqual({ first: 'PDF', second: undefined });
  socket.destroy();
});

test('refuses a first part larger than its limit, and stops reading', async () => {
  let request: IncomingMessage | undefined;
  served = (incoming) => (request = incoming);
  handle = async (incoming) => {
    const body = new MultipartBody(incoming, LIMITS);
    await body.firstPartHeaders();
    return body.firstPartBytes();
  };
  const outcome = nextOutcome();
  const socket = await send(Buffer.concat([part('Content-Type: text/xml', 'x'.repeat(5000)), CLOSE]));
  await expect(outcome).rejects.toThrow('first part too large');
  expect(request?.listenerCount('data')).toBe(0);
  socket.destroy();
});

test.each([
  ['inside a part', Buffer.concat([ROOT, part('Content-Type: application/pdf', 'PDF').subarray(0, 40)])],
  ['inside part headers', Buffer.concat([ROOT, Buffer.from(`--${BOUNDARY}\r\nContent-Type: appl`)])],
  ['after a part, without the closing delimiter', ROOT],
])('a body that ends %s is truncated', async (_where, body) => {
  handle = async (request) => {
    const multipart = await pastFirstPart(new MultipartBody(request, LIMITS));
    const next = await multipart.nextPart();
    if (next) await readAll(next.content);
    return multipart.nextPart();
  };
  const outcome = nextOutcome();
  const socket = await send(body);
  await expect(outcome).rejects.toThrow('MIME multipart body is truncated');
  socket.destroy();
});

test('a client gone in the middle of an attachment fails the attachment being read', async () => {
  let failure: (() => MalformedMessageError | undefined) | undefined;
  handle = async (request) => {
    const body = new MultipartBody(request, LIMITS);
    failure = () => body.failure();
    await pastFirstPart(body);
    const next = await body.nextPart();
    return readAll(next!.content);
  };
  const outcome = nextOutcome();
  const socket = await send(
    Buffer.concat([ROOT, part('Content-Type: application/pdf', randomBytes(100_000)).subarray(0, 50_000)]),
    { end: false },
  );
  await new Promise((resolve) => setTimeout(resolve, 50));
  socket.destroy();
  await expect(outcome).rejects.toThrow('the connection closed before the end of the request');
  expect(failure?.()?.message).toContain('the connection closed before the end of the request');
});

test('more parts than the limit are refused', async () => {
  handle = async (request) => {
    const body = await pastFirstPart(new MultipartBody(request, LIMITS));
    for (let next = await body.nextPart(); next; next = await body.nextPart()) await readAll(next.content);
  };
  const parts = Array.from({ length: 6 }, (_, index) => part('Content-Type: text/plain', `part ${index}`));
  const outcome = nextOutcome();
  const socket = await send(Buffer.concat([ROOT, ...parts, CLOSE]));
  await expect(outcome).rejects.toThrow(`more MIME parts than the limit of ${LIMITS.maxParts}`);
  socket.destroy();
});

test('an attachment nobody reads holds the socket paused; read later, it is complete', async () => {
  const document = randomBytes(8 * 1024 * 1024);
  let request: IncomingMessage | undefined;
  let body: MultipartBody | undefined;
  served = (incoming) => (request = incoming);
  handle = async (incoming) => {
    body = await pastFirstPart(new MultipartBody(incoming, LIMITS));
    return undefined;
  };
  const outcome = nextOutcome();
  const socket = await send(Buffer.concat([ROOT, part('Content-Type: application/pdf', document), CLOSE]));
  await outcome;
  // Give the socket time to deliver what it would if nothing held it back.
  await new Promise((resolve) => setTimeout(resolve, 200));
  expect(request?.isPaused()).toBe(true);
  expect(request?.socket.bytesRead).toBeLessThan(document.length / 2);

  const next = await body!.nextPart();
  const read = await readAll(next!.content);
  expect(createHash('sha256').update(read).digest('hex')).toBe(
    createHash('sha256').update(document).digest('hex'),
  );
  expect(await body!.nextPart()).toBeUndefined();
  socket.destroy();
});

test('stop() leaves the rest of the body unparsed', async () => {
  let request: IncomingMessage | undefined;
  served = (incoming) => (request = incoming);
  handle = async (incoming) => {
    const body = await pastFirstPart(new MultipartBody(incoming, LIMITS));
    body.stop();
    return undefined;
  };
  const outcome = nextOutcome();
  const socket = await send(Buffer.concat([ROOT, part('Content-Type: application/pdf', 'PDF'), CLOSE]));
  await outcome;
  expect(request?.listenerCount('data')).toBe(0);
  expect(request?.listenerCount('end')).toBe(0);
  socket.destroy();
});
