import http from 'node:http';
import https from 'node:https';
import { Readable } from 'node:stream';
import { TransientPublicationError } from './publication-errors';

/** One HTTP call to the e-Box. */
export interface HttpExchangeRequest {
  method: 'GET' | 'POST';
  url: URL;
  headers: Record<string, string>;
  /** A small body sent whole, or a large one produced chunk by chunk (sent chunked, back-pressured). */
  body?: Buffer | (() => AsyncIterable<Buffer>);
  /** The call fails when it makes no progress (connecting, sending, answering) for this long. */
  timeoutMs: number;
  /** Longer answers are refused (the e-Box answers small JSON documents). */
  maxResponseBytes: number;
}

/** The e-Box's answer, whatever its status. */
export interface HttpExchangeResponse {
  status: number;
  headers: http.IncomingHttpHeaders;
  body: Buffer;
}

/**
 * Performs one HTTP call and reads the whole answer. An answer may arrive before the body was sent
 * completely (a server refusing early): it is the answer, and the rest of the body is not sent.
 * @throws TransientPublicationError when there is no complete answer (network, timeout, body source failed)
 */
export function httpExchange(request: HttpExchangeRequest): Promise<HttpExchangeResponse> {
  return new Promise((resolve, reject) => {
    const transport = request.url.protocol === 'https:' ? https : http;
    let settled = false;
    // Created now and read only once piped: nothing is opened or read before the request exists.
    const source =
      typeof request.body === 'function' ? Readable.from(request.body(), { objectMode: false }) : undefined;
    const finish = (error: Error | undefined, response?: HttpExchangeResponse) => {
      if (settled) return;
      settled = true;
      // Closes the files still open when the answer came early or the call failed.
      source?.destroy();
      if (error) {
        outgoing.destroy();
        reject(error);
      } else {
        if (!outgoing.writableFinished) outgoing.destroy();
        resolve(response as HttpExchangeResponse);
      }
    };
    const headers: Record<string, string | number> = { ...request.headers };
    if (Buffer.isBuffer(request.body)) headers['Content-Length'] = request.body.length;
    const outgoing = transport.request(request.url, { method: request.method, headers });
    outgoing.setTimeout(request.timeoutMs, () =>
      finish(new TransientPublicationError(`the e-Box made no progress for ${request.timeoutMs} ms`)),
    );
    outgoing.on('error', (error) =>
      finish(
        new TransientPublicationError(`the e-Box call failed: ${error.message}`, undefined, undefined, {
          cause: error,
        }),
      ),
    );
    outgoing.on('response', (response) => {
      const chunks: Buffer[] = [];
      let length = 0;
      response.on('data', (chunk: Buffer) => {
        length += chunk.length;
        if (length > request.maxResponseBytes) {
          finish(
            new TransientPublicationError(
              `the e-Box answer is larger than ${request.maxResponseBytes} bytes`,
            ),
          );
        } else chunks.push(chunk);
      });
      response.on('error', (error) =>
        finish(new TransientPublicationError(`the e-Box answer broke off: ${error.message}`)),
      );
      response.on('aborted', () => finish(new TransientPublicationError('the e-Box answer broke off')));
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
    source.on('error', (error) =>
      finish(
        new TransientPublicationError(
          `the content to publish could not be read: ${error.message}`,
          undefined,
          undefined,
          {
            cause: error,
          },
        ),
      ),
    );
    // pipe() follows the socket's back-pressure: only a few chunks are ever in memory.
    source.pipe(outgoing);
  });
}
