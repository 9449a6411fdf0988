import http from 'node:http';
import https from 'node:https';
import { Readable } from 'node:stream';
import { ClientError } from './client-errors';

/** One SOAP request over HTTP(S). */
export interface SoapHttpRequest {
  url: URL;
  headers: Record<string, string>;
  /** A small body sent whole, or a large one produced chunk by chunk (sent chunked, back-pressured). */
  body: Buffer | (() => AsyncIterable<Buffer>);
  /** The exchange fails when it makes no progress (connecting, sending, answering) for this long. */
  timeoutMs: number;
  /** Longer answers are refused (the service's answers are small: proofs are small XML). */
  maxAnswerBytes: number;
}

/** The service's answer, whatever its HTTP status. */
export interface SoapHttpAnswer {
  status: number;
  /** The Content-Type header ('' when absent). */
  contentType: string;
  body: Buffer;
}

/**
 * POSTs a request and reads the whole answer. An answer that arrives before the body was sent completely
 * (the service refusing early, e.g. an authentication fault) is the answer: the rest is not sent. https
 * URLs use Node's trusted CAs (and NODE_EXTRA_CA_CERTS).
 * @throws ClientError when there is no complete answer (network, timeout, the body's source failed)
 */
export function postSoapRequest(request: SoapHttpRequest): Promise<SoapHttpAnswer> {
  return new Promise((resolve, reject) => {
    const transport = request.url.protocol === 'https:' ? https : http;
    let settled = false;
    // Created now and read only once piped: no file is opened before the request exists.
    const source =
      typeof request.body === 'function' ? Readable.from(request.body(), { objectMode: false }) : undefined;
    const finish = (error: Error | undefined, answer?: SoapHttpAnswer) => {
      if (settled) return;
      settled = true;
      // Closes a file still open when the answer came early or the exchange failed.
      source?.destroy();
      if (error) {
        outgoing.destroy();
        reject(error);
      } else {
        if (!outgoing.writableFinished) outgoing.destroy();
        resolve(answer as SoapHttpAnswer);
      }
    };
    const headers: Record<string, string | number> = { ...request.headers };
    if (Buffer.isBuffer(request.body)) headers['Content-Length'] = request.body.length;
    const outgoing = transport.request(request.url, { method: 'POST', headers });
    outgoing.setTimeout(request.timeoutMs, () =>
      finish(new ClientError(`${request.url.origin} made no progress for ${request.timeoutMs} ms`)),
    );
    outgoing.on('error', (error) =>
      finish(new ClientError(`${request.url.origin} cannot be reached: ${error.message}`, { cause: error })),
    );
    outgoing.on('response', (response) => {
      const chunks: Buffer[] = [];
      let length = 0;
      response.on('data', (chunk: Buffer) => {
        length += chunk.length;
        if (length > request.maxAnswerBytes) {
          finish(new ClientError(`the answer is larger than ${request.maxAnswerBytes} bytes`));
        } else chunks.push(chunk);
      });
      response.on('error', (error) => finish(new ClientError(`the answer broke off: ${error.message}`)));
      response.on('aborted', () => finish(new ClientError('the answer broke off')));
      response.on('end', () =>
        finish(undefined, {
          status: response.statusCode ?? 0,
          contentType: String(response.headers['content-type'] ?? ''),
          body: Buffer.concat(chunks),
        }),
      );
    });

    if (source === undefined) {
      outgoing.end(request.body);
      return;
    }
    source.on('error', (error) =>
      finish(new ClientError(`the request could not be read: ${error.message}`, { cause: error })),
    );
    // pipe() follows the socket's back-pressure: only a few chunks are ever in memory.
    source.pipe(outgoing);
  });
}
