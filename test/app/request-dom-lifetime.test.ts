import fs from 'node:fs';
import http from 'node:http';
import type { AddressInfo } from 'node:net';
import path from 'node:path';
import { setFlagsFromString } from 'node:v8';
import { runInNewContext } from 'node:vm';
import type { Element } from '@xmldom/xmldom';
import { createSoapEndpoint, type SoapPort } from '../../src/app/soap-endpoint';
import type { OperationContext, OperationHandler } from '../../src/contract/operation-handler';
import { createServiceHandlers, type ServicePortServices } from '../../src/contract/service/operations';
import { createV1Handlers, type V1Services } from '../../src/contract/v1/operations';
import { OWN_BINDING_NAME } from '../../src/contract/wsdl-publisher';
import type { ItemHistoryView, ItemStatusView } from '../../src/domain/model';
import { createLogger } from '../../src/logging/logger';
import { loadOperationTable } from '../../src/soap/operation-table';
import type { ParsedEnvelope } from '../../src/soap/parse-envelope';
import { createDomParser } from '../../src/xml/dom-parser';
import { NS } from '../../src/xml/namespaces';
import { request } from '../support/raw-http';
import { acceptedAsSent, unsignedEndpointDependencies } from '../support/unsigned-endpoint';

/*
 * A request's DOM (some 50 KB for a sendDocument) must not live while the request waits on the domain
 * (the e-Box look-up, the receipt, the database's commit): V8 keeps every local of a suspended async
 * function, and each young-generation collection meanwhile copies what is alive. Here the domain's
 * answer is held back, a full collection is made, and the payload element the policy accepted must be
 * gone. `gc` comes from a context created after --expose-gc is set.
 */
setFlagsFromString('--expose-gc');
const collectGarbage = runInNewContext('gc') as () => void;

const REPO_ROOT = path.resolve(__dirname, '../..');
const SENDER = { cbe: '0861023666', applicationId: 'RegisteredMailSampleSender' };
const TICKET = 'TKT0000000001';

/** A promise settled from outside: the domain's answer, held back until the test has looked. */
function heldBack<T>(): { promise: Promise<T>; release(value: T): void } {
  let release!: (value: T) => void;
  const promise = new Promise<T>((resolve) => {
    release = resolve;
  });
  return { promise, release };
}

/** Collects garbage until `ref` is cleared or a few rounds have passed; whether it was cleared. */
async function clearedAfterCollection(ref: WeakRef<object>): Promise<boolean> {
  for (let round = 0; round < 5 && ref.deref() !== undefined; round += 1) {
    // A new job: a WeakRef keeps its target during the job it was read in.
    await new Promise((resolve) => setImmediate(resolve));
    collectGarbage();
  }
  return ref.deref() === undefined;
}

describe("a request's DOM while the domain works", () => {
  test('the SOAP endpoint and the own port handlers let go of the accepted payload', async () => {
    const history = heldBack<ItemHistoryView>();
    let accepted: WeakRef<Element> | undefined;
    const services = {
      history: () => history.promise,
    } as unknown as ServicePortServices;
    const operations = await loadOperationTable(
      path.join(REPO_ROOT, 'wsdl/RegisteredMailService.wsdl'),
      OWN_BINDING_NAME,
    );
    const port: SoapPort = {
      operations,
      handlers: createServiceHandlers(services),
      async authenticate(envelope: ParsedEnvelope) {
        accepted = new WeakRef(envelope.payload);
        return acceptedAsSent(envelope, SENDER);
      },
      validatePayload: () => undefined,
    };
    const endpoint = createSoapEndpoint(port, unsignedEndpointDependencies());
    const server = http.createServer((incoming, response) => void endpoint(incoming, response));
    await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
    try {
      const url = `http://127.0.0.1:${(server.address() as AddressInfo).port}/RegisteredMailService`;
      const envelope = fs
        .readFileSync(path.join(REPO_ROOT, 'fixtures/service/GetStatus.xml'), 'utf8')
        .replace(/<urn:Ticket>[^<]*<\/urn:Ticket>/, `<urn:Ticket>${TICKET}</urn:Ticket>`);
      const answer = request(url, {
        method: 'POST',
        headers: { 'Content-Type': 'text/xml; charset=utf-8', SOAPAction: '""' },
        body: envelope,
      });
      while (accepted === undefined) await new Promise((resolve) => setImmediate(resolve));
      const cleared = await clearedAfterCollection(accepted);

      history.release({
        ticket: TICKET,
        token: 'token-1',
        status: 'PENDING',
        events: [{ name: 'ACCEPTED', time: new Date('2024-07-01T09:00:00Z'), status: 'PENDING' }],
      });
      const result = await answer;
      expect(cleared).toBe(true);
      expect(result.status).toBe(200);
      expect(result.body.toString()).toContain(TICKET);
    } finally {
      await new Promise((resolve) => server.close(resolve));
    }
  });

  /**
   * Calls `handler` on the payload of the v1 fixture `fixture`, parsed here, and returns only a WeakRef
   * to that payload and the handler's promise: nothing in the test's own frame holds the DOM.
   */
  function callOn(
    handler: OperationHandler,
    fixture: string,
  ): { payload: WeakRef<Element>; answer: Promise<unknown> } {
    const xml = fs.readFileSync(path.join(REPO_ROOT, 'fixtures/v1', fixture), 'utf8');
    const body = createDomParser()
      .parseFromString(xml, 'text/xml')
      .getElementsByTagNameNS(NS.soap11, 'Body')[0];
    const payload = Array.from(body.childNodes).find(
      (node) => node.nodeType === node.ELEMENT_NODE,
    ) as Element;
    const context: OperationContext = {
      payload,
      sender: SENDER,
      attachments: { nextAttachment: async () => undefined, failure: () => undefined },
      xopReferences: new Map(),
      requestId: 'request-1',
      log: createLogger({ silent: true }),
    };
    return { payload: new WeakRef(payload), answer: handler(context) };
  }

  test("the v1 port's handlers let go of the payload once mapped", async () => {
    const status = heldBack<ItemStatusView>();
    const services = {
      status: () => status.promise,
      precheck: () => new Promise<void>(() => undefined),
      openStaging: () => ({ discard: async () => undefined }),
    } as unknown as V1Services;
    const handlers = createV1Handlers(services);

    const getStatus = callOn(handlers.getStatus, 'getStatus.xml');
    expect(await clearedAfterCollection(getStatus.payload)).toBe(true);
    status.release({ ticket: TICKET, token: 'token-1', status: 'PENDING' });
    await expect(getStatus.answer).resolves.toBeDefined();

    // sendDocument waits first for the precheck (the e-Box look-up), which never answers here.
    const sendDocument = callOn(handlers.sendDocument, 'sendDocument-citizen.xml');
    expect(await clearedAfterCollection(sendDocument.payload)).toBe(true);
  });
});
