import http from 'node:http';
import https from 'node:https';
import { Readable } from 'node:stream';
import { Agent, type Dispatcher } from 'undici';

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
 * Performs one HTTP call and reads the whole answer. https URLs use Node's trusted CAs (and
 * NODE_EXTRA_CA_CERTS).
 *
 * A call whose body is a buffer (or that has none: the e-Box's JSON API, one profile look-up per
 * sendDocument) goes through undici's connection pools: a third of the CPU of Node's own client per call
 * (`node:http`'s request object, agent and socket timers; measured 26 against 78 µs over loopback), with
 * no stream around the answer's body. A streamed body goes through `node:http`, whose request follows
 * the socket's back-pressure and times out when the upload stalls, and where an answer arriving before
 * the body was sent completely (a server refusing early) is the answer, the rest of the body not sent.
 * @param errorOf the error the promise rejects with when there is no complete answer
 */
export function httpExchange(
  request: HttpExchangeRequest,
  errorOf: (failure: HttpExchangeFailure) => Error,
): Promise<HttpExchangeResponse> {
  const { body } = request;
  return typeof body === 'function'
    ? streamedExchange(request, body, errorOf)
    : bufferedExchange(request, body, errorOf);
}

/** undici's pools, one per timeout (a client or an e-Box connection uses one timeout for every call). */
const agentsByTimeout = new Map<number, Agent>();

/**
 * The pools of calls with this timeout: connecting, waiting for the answer's head (once the request is
 * sent) and each wait for more of the answer's body time out after `timeoutMs`, as the streamed path's
 * "no progress" timeout does. Idle connections are kept open a few seconds (the server's keep-alive hint
 * permitting) and do not keep the process alive.
 */
function agentFor(timeoutMs: number): Agent {
  let agent = agentsByTimeout.get(timeoutMs);
  if (agent === undefined) {
    agent = new Agent({ connect: { timeout: timeoutMs }, headersTimeout: timeoutMs, bodyTimeout: timeoutMs });
    agentsByTimeout.set(timeoutMs, agent);
  }
  return agent;
}

const UNDICI_TIMEOUT_CODES = new Set([
  'UND_ERR_CONNECT_TIMEOUT',
  'UND_ERR_HEADERS_TIMEOUT',
  'UND_ERR_BODY_TIMEOUT',
]);

function isUndiciTimeout(error: unknown): boolean {
  const code = (error as { code?: unknown } | undefined)?.code;
  return typeof code === 'string' && UNDICI_TIMEOUT_CODES.has(code);
}

function asError(error: unknown): Error {
  return error instanceof Error ? error : new Error(String(error));
}

/**
 * A buffered call through undici's `dispatch`: the answer's head and chunks come to the callbacks below,
 * with no Readable or async iterator around the body (a tenth less client CPU per call than undici's
 * `request()`, measured over loopback).
 */
function bufferedExchange(
  request: HttpExchangeRequest,
  body: Buffer | undefined,
  errorOf: (failure: HttpExchangeFailure) => Error,
): Promise<HttpExchangeResponse> {
  const { url, timeoutMs, maxResponseBytes } = request;
  return new Promise((resolve, reject) => {
    let status = 0;
    let headers: http.IncomingHttpHeaders = {};
    const chunks: Buffer[] = [];
    let length = 0;
    let failure: HttpExchangeFailure | undefined;
    const handler: Dispatcher.DispatchHandler = {
      // Present so that undici takes this for a handler of its current interface (else it wants onConnect).
      onRequestStart() {},
      onResponseStart(_controller, statusCode, responseHeaders) {
        // An informational answer (1xx) is not the answer.
        if (statusCode < 200) return;
        status = statusCode;
        headers = responseHeaders;
      },
      onResponseData(controller, chunk) {
        length += chunk.length;
        if (length > maxResponseBytes) {
          // The connection is closed, not reused.
          failure = { kind: 'answer-too-large', maxResponseBytes };
          controller.abort(errorOf(failure));
          return;
        }
        chunks.push(chunk);
      },
      onResponseEnd() {
        resolve({ status, headers, body: Buffer.concat(chunks, length) });
      },
      onResponseError(_controller, error) {
        if (failure === undefined) {
          const answering = status !== 0;
          failure = isUndiciTimeout(error)
            ? { kind: 'timeout', timeoutMs }
            : answering
              ? { kind: 'answer-broke-off', error: asError(error) }
              : { kind: 'unreachable', error: asError(error) };
        }
        reject(errorOf(failure));
      },
    };
    try {
      agentFor(timeoutMs).dispatch(
        {
          origin: url.origin,
          path: `${url.pathname}${url.search}`,
          method: request.method,
          headers: request.headers,
          body,
        },
        handler,
      );
    } catch (error) {
      reject(errorOf({ kind: 'unreachable', error: asError(error) }));
    }
  });
}

function streamedExchange(
  request: HttpExchangeRequest,
  body: () => AsyncIterable<Buffer>,
  errorOf: (failure: HttpExchangeFailure) => Error,
): Promise<HttpExchangeResponse> {
  return new Promise((resolve, reject) => {
    const transport = request.url.protocol === 'https:' ? https : http;
    let settled = false;
    // Created now and read only once piped: nothing is opened or read before the request exists.
    const source = Readable.from(body(), { objectMode: false });
    const finish = (failure: HttpExchangeFailure | undefined, response?: HttpExchangeResponse) => {
      if (settled) return;
      settled = true;
      // Closes the files still open when the answer came early or the call failed.
      source.destroy();
      if (failure) {
        outgoing.destroy();
        reject(errorOf(failure));
      } else {
        if (!outgoing.writableFinished) outgoing.destroy();
        resolve(response as HttpExchangeResponse);
      }
    };
    const outgoing = transport.request(request.url, { method: request.method, headers: request.headers });
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
    source.on('error', (error) => finish({ kind: 'body-unreadable', error }));
    // pipe() follows the socket's back-pressure: only a few chunks are ever in memory.
    source.pipe(outgoing);
  });
}
