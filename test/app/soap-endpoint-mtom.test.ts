import { createHash, randomBytes } from 'node:crypto';
import fs from 'node:fs';
import http from 'node:http';
import type { AddressInfo } from 'node:net';
import path from 'node:path';
import type { Element } from '@xmldom/xmldom';
import type { OperationContext } from '../../src/contract/operation-handler';
import { OWN_BINDING_NAME } from '../../src/contract/wsdl-publisher';
import { PayloadValidator } from '../../src/contract/xsd-validator';
import { createSoapEndpoint, type SoapPort } from '../../src/app/soap-endpoint';
import type { ParsedEnvelope } from '../../src/soap/parse-envelope';
import { loadOperationTable, type OperationBinding } from '../../src/soap/operation-table';
import { XOP_NAMESPACE } from '../../src/soap/xop-includes';
import { createPayloadElement } from '../../src/xml/payload-element';
import { expectFault } from '../support/fault-assertions';
import { request } from '../support/raw-http';
import { acceptedAsSent, unsignedEndpointDependencies } from '../support/unsigned-endpoint';
import type { HttpResult } from '../support/soap-client';

/*
 * The SOAP endpoint with an MTOM port (the own port's WSDL and XSD, the real pipeline) and without one:
 * XOP Includes reach the policy as sent, are taken out before XSD validation, and are handed to the
 * handler as xopReferences. The port's authentication is a stand-in that accepts every envelope (the
 * policy is tested elsewhere) and notes what it saw.
 */

const REPO_ROOT = path.resolve(__dirname, '../..');
const SAMPLE = fs.readFileSync(
  path.join(REPO_ROOT, 'fixtures/service/SendRegisteredMail-citizen.xml'),
  'utf8',
);
const SERVICE_NS = 'urn:registeredmail:service:v1';
const SENDER = { cbe: '0861023666', applicationId: 'RegisteredMailSampleSender' };

function include(contentId: string): string {
  return `<xop:Include xmlns:xop="${XOP_NAMESPACE}" href="cid:${contentId}"/>`;
}

/** The sample with its Contents (Document, then annexes) replaced by Includes of `contentIds`. */
function mtomEnvelope(contentIds: readonly string[]): string {
  let index = 0;
  return SAMPLE.replace(
    /<urn:Content>[^<]*<\/urn:Content>/g,
    () => `<urn:Content>${include(contentIds[index++])}</urn:Content>`,
  );
}

function xopRequest(
  envelope: string,
  parts: Array<{ contentId: string; content: Buffer }>,
): { contentType: string; body: Buffer } {
  const boundary = 'uuid:0b5e4a52-7c0f-4f55-8d44-2a7f9d1e3c21';
  const chunks: Buffer[] = [
    Buffer.from(
      `--${boundary}\r\nContent-Type: application/xop+xml; charset=UTF-8; type="text/xml"\r\n` +
        `Content-Transfer-Encoding: binary\r\nContent-ID: <root.message@cxf.apache.org>\r\n\r\n${envelope}\r\n`,
    ),
  ];
  for (const part of parts) {
    chunks.push(
      Buffer.from(
        `--${boundary}\r\nContent-Type: application/octet-stream\r\nContent-Transfer-Encoding: binary\r\n` +
          `Content-ID: <${part.contentId}>\r\n\r\n`,
      ),
      part.content,
      Buffer.from('\r\n'),
    );
  }
  chunks.push(Buffer.from(`--${boundary}--\r\n`));
  return {
    contentType: `multipart/related; type="application/xop+xml"; boundary="${boundary}"; start="<root.message@cxf.apache.org>"; start-info="text/xml"`,
    body: Buffer.concat(chunks),
  };
}

/** What the handler saw: each reference as (parent's local name, grandparent's, Content-ID), and the parts. */
interface Seen {
  references: Array<[string, string, string]>;
  contentsEmpty: boolean;
  /** Each Content of the payload looked up in xopReferences (the keys are the payload's own nodes). */
  byContent: Array<string | undefined>;
  parts: Array<{ contentId: string; sha256: string }>;
}

describe('SOAP endpoint with MTOM', () => {
  let validator: PayloadValidator;
  let operations: OperationBinding[];
  const servers: http.Server[] = [];
  let includesAtAuthentication: number[] = [];
  let seen: Seen[] = [];

  async function handler(context: OperationContext) {
    const references = [...context.xopReferences.entries()].map(
      ([element, contentId]): [string, string, string] => [
        element.localName ?? '',
        (element.parentNode as Element | null)?.localName ?? '',
        contentId,
      ],
    );
    const parts: Seen['parts'] = [];
    for (
      let part = await context.attachments.nextAttachment();
      part;
      part = await context.attachments.nextAttachment()
    ) {
      const hash = createHash('sha256');
      for await (const chunk of part.content) hash.update(chunk as Buffer);
      parts.push({ contentId: part.contentId, sha256: hash.digest('hex') });
    }
    seen.push({
      references,
      contentsEmpty: [...context.xopReferences.keys()].every((element) => element.childNodes.length === 0),
      byContent: Array.from(context.payload.getElementsByTagNameNS(SERVICE_NS, 'Content')).map((content) =>
        context.xopReferences.get(content),
      ),
      parts,
    });
    return { payload: createPayloadElement('urn:test', 'r:Done'), attachments: [] };
  }

  async function startEndpoint(mtom: boolean | undefined): Promise<string> {
    const port: SoapPort = {
      operations,
      handlers: Object.fromEntries(operations.map((operation) => [operation.name, handler])),
      async authenticate(envelope: ParsedEnvelope) {
        includesAtAuthentication.push(
          envelope.payload.getElementsByTagNameNS(XOP_NAMESPACE, 'Include').length,
        );
        return acceptedAsSent(envelope, SENDER);
      },
      validatePayload: (payload) => validator.validateElement(payload),
      ...(mtom === undefined ? {} : { mtom }),
    };
    const endpoint = createSoapEndpoint(port, unsignedEndpointDependencies());
    const server = http.createServer((incoming, response) => void endpoint(incoming, response));
    servers.push(server);
    await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
    return `http://127.0.0.1:${(server.address() as AddressInfo).port}/RegisteredMailService`;
  }

  function post(url: string, built: { contentType: string; body: Buffer | string }): Promise<HttpResult> {
    return request(url, {
      method: 'POST',
      headers: { 'Content-Type': built.contentType, SOAPAction: '""' },
      body: built.body,
    });
  }

  let mtomUrl: string;
  let plainUrl: string;

  beforeAll(async () => {
    validator = await PayloadValidator.load(path.join(REPO_ROOT, 'xsd'));
    operations = await loadOperationTable(
      path.join(REPO_ROOT, 'wsdl/RegisteredMailService.wsdl'),
      OWN_BINDING_NAME,
    );
    mtomUrl = await startEndpoint(true);
    plainUrl = await startEndpoint(undefined);
  });
  afterAll(async () => {
    validator.dispose();
    await Promise.all(servers.map((server) => new Promise((resolve) => server.close(resolve))));
  });
  beforeEach(() => {
    includesAtAuthentication = [];
    seen = [];
  });

  it('authenticates the Includes as sent, validates without them, and hands their parts over', async () => {
    const contents = [randomBytes(4000), randomBytes(100), randomBytes(50)];
    const ids = ['document@cxf.apache.org', 'annex-1@cxf.apache.org', 'annex-2@cxf.apache.org'];
    const result = await post(
      mtomUrl,
      xopRequest(
        mtomEnvelope(ids),
        ids.map((contentId, index) => ({ contentId, content: contents[index] })),
      ),
    );

    expect(result.status).toBe(200);
    expect(includesAtAuthentication).toEqual([3]);
    expect(seen).toEqual([
      {
        references: [
          ['Content', 'Document', ids[0]],
          ['Content', 'Annex', ids[1]],
          ['Content', 'Annex', ids[2]],
        ],
        contentsEmpty: true,
        byContent: ids,
        parts: ids.map((contentId, index) => ({
          contentId,
          sha256: createHash('sha256').update(contents[index]).digest('hex'),
        })),
      },
    ]);
  });

  it('hands an empty xopReferences for a plain text/xml request with inline base64', async () => {
    const result = await post(mtomUrl, { contentType: 'text/xml; charset=UTF-8', body: SAMPLE });
    expect(result.status).toBe(200);
    expect(seen).toEqual([
      { references: [], contentsEmpty: true, byContent: [undefined, undefined, undefined], parts: [] },
    ]);
  });

  it('does not resolve Includes outside an XOP package: the XSD refuses them (SOA-03006)', async () => {
    const result = await post(mtomUrl, {
      contentType: 'text/xml; charset=UTF-8',
      body: mtomEnvelope(['a@x', 'b@x', 'c@x']),
    });
    expectFault(result, { code: 'SOA-03006', kind: 'SystemError', message: /Content/ });
    expect(seen).toEqual([]);
  });

  it('refuses a malformed Include after authentication with SOA-03001', async () => {
    const envelope = mtomEnvelope(['a@x', 'b@x', 'c@x']).replace(
      `href="cid:a@x"`,
      'href="http://example.com/a"',
    );
    const result = await post(mtomUrl, xopRequest(envelope, []));
    expectFault(result, { code: 'SOA-03001', kind: 'SystemError', message: /not a cid: URL/ });
    expect(includesAtAuthentication).toEqual([3]);
    expect(seen).toEqual([]);
  });

  it('refuses two Includes of the same part with FILE_B04', async () => {
    const result = await post(mtomUrl, xopRequest(mtomEnvelope(['a@x', 'b@x', 'a@x']), []));
    expectFault(result, { code: 'FILE_B04', kind: 'BusinessError' });
    expect(seen).toEqual([]);
  });

  it('a port without mtom refuses an XOP package before authentication, as it always did (SOA-03001)', async () => {
    const ids = ['a@x', 'b@x', 'c@x'];
    const result = await post(
      plainUrl,
      xopRequest(
        mtomEnvelope(ids),
        ids.map((contentId) => ({ contentId, content: randomBytes(10) })),
      ),
    );
    expectFault(result, {
      code: 'SOA-03001',
      kind: 'SystemError',
      message: 'Malformed message: multipart/related root type application/xop+xml is not supported',
    });
    expect(includesAtAuthentication).toEqual([]);
    expect(seen).toEqual([]);
  });
});
