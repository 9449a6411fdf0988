import http from 'node:http';
import https from 'node:https';
import type { HttpResult } from './soap-client';

/*
 * HTTP as the integration tests need it beyond soap-client.ts: any header (a junk Host), HTTPS with a
 * test CA, hand-made multipart bodies (wrong encodings, truncation, part order), and requests whose body
 * is still being sent when the answer comes.
 */

/** Options of {@link request}. */
export interface RawRequestOptions {
  method?: 'GET' | 'POST';
  headers?: Record<string, string | number>;
  body?: Buffer | string;
  /** PEM CA certificate(s) trusted for an https URL. */
  ca?: string;
}

function clientFor(url: string): typeof http | typeof https {
  return new URL(url).protocol === 'https:' ? https : http;
}

function collect(response: http.IncomingMessage): Promise<HttpResult> {
  return new Promise((resolve, reject) => {
    const chunks: Buffer[] = [];
    response.on('data', (chunk: Buffer) => chunks.push(chunk));
    response.on('end', () =>
      resolve({ status: response.statusCode ?? 0, headers: response.headers, body: Buffer.concat(chunks) }),
    );
    response.on('error', reject);
  });
}

/** One whole request over http or https; the body (if any) is sent with its Content-Length. */
export function request(url: string, options: RawRequestOptions = {}): Promise<HttpResult> {
  const headers: Record<string, string | number> = { ...options.headers };
  if (options.body !== undefined && headers['Content-Length'] === undefined) {
    headers['Content-Length'] = Buffer.byteLength(options.body);
  }
  return new Promise((resolve, reject) => {
    const outgoing = clientFor(url).request(
      url,
      { method: options.method ?? 'GET', headers, ca: options.ca, agent: false },
      (response) => collect(response).then(resolve, reject),
    );
    outgoing.on('error', reject);
    outgoing.end(options.body);
  });
}

/** A request whose body the test writes piece by piece, and that may be answered before it ends. */
export interface StreamingRequest {
  /** Writes a piece of the body; resolves once it was handed to the socket. */
  write(chunk: Buffer | string): Promise<void>;
  /** Ends the body. */
  end(): void;
  /** The whole response (resolves even when the body was never ended). */
  response: Promise<HttpResult>;
  /** Whether the response headers have arrived. */
  answered(): boolean;
  /** Closes the connection (after the response, or to give up). */
  destroy(): void;
}

/**
 * Opens a POST whose body is written with {@link StreamingRequest.write}: with a `Content-Length` in
 * `headers` the server expects that many bytes, without one the body is chunked. Errors of the outgoing
 * side after the answer (the server closing a connection it no longer reads) are ignored.
 */
export function openStreamingRequest(
  url: string,
  headers: Record<string, string | number>,
): StreamingRequest {
  let answered = false;
  let resolveResponse: (result: HttpResult) => void = () => undefined;
  let rejectResponse: (error: Error) => void = () => undefined;
  const response = new Promise<HttpResult>((resolve, reject) => {
    resolveResponse = resolve;
    rejectResponse = reject;
  });
  const outgoing = http.request(url, { method: 'POST', headers, agent: false }, (incoming) => {
    answered = true;
    collect(incoming).then(resolveResponse, rejectResponse);
  });
  outgoing.on('error', (error) => {
    if (!answered) rejectResponse(error);
  });
  outgoing.flushHeaders();
  return {
    write: (chunk) =>
      new Promise((resolve, reject) => {
        if (answered || outgoing.destroyed) return resolve();
        outgoing.write(chunk, (error) => (error && !answered ? reject(error) : resolve()));
      }),
    end: () => outgoing.end(),
    response,
    answered: () => answered,
    destroy: () => outgoing.destroy(),
  };
}

/** A part of a hand-made multipart body: raw header lines and content. */
export interface RawPart {
  /** Header lines without CRLF, e.g. `Content-ID: <doc@x>`. */
  headers: string[];
  content: Buffer | string;
}

/**
 * A `multipart/related; type="text/xml"` body built part by part, for the MIME cases the regular
 * builder does not produce. `closing: false` leaves out the closing delimiter (a truncated body).
 */
export function multipartRelated(
  parts: readonly RawPart[],
  options: { boundary?: string; start?: string; closing?: boolean } = {},
): { contentType: string; body: Buffer } {
  const boundary = options.boundary ?? 'MIMEBoundary_raw_0123456789';
  const chunks: Buffer[] = [];
  for (const part of parts) {
    chunks.push(Buffer.from(`--${boundary}\r\n${part.headers.map((line) => `${line}\r\n`).join('')}\r\n`));
    chunks.push(Buffer.from(part.content), Buffer.from('\r\n'));
  }
  if (options.closing ?? true) chunks.push(Buffer.from(`--${boundary}--\r\n`));
  const start = options.start === undefined ? '' : `; start="${options.start}"`;
  return {
    contentType: `multipart/related; type="text/xml"; boundary="${boundary}"${start}`,
    body: Buffer.concat(chunks),
  };
}

/** The root part of a SOAP with Attachments request, as {@link multipartRelated} takes it. */
export function envelopePart(envelope: string | Buffer, contentId = 'root.message@test'): RawPart {
  return {
    headers: [
      'Content-Type: text/xml; charset=UTF-8',
      'Content-Transfer-Encoding: 8bit',
      `Content-ID: <${contentId}>`,
    ],
    content: envelope,
  };
}

/** An attachment part, binary unless told otherwise. */
export function attachmentPart(
  contentId: string,
  content: Buffer | string,
  options: { contentType?: string; transferEncoding?: string } = {},
): RawPart {
  return {
    headers: [
      `Content-Type: ${options.contentType ?? 'application/pdf'}`,
      `Content-Transfer-Encoding: ${options.transferEncoding ?? 'binary'}`,
      `Content-ID: <${contentId}>`,
    ],
    content,
  };
}
