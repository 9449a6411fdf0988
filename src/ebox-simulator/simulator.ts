import { randomUUID } from 'node:crypto';
import http, { type IncomingMessage, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import { systemClock, type Clock } from '../clock/clock';
import { isValidCbe } from '../domain/identifiers/cbe';
import { isValidInss } from '../domain/identifiers/inss';
import { FaultInjector, parseFaultPlan } from './fault-injector';
import { MessageStore } from './message-store';
import type { SimulatedMessage } from './model';
import { loadProfileExceptions, profileOf } from './profiles';
import { EboxRequestError, readPublication, type PublicationLimits } from './publication-request';
import { DEV_CREDENTIALS, TokenIssuer, type ClientCredentials } from './token-issuer';
import { validatePublication } from './validate-publication';

/** How to start the simulator; everything has a default that works for development. */
export interface EboxSimulatorOptions {
  /** 0 (the default) picks a free port. */
  port?: number;
  /** Default 127.0.0.1. */
  host?: string;
  clock?: Clock;
  /** The profile exceptions (fixtures/ebox-profiles.json format); none = every recipient has the default. */
  profilesFile?: string;
  /** Enables `/_test/*` (fault injection, reset, message dump). Never on by default. */
  testControl?: boolean;
  /** JSON-lines file the messages are appended to and reloaded from. */
  dataFile?: string;
  /** The one OAuth2 client accepted; default {@link DEV_CREDENTIALS}. */
  credentials?: ClientCredentials;
  /** Token lifetime, default 3600 s. */
  tokenLifetimeSeconds?: number;
  /** Size limit of one publication (whole body), default 64 MiB. */
  maxPublicationBytes?: number;
  /** Default lifetime of a message that does not set its expirationDate, default 365 days. */
  retentionDays?: number;
}

/** A running simulator. */
export interface EboxSimulator {
  /** Base URL, e.g. `http://127.0.0.1:8090` (the adapter's RM_EBOX_URL). */
  url: string;
  close(): Promise<void>;
  /** Every stored message, in publication order. */
  messages(): SimulatedMessage[];
  /** Marks a message read now (as its recipient opening it would); undefined when unknown. */
  markRead(messageId: string): SimulatedMessage | undefined;
}

const MESSAGE_PATH = /^\/ebox\/messages\/([A-Za-z0-9-]{1,100})$/;
const READ_PATH = /^\/ebox\/messages\/([A-Za-z0-9-]{1,100})\/read$/;
const PROFILE_PATH = /^\/ebox\/profiles\/(citizen|enterprise)\/([^/]{1,40})$/;
const MAX_SMALL_BODY = 64 * 1024;

function sendJson(
  response: ServerResponse,
  status: number,
  body: unknown,
  headers: http.OutgoingHttpHeaders = {},
) {
  response.writeHead(status, { 'Content-Type': 'application/json', ...headers }).end(JSON.stringify(body));
}

function sendError(response: ServerResponse, status: number, code: string, message: string, extra = {}) {
  sendJson(response, status, { id: randomUUID(), code, message, ...extra });
}

/** Reads a small body (forms, JSON), refusing more than {@link MAX_SMALL_BODY}. */
async function readSmallBody(request: IncomingMessage): Promise<string> {
  const chunks: Buffer[] = [];
  let size = 0;
  for await (const chunk of request as AsyncIterable<Buffer>) {
    size += chunk.length;
    if (size > MAX_SMALL_BODY) throw new EboxRequestError(413, 'PAYLOAD_TOO_LARGE', 'body too large');
    chunks.push(chunk);
  }
  return Buffer.concat(chunks, size).toString('utf8');
}

/** Waits until the client has sent its whole body, so that an early answer does not break its upload. */
function drain(request: IncomingMessage): Promise<void> {
  if (request.readableEnded) return Promise.resolve();
  return new Promise((resolve) => {
    request.on('end', resolve).on('close', resolve).on('error', resolve);
    request.resume();
  });
}

function statusView(message: SimulatedMessage) {
  return {
    messageId: message.messageId,
    eboxId: message.eboxId,
    receiptDate: message.receiptDate,
    expirationDate: message.expirationDate,
    readStatus: message.readStatus,
    ...(message.readDate ? { readDate: message.readDate } : {}),
    visible: message.visible,
    registeredMail: message.registeredMail,
  };
}

function searchView(message: SimulatedMessage) {
  return {
    messageId: message.messageId,
    eboxId: message.eboxId,
    expirationDate: message.expirationDate,
    readStatus: message.readStatus,
    ...(message.readDate ? { readDate: message.readDate } : {}),
    visible: message.visible,
  };
}

/**
 * Starts a fake e-Box Message Registry (publication, status, profiles, OAuth2 token) on its own HTTP
 * port. It is an independent stand-in for the external system: it shares no code with the service
 * beyond identifier checks and the Clock.
 */
export async function startEboxSimulator(options: EboxSimulatorOptions = {}): Promise<EboxSimulator> {
  const clock = options.clock ?? systemClock;
  const tokens = new TokenIssuer(
    options.credentials ?? DEV_CREDENTIALS,
    clock,
    options.tokenLifetimeSeconds ?? 3600,
  );
  const profiles = loadProfileExceptions(options.profilesFile);
  const store = new MessageStore(options.dataFile);
  const faults = new FaultInjector();
  const limits: PublicationLimits = {
    maxTotalBytes: options.maxPublicationBytes ?? 64 * 1024 * 1024,
    maxMessageJsonBytes: 1024 * 1024,
    maxParts: 101,
  };
  const retentionMs = (options.retentionDays ?? 365) * 24 * 3600 * 1000;

  async function token(request: IncomingMessage, response: ServerResponse): Promise<void> {
    const form = new URLSearchParams(await readSmallBody(request));
    if (form.get('grant_type') !== 'client_credentials') {
      sendJson(response, 400, { error: 'unsupported_grant_type' });
      return;
    }
    // client_secret_post, or client_secret_basic in the Authorization header.
    let clientId = form.get('client_id') ?? '';
    let clientSecret = form.get('client_secret') ?? '';
    const basic = /^Basic\s+(\S+)$/i.exec(request.headers.authorization ?? '');
    if (basic) {
      const decoded = Buffer.from(basic[1], 'base64').toString('utf8');
      const colon = decoded.indexOf(':');
      clientId = decodeURIComponent(decoded.slice(0, colon));
      clientSecret = decodeURIComponent(decoded.slice(colon + 1));
    }
    const issued = tokens.issue(clientId, clientSecret);
    if (!issued) {
      sendJson(response, 401, { error: 'invalid_client' }, { 'WWW-Authenticate': 'Basic' });
      return;
    }
    sendJson(
      response,
      200,
      { access_token: issued.accessToken, token_type: 'Bearer', expires_in: issued.expiresIn },
      { 'Cache-Control': 'no-store' },
    );
  }

  async function publish(request: IncomingMessage, response: ServerResponse): Promise<void> {
    const idempotencyKey = request.headers['idempotency-key'];
    if (typeof idempotencyKey !== 'string' || idempotencyKey.trim() === '' || idempotencyKey.length > 200) {
      await drain(request);
      sendError(response, 400, 'INVALID_INPUT', 'the Idempotency-Key header is required');
      return;
    }
    const earlier = store.byKey(idempotencyKey);
    if (earlier) {
      await drain(request);
      sendConflict(response, earlier);
      return;
    }
    const received = await readPublication(request, limits);
    const publication = validatePublication(received.messageToPublish, received.parts);
    const recipientId =
      publication.recipient.eboxType === 'citizen'
        ? publication.recipient.ssin
        : publication.recipient.enterpriseNumber;
    const profile = profileOf(profiles, publication.recipient.eboxType, recipientId);
    const now = clock.now();
    const candidate: SimulatedMessage = {
      messageId: randomUUID(),
      idempotencyKey,
      eboxId: recipientId,
      sender: publication.sender,
      recipient: publication.recipient,
      subject: publication.subject,
      messageTypeId: publication.messageTypeId,
      senderApplicationId: publication.senderApplicationId,
      registeredMail: publication.registeredMail,
      receiptDate: now.toISOString(),
      expirationDate: publication.expirationDate ?? new Date(now.getTime() + retentionMs).toISOString(),
      readStatus: 'UNREAD',
      visible: true,
      attachments: publication.attachments,
      ...(profile.exists ? {} : { code: 'NO_DIGITAL_USER' as const }),
    };
    const { stored, message } = store.publish(candidate);
    if (!stored) {
      sendConflict(response, message);
      return;
    }
    sendJson(response, 201, {
      messageId: message.messageId,
      expirationDate: message.expirationDate,
      ...(message.code
        ? { code: message.code, message: `${recipientId} has never opened an e-Box: the message waits there` }
        : {}),
    });
  }

  function sendConflict(response: ServerResponse, earlier: SimulatedMessage): void {
    // The simulator's choice (the public documents leave the 409 body open): name the first publication.
    sendError(response, 409, 'DUPLICATE_IDEMPOTENCY_KEY', 'this Idempotency-Key was already used', {
      messageId: earlier.messageId,
    });
  }

  function search(url: URL, response: ServerResponse): void {
    const key = url.searchParams.get('idempotencyKey');
    const since = url.searchParams.get('since');
    const sinceMs = since === null ? undefined : Date.parse(since);
    if (sinceMs !== undefined && Number.isNaN(sinceMs)) {
      sendError(response, 400, 'INVALID_INPUT', 'since is not a date');
      return;
    }
    const items = store
      .all()
      .filter((message) => key === null || message.idempotencyKey === key)
      .filter(
        (message) =>
          sinceMs === undefined ||
          Date.parse(message.receiptDate) >= sinceMs ||
          (message.readDate !== undefined && Date.parse(message.readDate) >= sinceMs),
      );
    sendJson(response, 200, { items: items.map(searchView) });
  }

  function profile(kind: 'citizen' | 'enterprise', id: string, response: ServerResponse): void {
    if (kind === 'citizen' ? !isValidInss(id) : !isValidCbe(id)) {
      sendError(
        response,
        400,
        'INVALID_INPUT',
        `${id} is not a valid ${kind === 'citizen' ? 'citizen' : 'company'}`,
      );
      return;
    }
    sendJson(response, 200, profileOf(profiles, kind, id));
  }

  async function eboxApi(request: IncomingMessage, response: ServerResponse, url: URL): Promise<void> {
    const fault = faults.take();
    if (fault) {
      if (fault.delayMs > 0) await new Promise((resolve) => setTimeout(resolve, fault.delayMs));
      if (fault.status !== undefined) {
        await drain(request);
        // An injected 409 carries no messageId: the client must recover it through the status search.
        if (fault.status === 429) response.setHeader('Retry-After', '1');
        sendError(response, fault.status, 'INJECTED_FAULT', `injected fault ${fault.status}`);
        return;
      }
    }
    if (!tokens.accepts(request.headers.authorization)) {
      await drain(request);
      response.setHeader('WWW-Authenticate', 'Bearer');
      sendError(response, 401, 'UNAUTHORIZED', 'a valid bearer token is required');
      return;
    }
    const method = request.method ?? 'GET';
    const path = url.pathname;
    if (path === '/ebox/messages' && method === 'POST') return publish(request, response);
    await drain(request);
    if (path === '/ebox/messages' && method === 'GET') return search(url, response);
    const readMatch = READ_PATH.exec(path);
    if (readMatch && method === 'POST') {
      const message = store.markRead(readMatch[1], clock.now());
      if (message) sendJson(response, 200, statusView(message));
      else sendError(response, 404, 'NOT_FOUND', 'no such message');
      return;
    }
    const messageMatch = MESSAGE_PATH.exec(path);
    if (messageMatch && method === 'GET') {
      const message = store.get(messageMatch[1]);
      if (message) sendJson(response, 200, statusView(message));
      else sendError(response, 404, 'NOT_FOUND', 'no such message');
      return;
    }
    const profileMatch = PROFILE_PATH.exec(path);
    if (profileMatch && method === 'GET') {
      profile(profileMatch[1] as 'citizen' | 'enterprise', decodeURIComponent(profileMatch[2]), response);
      return;
    }
    sendError(response, 404, 'NOT_FOUND', 'no such resource');
  }

  async function testControl(
    request: IncomingMessage,
    response: ServerResponse,
    path: string,
  ): Promise<void> {
    const method = request.method ?? 'GET';
    if (path === '/_test/faults' && method === 'POST') {
      let raw: unknown;
      try {
        raw = JSON.parse(await readSmallBody(request));
      } catch {
        raw = undefined;
      }
      const plan = parseFaultPlan(raw);
      if (typeof plan === 'string') sendError(response, 400, 'INVALID_INPUT', plan);
      else {
        faults.program(plan);
        sendJson(response, 200, plan);
      }
      return;
    }
    await drain(request);
    if (path === '/_test/reset' && method === 'POST') {
      faults.reset();
      store.clear();
      sendJson(response, 200, {});
    } else if (path === '/_test/messages' && method === 'GET') {
      sendJson(response, 200, { messages: store.all() });
    } else sendError(response, 404, 'NOT_FOUND', 'no such resource');
  }

  async function route(request: IncomingMessage, response: ServerResponse): Promise<void> {
    const url = new URL(request.url ?? '/', 'http://localhost');
    if (url.pathname === '/oauth2/token' && request.method === 'POST') return token(request, response);
    if (url.pathname.startsWith('/ebox/')) return eboxApi(request, response, url);
    if (options.testControl && url.pathname.startsWith('/_test/'))
      return testControl(request, response, url.pathname);
    await drain(request);
    sendError(response, 404, 'NOT_FOUND', 'no such resource');
  }

  const server = http.createServer((request, response) => {
    route(request, response).catch((error: unknown) => {
      if (response.headersSent) {
        response.destroy();
        return;
      }
      // The rest of a refused body is not read: close the connection once answered.
      request.unpipe();
      request.resume();
      response.setHeader('Connection', 'close');
      if (error instanceof EboxRequestError) sendError(response, error.status, error.code, error.message);
      else sendError(response, 500, 'INTERNAL_ERROR', 'the simulator failed to handle the request');
    });
  });
  await new Promise<void>((resolve, reject) => {
    server.once('error', reject);
    server.listen(options.port ?? 0, options.host ?? '127.0.0.1', () => resolve());
  });
  const address = server.address() as AddressInfo;
  const host = address.family === 'IPv6' ? `[${address.address}]` : address.address;

  return {
    url: `http://${host}:${address.port}`,
    messages: () => structuredClone(store.all()),
    markRead: (messageId) => {
      const message = store.markRead(messageId, clock.now());
      return message && structuredClone(message);
    },
    close: () =>
      new Promise<void>((resolve, reject) => {
        server.close((error) => (error ? reject(error) : resolve()));
        server.closeAllConnections();
      }),
  };
}
