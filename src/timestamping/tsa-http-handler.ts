import type { IncomingMessage, ServerResponse } from 'node:http';

/** Where the embedded TSA answers RFC 3161 requests over HTTP. */
export const TSA_PATH = '/tsa';

/** Default cap of a request body: a TimeStampReq is about a hundred bytes. */
export const MAX_TIME_STAMP_REQUEST_BYTES = 64 * 1024;

const QUERY_TYPE = 'application/timestamp-query';
const REPLY_TYPE = 'application/timestamp-reply';

/** What the handler needs of a TSA: an answer (a DER TimeStampResp) to a DER TimeStampReq. */
export interface TimeStampResponder {
  respond(requestDer: Buffer): Promise<Buffer>;
}

/**
 * The RFC 3161 HTTP binding (section 3.4) of a TSA: `POST` with Content-Type
 * application/timestamp-query, answered with application/timestamp-reply. Whatever the TSA refuses is
 * still a 200 with a TimeStampResp that says so; a wrong content type is 415 and a body over the cap 413.
 */
export function createTsaHttpHandler(
  tsa: TimeStampResponder,
  options: { maxRequestBytes?: number } = {},
): (request: IncomingMessage, response: ServerResponse) => Promise<void> {
  const maxRequestBytes = options.maxRequestBytes ?? MAX_TIME_STAMP_REQUEST_BYTES;
  return async (request, response) => {
    const mediaType = (request.headers['content-type'] ?? '').split(';')[0].trim().toLowerCase();
    if (mediaType !== QUERY_TYPE) {
      refuse(request, response, 415, `Content-Type must be ${QUERY_TYPE}\n`);
      return;
    }
    const declared = Number(request.headers['content-length']);
    if (Number.isFinite(declared) && declared > maxRequestBytes) {
      refuse(request, response, 413, `a time-stamp request has at most ${maxRequestBytes} bytes\n`);
      return;
    }
    const body = await readBody(request, maxRequestBytes);
    if (body === 'too large') {
      refuse(request, response, 413, `a time-stamp request has at most ${maxRequestBytes} bytes\n`);
      return;
    }
    if (body === 'broken') return;
    const reply = await tsa.respond(body);
    response.writeHead(200, { 'Content-Type': REPLY_TYPE, 'Cache-Control': 'no-store' }).end(reply);
  };
}

function refuse(request: IncomingMessage, response: ServerResponse, status: number, text: string): void {
  // Closing the connection keeps the client from sending the rest of an unwanted body.
  response.writeHead(status, { 'Content-Type': 'text/plain; charset=utf-8', Connection: 'close' }).end(text);
  request.resume();
}

/** The request body, or why there is none. */
function readBody(request: IncomingMessage, limit: number): Promise<Buffer | 'too large' | 'broken'> {
  return new Promise((resolve) => {
    const chunks: Buffer[] = [];
    let length = 0;
    const onData = (chunk: Buffer) => {
      length += chunk.length;
      if (length <= limit) {
        chunks.push(chunk);
        return;
      }
      request.off('data', onData);
      resolve('too large');
    };
    request.on('data', onData);
    request.on('end', () => resolve(Buffer.concat(chunks)));
    request.on('error', () => resolve('broken'));
    request.on('aborted', () => resolve('broken'));
  });
}
