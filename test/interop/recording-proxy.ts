import http from 'node:http';
import type { AddressInfo } from 'node:net';

/**
 * An HTTP hop between a client and the service that keeps a copy of every request (headers and body
 * bytes, as the client put them on the wire) and forwards it unchanged: the interop tests read what a
 * client really sent, e.g. whether JAX-WS used MTOM.
 */

/** One request as it crossed the proxy. */
export interface RecordedRequest {
  method: string;
  /** The path and query. */
  url: string;
  /** Header names in lower case. */
  headers: http.IncomingHttpHeaders;
  body: Buffer;
}

/** A started {@link startRecordingProxy}. */
export interface RecordingProxy {
  /** `http://127.0.0.1:<port>`: the target's paths are served under it. */
  url: string;
  /** The requests received so far, oldest first. */
  requests: RecordedRequest[];
  close(): Promise<void>;
}

/** Starts a proxy to `targetBaseUrl` (scheme, host and port; paths are kept) on a free local port. */
export async function startRecordingProxy(targetBaseUrl: string): Promise<RecordingProxy> {
  const target = new URL(targetBaseUrl);
  const requests: RecordedRequest[] = [];
  const server = http.createServer((request, response) => {
    const chunks: Buffer[] = [];
    request.on('data', (chunk: Buffer) => chunks.push(chunk));
    request.on('end', () => {
      const body = Buffer.concat(chunks);
      requests.push({ method: request.method ?? '', url: request.url ?? '', headers: request.headers, body });
      const upstream = http.request(
        {
          host: target.hostname,
          port: target.port,
          path: request.url,
          method: request.method,
          headers: { ...request.headers, host: target.host },
        },
        (answer) => {
          response.writeHead(answer.statusCode ?? 502, answer.headers);
          answer.pipe(response);
        },
      );
      upstream.on('error', () => response.destroy());
      upstream.end(body);
    });
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const { port } = server.address() as AddressInfo;
  return {
    url: `http://127.0.0.1:${port}`,
    requests,
    close: () =>
      new Promise<void>((resolve) => {
        server.close(() => resolve());
        server.closeAllConnections();
      }),
  };
}
