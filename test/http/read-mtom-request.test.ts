import { createHash, randomBytes } from 'node:crypto';
import http from 'node:http';
import type { AddressInfo } from 'node:net';
import { readSoapRequest, type SoapRequestLimits } from '../../src/http/mime/read-soap-request';
import { ServiceError } from '../../src/errors/service-error';
import { openStreamingRequest, request } from '../support/raw-http';

/*
 * readSoapRequest on hand-written MTOM (XOP) requests over a real HTTP connection, in the forms JAX-WS RI
 * (Metro) and Apache CXF send for SOAP 1.1, next to SwA and plain text/xml; the attachment parts are read
 * as SwA parts, streamed and under the same limits.
 */

const ENVELOPE =
  '<S:Envelope xmlns:S="http://schemas.xmlsoap.org/soap/envelope/"><S:Body><m:Upload xmlns:m="urn:m">' +
  '<m:Content><xop:Include xmlns:xop="http://www.w3.org/2004/08/xop/include" href="cid:doc@x"/></m:Content>' +
  '</m:Upload></S:Body></S:Envelope>';

const DEFAULT_LIMITS: SoapRequestLimits = {
  maxRequestBytes: 8 * 1024 * 1024,
  maxParts: 16,
  maxEnvelopeBytes: 64 * 1024,
};

interface ReadPart {
  contentId: string;
  contentType: string;
  size: number;
  sha256: string;
}

/** What the server read, or the fault it would answer. */
type Outcome =
  | { envelope: string; soapAction?: string; multipart: boolean; xop: boolean; parts: ReadPart[] }
  | { code: string; message: string };

function sha256(content: Buffer): string {
  return createHash('sha256').update(content).digest('hex');
}

/** One MIME part: raw header lines and content. */
interface Part {
  headers: string[];
  content: Buffer | string;
}

function multipartBody(boundary: string, parts: readonly Part[], preamble = ''): Buffer {
  const chunks: Buffer[] = [Buffer.from(preamble)];
  for (const part of parts) {
    chunks.push(Buffer.from(`--${boundary}\r\n${part.headers.map((line) => `${line}\r\n`).join('')}\r\n`));
    chunks.push(Buffer.from(part.content), Buffer.from('\r\n'));
  }
  chunks.push(Buffer.from(`--${boundary}--\r\n`));
  return Buffer.concat(chunks);
}

/** An XOP request as CXF 3/4 sends it for SOAP 1.1 (a CRLF before the first boundary included). */
function cxfRequest(
  parts: Array<{ contentId: string; content: Buffer }>,
  options: { rootType?: string; envelope?: string } = {},
): { contentType: string; body: Buffer } {
  const boundary = 'uuid:5b4c3f7e-1d2a-4c61-9a53-0d7c2e1f9b10';
  const root: Part = {
    headers: [
      `Content-Type: ${options.rootType ?? 'application/xop+xml; charset=UTF-8; type="text/xml"'}`,
      'Content-Transfer-Encoding: binary',
      'Content-ID: <root.message@cxf.apache.org>',
    ],
    content: options.envelope ?? ENVELOPE,
  };
  const attachments = parts.map((part) => ({
    headers: [
      'Content-Type: application/octet-stream',
      'Content-Transfer-Encoding: binary',
      `Content-ID: <${part.contentId}>`,
    ],
    content: part.content,
  }));
  return {
    contentType:
      `multipart/related; type="application/xop+xml"; boundary="${boundary}"; ` +
      'start="<root.message@cxf.apache.org>"; start-info="text/xml"',
    body: multipartBody(boundary, [root, ...attachments], '\r\n'),
  };
}

describe('readSoapRequest with MTOM/XOP', () => {
  let server: http.Server;
  let url: string;
  let limits = DEFAULT_LIMITS;
  /** Called once the envelope was read, before any attachment is. */
  let onEnvelope: () => Promise<void> = async () => undefined;

  async function serve(incomingRequest: http.IncomingMessage): Promise<Outcome> {
    const incoming = await readSoapRequest(incomingRequest, limits);
    await onEnvelope();
    const parts: ReadPart[] = [];
    for (let part = await incoming.nextAttachment(); part; part = await incoming.nextAttachment()) {
      const chunks: Buffer[] = [];
      try {
        for await (const chunk of part.content) chunks.push(chunk as Buffer);
      } catch (error) {
        throw incoming.failure() ?? error;
      }
      const content = Buffer.concat(chunks);
      parts.push({
        contentId: part.contentId,
        contentType: part.contentType,
        size: content.length,
        sha256: sha256(content),
      });
    }
    return {
      envelope: incoming.envelope.toString('utf8'),
      soapAction: incoming.soapAction,
      multipart: incoming.multipart,
      xop: incoming.xop,
      parts,
    };
  }

  beforeAll(async () => {
    server = http.createServer((incomingRequest, response) => {
      serve(incomingRequest)
        .catch((error: unknown) =>
          error instanceof ServiceError
            ? { code: error.code, message: error.message }
            : { code: 'unexpected', message: String(error) },
        )
        .then((outcome) => {
          const body = JSON.stringify(outcome);
          response.writeHead(200, { 'Content-Type': 'application/json', Connection: 'close' }).end(body);
          // Whatever was not read is drained, so that the client can finish sending.
          incomingRequest.unpipe();
          incomingRequest.resume();
        });
    });
    await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
    url = `http://127.0.0.1:${(server.address() as AddressInfo).port}/`;
  });
  afterAll(async () => {
    await new Promise((resolve) => server.close(resolve));
  });
  afterEach(() => {
    limits = DEFAULT_LIMITS;
    onEnvelope = async () => undefined;
  });

  async function post(contentType: string, body: Buffer | string, soapAction = '""'): Promise<Outcome> {
    const result = await request(url, {
      method: 'POST',
      headers: { 'Content-Type': contentType, SOAPAction: soapAction },
      body,
    });
    return JSON.parse(result.body.toString('utf8')) as Outcome;
  }

  it('reads a JAX-WS RI (Metro) request: Content-Id, start with the rootpart* id, parameters unspaced', async () => {
    const document = randomBytes(5000);
    const boundary = 'uuid:b0ef6adc-44fa-47ba-a7a7-95915eb54d9e';
    const rootId = 'rootpart*b0ef6adc-44fa-47ba-a7a7-95915eb54d9e@example.jaxws.sun.com';
    const envelope = `<?xml version='1.0' encoding='UTF-8'?>${ENVELOPE}`;
    const body = multipartBody(boundary, [
      {
        headers: [
          `Content-Id: <${rootId}>`,
          'Content-Type: application/xop+xml;charset=utf-8;type="text/xml"',
          'Content-Transfer-Encoding: binary',
        ],
        content: envelope,
      },
      {
        headers: [
          'Content-Id: <2f3a859b-6cdb-4eba-8163-0365521f094c@example.jaxws.sun.com>',
          'Content-Type: application/octet-stream',
          'Content-Transfer-Encoding: binary',
        ],
        content: document,
      },
    ]);
    const contentType = `multipart/related;start="<${rootId}>";type="application/xop+xml";boundary="${boundary}";start-info="text/xml"`;

    expect(await post(contentType, body, '"urn:upload"')).toEqual({
      envelope,
      soapAction: 'urn:upload',
      multipart: true,
      xop: true,
      parts: [
        {
          contentId: '2f3a859b-6cdb-4eba-8163-0365521f094c@example.jaxws.sun.com',
          contentType: 'application/octet-stream',
          size: 5000,
          sha256: sha256(document),
        },
      ],
    });
  });

  it('reads a CXF request: spaced parameters, a leading CRLF, several attachments in order', async () => {
    const first = randomBytes(3000);
    const second = randomBytes(10);
    const built = cxfRequest([
      { contentId: '0c1d-1@cxf.apache.org', content: first },
      { contentId: '0c1d-2@cxf.apache.org', content: second },
    ]);
    const outcome = await post(built.contentType, built.body);
    expect(outcome).toMatchObject({ envelope: ENVELOPE, multipart: true, xop: true });
    expect('parts' in outcome && outcome.parts).toEqual([
      {
        contentId: '0c1d-1@cxf.apache.org',
        contentType: 'application/octet-stream',
        size: 3000,
        sha256: sha256(first),
      },
      {
        contentId: '0c1d-2@cxf.apache.org',
        contentType: 'application/octet-stream',
        size: 10,
        sha256: sha256(second),
      },
    ]);
  });

  it('accepts Content-IDs and start without angle brackets, and an XOP root without start or type', async () => {
    const document = randomBytes(100);
    const boundary = 'MIME_boundary';
    const parts: Part[] = [
      {
        headers: ['Content-Type: application/xop+xml; type="text/xml"', 'Content-ID: root@x'],
        content: ENVELOPE,
      },
      { headers: ['Content-Type: application/pdf', 'Content-ID: doc@x'], content: document },
    ];
    const withStart = await post(
      `multipart/related; type="application/xop+xml"; start="root@x"; boundary=${boundary}`,
      multipartBody(boundary, parts),
    );
    expect(withStart).toMatchObject({ xop: true, parts: [{ contentId: 'doc@x', sha256: sha256(document) }] });

    const bare = await post(`multipart/related; boundary=${boundary}`, multipartBody(boundary, parts));
    expect(bare).toMatchObject({
      xop: true,
      parts: [{ contentId: 'doc@x', contentType: 'application/pdf' }],
    });
  });

  it('reports xop false for SwA and for a single text/xml envelope', async () => {
    const boundary = 'b1';
    const swa = multipartBody(boundary, [
      { headers: ['Content-Type: text/xml; charset=UTF-8', 'Content-ID: <root@x>'], content: ENVELOPE },
      { headers: ['Content-Type: application/pdf', 'Content-ID: <doc@x>'], content: 'pdf' },
    ]);
    expect(
      await post(`multipart/related; type="text/xml"; start="<root@x>"; boundary=${boundary}`, swa),
    ).toMatchObject({ multipart: true, xop: false, parts: [{ contentId: 'doc@x', size: 3 }] });
    expect(await post('text/xml; charset=UTF-8', ENVELOPE)).toEqual({
      envelope: ENVELOPE,
      soapAction: '',
      multipart: false,
      xop: false,
      parts: [],
    });
  });

  it('streams a 2 MiB attachment: the envelope is handed over while the attachment is still being sent', async () => {
    const document = randomBytes(2 * 1024 * 1024);
    const built = cxfRequest([{ contentId: 'big@cxf.apache.org', content: document }]);
    const attachmentStart = built.body.indexOf(document.subarray(0, 64));
    const sentFirst = attachmentStart + 64 * 1024;
    let envelopeSeen: () => void = () => undefined;
    const envelopeRead = new Promise<void>((resolve) => (envelopeSeen = resolve));
    onEnvelope = async () => {
      envelopeSeen();
    };

    const outgoing = openStreamingRequest(url, { 'Content-Type': built.contentType, SOAPAction: '""' });
    await outgoing.write(built.body.subarray(0, sentFirst));
    // Only the first 64 KiB of the attachment were sent: a reader that waited for the whole body would
    // never get here.
    await envelopeRead;
    for (let offset = sentFirst; offset < built.body.length; offset += 256 * 1024) {
      await outgoing.write(built.body.subarray(offset, Math.min(offset + 256 * 1024, built.body.length)));
    }
    outgoing.end();
    const outcome = JSON.parse((await outgoing.response).body.toString('utf8')) as Outcome;
    outgoing.destroy();

    expect(outcome).toMatchObject({
      xop: true,
      parts: [{ contentId: 'big@cxf.apache.org', size: document.length, sha256: sha256(document) }],
    });
  });

  describe('refusals', () => {
    const refused: Array<[string, () => { contentType: string; body: Buffer }, string, RegExp]> = [
      [
        'an XOP root holding a SOAP 1.2 envelope (type="application/soap+xml")',
        () => cxfRequest([], { rootType: 'application/xop+xml; charset=UTF-8; type="application/soap+xml"' }),
        'SOA-03002',
        /SOAP 1.2 is not supported/,
      ],
      [
        'an XOP root whose type is not an envelope type',
        () => cxfRequest([], { rootType: 'application/xop+xml; charset=UTF-8; type="application/json"' }),
        'SOA-03002',
        /XOP root part type application\/json is not text\/xml/,
      ],
      [
        'an XOP root without its type parameter',
        () => cxfRequest([], { rootType: 'application/xop+xml; charset=UTF-8' }),
        'SOA-03001',
        /without a type parameter/,
      ],
      [
        'start-info="application/soap+xml" (SOAP 1.2 MTOM)',
        () => {
          const built = cxfRequest([]);
          return {
            ...built,
            contentType: built.contentType.replace(
              'start-info="text/xml"',
              'start-info="application/soap+xml"',
            ),
          };
        },
        'SOA-03002',
        /SOAP 1.2 is not supported/,
      ],
      [
        'type="application/xop+xml" with a text/xml root part',
        () => cxfRequest([], { rootType: 'text/xml; charset=UTF-8' }),
        'SOA-03001',
        /root part Content-Type text\/xml is not the declared application\/xop\+xml/,
      ],
      [
        'type="text/xml" with an application/xop+xml root part',
        () => {
          const built = cxfRequest([]);
          return {
            ...built,
            contentType: built.contentType.replace('type="application/xop+xml"', 'type="text/xml"'),
          };
        },
        'SOA-03001',
        /not the declared text\/xml/,
      ],
      [
        'a root part in Content-Transfer-Encoding base64',
        () => {
          const built = cxfRequest([], { envelope: Buffer.from(ENVELOPE).toString('base64') });
          return {
            ...built,
            body: Buffer.from(built.body.toString('latin1').replace('binary', 'base64'), 'latin1'),
          };
        },
        'SOA-03001',
        /Content-Transfer-Encoding base64 is not supported/,
      ],
      [
        'an attachment in Content-Transfer-Encoding base64',
        () => {
          const built = cxfRequest([{ contentId: 'doc@x', content: Buffer.from('cGRm') }]);
          const text = built.body.toString('latin1');
          const at = text.lastIndexOf('Content-Transfer-Encoding: binary');
          const body = text.slice(0, at) + 'Content-Transfer-Encoding: base64' + text.slice(at + 33);
          return { ...built, body: Buffer.from(body, 'latin1') };
        },
        'SOA-03001',
        /Content-Transfer-Encoding base64 is not supported/,
      ],
    ];

    it.each(refused)('refuses %s', async (_name, build, code, message) => {
      const built = build();
      const outcome = await post(built.contentType, built.body);
      expect(outcome).toMatchObject({ code });
      expect('message' in outcome && outcome.message).toMatch(message);
    });

    it('applies maxEnvelopeBytes to the XOP root part', async () => {
      limits = { ...DEFAULT_LIMITS, maxEnvelopeBytes: 100 };
      const built = cxfRequest([]);
      expect(await post(built.contentType, built.body)).toEqual({
        code: 'SOA-03001',
        message: 'Malformed message: envelope larger than the limit of 100 bytes',
      });
    });

    it('applies maxParts to the parts of an XOP package', async () => {
      limits = { ...DEFAULT_LIMITS, maxParts: 2 };
      const built = cxfRequest([
        { contentId: 'a@x', content: Buffer.from('a') },
        { contentId: 'b@x', content: Buffer.from('b') },
      ]);
      expect(await post(built.contentType, built.body)).toEqual({
        code: 'SOA-03001',
        message: 'Malformed message: more MIME parts than the limit of 2',
      });
    });

    it('applies maxRequestBytes while a chunked XOP attachment streams in', async () => {
      limits = { ...DEFAULT_LIMITS, maxRequestBytes: 1024 * 1024 };
      const built = cxfRequest([{ contentId: 'big@x', content: randomBytes(2 * 1024 * 1024) }]);
      const outgoing = openStreamingRequest(url, { 'Content-Type': built.contentType, SOAPAction: '""' });
      for (let offset = 0; offset < built.body.length && !outgoing.answered(); offset += 64 * 1024) {
        await outgoing.write(built.body.subarray(offset, offset + 64 * 1024));
      }
      if (!outgoing.answered()) outgoing.end();
      const outcome = JSON.parse((await outgoing.response).body.toString('utf8')) as Outcome;
      outgoing.destroy();
      expect(outcome).toEqual({
        code: 'SOA-03001',
        message: 'Malformed message: request larger than the limit of 1048576 bytes',
      });
    });
  });
});
