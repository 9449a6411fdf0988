import http, { type IncomingMessage, type ServerResponse } from 'node:http';

/**
 * Forwards one request to `target` (same path, method and headers) and its answer back, as a plain
 * HTTP hop of the tests does; `onAnswer` sees the upstream status first. A client that goes away
 * mid-upload leaves the upstream no half request (it would wait for the rest); an upload received whole
 * is forwarded whole, as the network would have delivered it.
 */
export function forwardRequest(
  target: URL,
  request: IncomingMessage,
  response: ServerResponse,
  onAnswer?: (status: number | undefined) => void,
): void {
  const upstream = http.request(
    {
      host: target.hostname,
      port: target.port,
      path: request.url,
      method: request.method,
      headers: request.headers,
    },
    (answer) => {
      onAnswer?.(answer.statusCode);
      response.writeHead(answer.statusCode ?? 502, answer.headers);
      answer.pipe(response);
    },
  );
  upstream.on('error', () => response.destroy());
  request.on('close', () => {
    if (!request.complete) upstream.destroy();
  });
  request.pipe(upstream);
}
