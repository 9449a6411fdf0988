import http from 'node:http';
import type { AddressInfo } from 'node:net';
import * as Multipart from 'multipasta';

/** A multipart part as the fake e-Box received it. */
export interface ReceivedPart {
  name: string;
  fileName: string | undefined;
  contentType: string;
  content: Buffer;
}

/** A request to the fake e-Box (other than the token endpoint). */
export interface ReceivedRequest {
  method: string;
  path: string;
  query: URLSearchParams;
  headers: http.IncomingHttpHeaders;
  /** The parts of a multipart/form-data body, parsed by multipasta. */
  parts: ReceivedPart[] | undefined;
}

/** What the fake answers: a status and JSON body, or no answer at all, or a dropped connection. */
export type FakeAnswer =
  { status: number; body?: unknown; headers?: Record<string, string> } | 'never-answer' | 'drop-connection';

export interface FakeEboxOptions {
  /** `expires_in` of the tokens it issues (seconds). */
  tokenLifetimeSeconds?: number;
  /** Called with every chunk of a file part as it is parsed (before the request ends). */
  onPartBytes?: (partName: string, chunk: Uint8Array) => void;
}

/** A fake e-Box: issues tokens `token-1`, `token-2`, ... and answers other calls with `handler`. */
export interface FakeEbox {
  url: string;
  requests: ReceivedRequest[];
  /** The Authorization and body of each token request. */
  tokenRequests: { authorization: string | undefined; body: string }[];
  close(): Promise<void>;
}

function parseMultipart(
  request: http.IncomingMessage,
  onPartBytes: FakeEboxOptions['onPartBytes'],
): Promise<ReceivedPart[]> {
  return new Promise((resolve, reject) => {
    const parts: ReceivedPart[] = [];
    const parser = Multipart.make({
      headers: request.headers as Record<string, string>,
      isFile: () => true,
      maxTotalSize: Number.MAX_SAFE_INTEGER,
      maxPartSize: Number.MAX_SAFE_INTEGER,
      onField: () => undefined,
      onFile: (info) => {
        const chunks: Buffer[] = [];
        parts.push({
          name: info.name,
          fileName: info.filename,
          contentType: info.contentType,
          content: Buffer.alloc(0),
        });
        const part = parts[parts.length - 1];
        return (chunk) => {
          if (chunk === null) part.content = Buffer.concat(chunks);
          else {
            onPartBytes?.(info.name, chunk);
            chunks.push(Buffer.from(chunk));
          }
        };
      },
      onError: (error) => reject(new Error(`multipart: ${error._tag}`)),
      onDone: () => resolve(parts),
    });
    request.on('data', (chunk: Buffer) => parser.write(chunk));
    request.on('end', () => parser.end());
  });
}

async function readAll(request: http.IncomingMessage): Promise<Buffer> {
  const chunks: Buffer[] = [];
  for await (const chunk of request) chunks.push(chunk as Buffer);
  return Buffer.concat(chunks);
}

/** Starts a fake e-Box on 127.0.0.1 (a free port). */
export async function startFakeEbox(
  handler: (request: ReceivedRequest) => FakeAnswer,
  options: FakeEboxOptions = {},
): Promise<FakeEbox> {
  const requests: ReceivedRequest[] = [];
  const tokenRequests: FakeEbox['tokenRequests'] = [];
  const sockets = new Set<import('node:net').Socket>();
  const server = http.createServer((request, response) => {
    void (async () => {
      const url = new URL(request.url ?? '/', 'http://localhost');
      if (url.pathname === '/oauth2/token') {
        const body = (await readAll(request)).toString();
        tokenRequests.push({ authorization: request.headers.authorization, body });
        response.writeHead(200, { 'Content-Type': 'application/json' });
        response.end(
          JSON.stringify({
            access_token: `token-${tokenRequests.length}`,
            token_type: 'Bearer',
            expires_in: options.tokenLifetimeSeconds ?? 3600,
          }),
        );
        return;
      }
      const multipart = request.headers['content-type']?.startsWith('multipart/form-data') ?? false;
      const parts = multipart
        ? await parseMultipart(request, options.onPartBytes)
        : (await readAll(request), undefined);
      const received: ReceivedRequest = {
        method: request.method ?? '',
        path: url.pathname,
        query: url.searchParams,
        headers: request.headers,
        parts,
      };
      requests.push(received);
      const answer = handler(received);
      if (answer === 'never-answer') return;
      if (answer === 'drop-connection') {
        request.socket.destroy();
        return;
      }
      response.writeHead(answer.status, { 'Content-Type': 'application/json', ...answer.headers });
      response.end(answer.body === undefined ? undefined : JSON.stringify(answer.body));
    })();
  });
  server.on('connection', (socket) => {
    sockets.add(socket);
    socket.on('close', () => sockets.delete(socket));
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const { port } = server.address() as AddressInfo;
  return {
    url: `http://127.0.0.1:${port}`,
    requests,
    tokenRequests,
    close: () =>
      new Promise<void>((resolve) => {
        for (const socket of sockets) socket.destroy();
        server.close(() => resolve());
      }),
  };
}
