import http, { type IncomingMessage, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import { forwardRequest } from './http-forward';

/*
 * A tap: an HTTP hop in front of an e-Box that forwards every call unchanged and notes each publication
 * (`POST /ebox/messages`) that passes: its Idempotency-Key (the ticket), when it arrived and what the
 * e-Box answered. Giving each service process its own tap as RM_EBOX_URL tells which process published
 * which item, which the e-Box's messages and the service's records do not say.
 */

/** One publication that went through a tap. */
export interface TappedPublication {
  /** The Idempotency-Key: the ticket. */
  ticket: string;
  /** When it reached the tap (`Date.now()`: the clock the service processes on this machine read too). */
  arrivedAt: number;
  /** The e-Box's HTTP status; undefined while unanswered, or when the publisher went away mid-upload. */
  status?: number;
}

/** A running tap of {@link startEboxTap}. */
export interface EboxTap {
  /** Whose calls go through it (for messages). */
  label: string;
  /** The URL to give the service as RM_EBOX_URL. */
  url: string;
  /** The publications that went through, in order of arrival. */
  readonly publications: readonly TappedPublication[];
  close(): Promise<void>;
}

/** Starts a tap in front of `targetUrl` (the e-Box's base URL), on a free port of 127.0.0.1. */
export async function startEboxTap(targetUrl: string, label: string): Promise<EboxTap> {
  const target = new URL(targetUrl);
  const publications: TappedPublication[] = [];

  function forward(request: IncomingMessage, response: ServerResponse, noted?: TappedPublication): void {
    forwardRequest(target, request, response, (status) => {
      if (noted) noted.status = status;
    });
  }

  const server = http.createServer((request, response) => {
    const key = request.headers['idempotency-key'];
    if (request.method === 'POST' && request.url === '/ebox/messages' && typeof key === 'string') {
      const noted: TappedPublication = { ticket: key, arrivedAt: Date.now() };
      publications.push(noted);
      forward(request, response, noted);
    } else forward(request, response);
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const { port } = server.address() as AddressInfo;
  return {
    label,
    url: `http://127.0.0.1:${port}`,
    publications,
    close: () =>
      new Promise<void>((resolve) => {
        server.close(() => resolve());
        server.closeAllConnections();
      }),
  };
}
