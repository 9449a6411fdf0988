import http from 'node:http';
import https from 'node:https';
import { Readable } from 'node:stream';

/** One outgoing HTTP call (to the e-Box, to the service from the client). */
export interface HttpExchangeRequest {
  method: 'GET' | 'POST';
  url: URL;
  headers: Record<string, string>;
  /** A small body sent whole, or a large one produced chunk by chunk (sent chunked, back-pressured). */
  body?: Buffer | (() => AsyncIterable<Buffer>);
  /** The call fails when it makes no progress (connecting, sending, answering) for this long. */
  timeoutMs: number;
  /** Longer answers are refused. */
  maxResponseBytes: number;
}

/** The answer, whatever its status. */
export interface HttpExchangeResponse {
  status: number;
  headers: http.IncomingHttpHeaders;
  body: Buffer;
}

/** Why a call has no complete answer; the caller turns it into its own error. */
export type HttpExchangeFailure =
  | { kind: 'timeout'; timeoutMs: number }
  | { kind: 'unreachable'; error: Error }
  | { kind: 'answer-too-large'; maxResponseBytes: number }
  | { kind: 'answer-broke-off'; error: Error | undefined }
  | { kind: 'body-unreadable'; error: Error };

/**
 * Performs one HTTP call and reads the whole answer. An answer may arrive before the body was sent
 * completely (a server refusing early): it is the answer, and the rest of the body is not sent. https
 * URLs use Node's trusted CAs (and NODE_EXTRA_CA_CERTS).
 * @param errorOf the error the promise rejects with when there is no complete answer
 */
export function httpExchange(
  request: HttpExchangeRequest,
  errorOf: (failure: HttpExchangeFailure) => Error,
): Promise<HttpExchangeResponse> {
  return new Promise((resolve, reject) => {
    const transport = request.url.protocol === 'https:' ? https : http;
    let settled = false;
    // Created now and read only once piped: nothing is opened or read before the request exists.
    const source =
      typeof request.body === 'function' ? Readable.from(request.body(), { objectMode: false }) : undefined;
    const finish = (failure: HttpExchangeFailure | undefined, response?: HttpExchangeResponse) => {
      if (settled) return;
      settled = true;
      // Closes the files still open when the answer came early or the call failed.
      source?.destroy();
      if (failure) {
        outgoing.destroy();
        reject(errorOf(failure));
      } else {
        if (!outgoing.writableFinished) outgoing.destroy();
        resolve(response as HttpExchangeResponse);
      }
    };
    const headers: Record<string, string | number> = { ...request.headers };
    if (Buffer.isBuffer(request.body)) headers['Content-Length'] = request.body.length;
    const outgoing = transport.request(request.url, { method: request.method, headers });
    outgoing.setTimeout(request.timeoutMs, () => finish({ kind: 'timeout', timeoutMs: request.timeoutMs }));
    outgoing.on('error', (error) => finish({ kind: 'unreachable', error }));
    outgoing.on('response', (response) => {
      const chunks: Buffer[] = [];
      let length = 0;
      response.on('data', (chunk: Buffer) => {
        length += chunk.length;
        if (length > request.maxResponseBytes) {
          finish({ kind: 'answer-too-large', maxResponseBytes: request.maxResponseBytes });
        } else chunks.push(chunk);
      });
      response.on('error', (error) => finish({ kind: 'answer-broke-off', error }));
      response.on('aborted', () => finish({ kind: 'answer-broke-off', error: undefined }));
      response.on('end', () =>
        finish(undefined, {
          status: response.statusCode ?? 0,
          headers: response.headers,
          body: Buffer.concat(chunks),
        }),
      );
    });

    if (source === undefined) {
      outgoing.end(request.body);
      return;
    }
    source.on('error', (error) => finish({ kind: 'body-unreadable', error }));
    // pipe() follows the socket's back-pressure: only a few chunks are ever in memory.
    source.pipe(outgoing);
  });
}
