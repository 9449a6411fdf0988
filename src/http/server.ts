import { readFileSync } from 'node:fs';
import http, { type IncomingMessage, type ServerResponse } from 'node:http';
import https from 'node:https';

/** What the HTTP layer needs from the rest: one handler per kind of request on a port path. */
export interface PortRoutes {
  /** Path the port answers on, e.g. `/RegisteredMail/v1`. */
  path: string;
  /** `GET path?wsdl` and `GET path?xsd=name`: the contract documents (undefined = 404). */
  document(query: URLSearchParams, baseUrl: string): { contentType: string; body: string } | undefined;
  /** `POST path`: a SOAP request. The handler writes the response. */
  soap(request: IncomingMessage, response: ServerResponse, baseUrl: string): Promise<void>;
}

/**
 * A path that takes one method only, each request answered by its handler: `POST /tsa` (the RFC 3161
 * time-stamp authority), `GET /metrics`, `GET /health`. Any other method there is answered 405.
 */
export interface MethodRoute {
  path: string;
  method: 'GET' | 'POST';
  /** Reads the request and writes the response. */
  handle(request: IncomingMessage, response: ServerResponse): Promise<void>;
}

export interface ServerOptions {
  tls: { keyFile: string; certFile: string } | undefined;
  /** RM_PUBLIC_URL: the address clients use; when unset it is derived from the request's Host. */
  publicUrl: string | undefined;
  /** Answers anything that escapes a handler (never a stack trace). */
  onUnhandled(error: unknown, response: ServerResponse): void;
}

function baseUrlOf(request: IncomingMessage, options: ServerOptions): string {
  if (options.publicUrl) return options.publicUrl;
  // The Host header ends up in the served WSDL: accept only what a host[:port] can look like.
  const declared = request.headers.host;
  const host =
    declared && /^[A-Za-z0-9.-]+(?::\d{1,5})?$|^\[[0-9A-Fa-f:.]+\](?::\d{1,5})?$/.test(declared)
      ? declared
      : `localhost:${request.socket.localPort ?? ''}`;
  return `${options.tls ? 'https' : 'http'}://${host}`;
}

/**
 * A plain `node:http` (or `node:https` with RM_TLS_KEY/RM_TLS_CERT) server routing to the ports and to
 * the single-method routes.
 */
export function createHttpServer(
  ports: readonly PortRoutes[],
  options: ServerOptions,
  methodRoutes: readonly MethodRoute[] = [],
): http.Server {
  const listener = (request: IncomingMessage, response: ServerResponse) => {
    const url = new URL(request.url ?? '/', 'http://localhost');
    const methodRoute = methodRoutes.find((candidate) => candidate.path === url.pathname);
    if (methodRoute) {
      if (request.method !== methodRoute.method) {
        response
          .writeHead(405, { Allow: methodRoute.method, 'Content-Type': 'text/plain; charset=utf-8' })
          .end('Method not allowed\n');
        request.resume();
        return;
      }
      methodRoute.handle(request, response).catch((error: unknown) => options.onUnhandled(error, response));
      return;
    }
    const port = ports.find((candidate) => candidate.path === url.pathname);
    const baseUrl = baseUrlOf(request, options);
    if (!port) {
      response.writeHead(404, { 'Content-Type': 'text/plain; charset=utf-8' }).end('Not found\n');
      request.resume();
      return;
    }
    if (request.method === 'GET') {
      try {
        const document = port.document(url.searchParams, baseUrl);
        if (!document)
          response.writeHead(404, { 'Content-Type': 'text/plain; charset=utf-8' }).end('Not found\n');
        else response.writeHead(200, { 'Content-Type': document.contentType }).end(document.body);
      } catch (error) {
        options.onUnhandled(error, response);
      }
      return;
    }
    if (request.method !== 'POST') {
      response
        .writeHead(405, { Allow: 'GET, POST', 'Content-Type': 'text/plain; charset=utf-8' })
        .end('Method not allowed\n');
      request.resume();
      return;
    }
    port.soap(request, response, baseUrl).catch((error: unknown) => options.onUnhandled(error, response));
  };
  if (!options.tls) return http.createServer(listener);
  return https.createServer(
    { key: readFileSync(options.tls.keyFile), cert: readFileSync(options.tls.certFile) },
    listener,
  );
}
