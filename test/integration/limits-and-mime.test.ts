import { storedState } from '../support/data-dir-state';
import { expectFault, type ExpectedFault } from '../support/fault-assertions';
import {
  attachmentPart,
  envelopePart,
  multipartRelated,
  openStreamingRequest,
  type RawPart,
} from '../support/raw-http';
import { startTestService, type TestService } from '../support/service-fixture';
import { buildSwaRequest, post, type HttpResult } from '../support/soap-client';
import {
  getStatusEnvelope,
  partsOf,
  samplePdf,
  sendDocumentEnvelope,
  type SendDocumentSpec,
  type TestFile,
} from '../support/v1-requests';

/*
 * The request limits (each a SOA-03001 whose message names the limit) and the MIME rules of SOAP with
 * Attachments, over real HTTP. Attachments are read only after the envelope was authenticated: a refused
 * request is answered while its client is still sending, and nothing of it is spooled.
 */

function malformed(message: RegExp): ExpectedFault {
  return { code: 'SOA-03001', kind: 'SystemError', message };
}

function spec(token: string, document: Partial<TestFile> = {}, annexes: TestFile[] = []): SendDocumentSpec {
  return {
    token,
    recipient: { kind: 'citizen', inss: '85073003328' },
    document: { content: samplePdf(token), contentId: 'document@test', ...document },
    annexes,
  };
}

/** The parts of a SwA request as hand-made parts (envelope first), for {@link multipartRelated}. */
function rawParts(envelope: string, request: SendDocumentSpec): RawPart[] {
  return [
    envelopePart(envelope),
    ...partsOf(request).map((part) =>
      attachmentPart(part.contentId, part.content, { contentType: part.contentType }),
    ),
  ];
}

/** An envelope whose Header holds `inner` (an unsigned getStatus otherwise). */
function envelopeWithHeader(inner: string): string {
  return getStatusEnvelope('ABCDEFGH12345').replace(
    '<soapenv:Header/>',
    `<soapenv:Header>${inner}</soapenv:Header>`,
  );
}

/**
 * Sends `body` in pieces of `chunkSize` bytes without a Content-Length (chunked), and stops sending once
 * the service answered.
 */
async function sendChunked(
  url: string,
  contentType: string,
  body: Buffer,
  chunkSize = 16 * 1024,
): Promise<HttpResult> {
  const outgoing = openStreamingRequest(url, { 'Content-Type': contentType, SOAPAction: '""' });
  for (let offset = 0; offset < body.length && !outgoing.answered(); offset += chunkSize) {
    await outgoing.write(body.subarray(offset, offset + chunkSize));
  }
  if (!outgoing.answered()) outgoing.end();
  const result = await outgoing.response;
  outgoing.destroy();
  return result;
}

describe('request limits set through the environment', () => {
  const limits = {
    RM_MAX_ENVELOPE_BYTES: '12000',
    RM_MAX_PARTS: '3',
    RM_MAX_REQUEST_BYTES: '65536',
    RM_MAX_XML_DEPTH: '16',
    RM_MAX_XML_ELEMENTS: '150',
  };
  let rm: TestService;

  beforeAll(async () => {
    rm = await startTestService(limits);
  });
  afterAll(async () => {
    await rm.close();
  });

  it('still accepts a signed sendDocument with a document and an annex within the limits', async () => {
    const request = spec('T-within-limits', {}, [
      { content: Buffer.from('annex'), contentId: 'annex@test', mime: 'text/plain' },
    ]);
    const result = await rm.postSwa(rm.sign(sendDocumentEnvelope(request)), partsOf(request));
    expect(result.status).toBe(200);
  });

  it('RM_MAX_ENVELOPE_BYTES: refuses a larger single-part envelope', async () => {
    const result = await rm.postXml(envelopeWithHeader(`<!--${'x'.repeat(12_000)}-->`));
    expectFault(result, malformed(/envelope larger than the limit of 12000 bytes/));
  });

  it('RM_MAX_ENVELOPE_BYTES: refuses a larger root part of a multipart request', async () => {
    const request = spec('T-big-root');
    const envelope = sendDocumentEnvelope(request).replace(
      '<soapenv:Header/>',
      `<soapenv:Header><!--${'x'.repeat(12_000)}--></soapenv:Header>`,
    );
    const result = await rm.postSwa(envelope, partsOf(request));
    expectFault(result, malformed(/envelope larger than the limit of 12000 bytes/));
  });

  it('RM_MAX_PARTS: refuses more MIME parts than the limit', async () => {
    const annexes = [1, 2, 3].map((n) => ({
      content: Buffer.from(`annex ${n}`),
      contentId: `annex-${n}@test`,
      mime: 'text/plain',
    }));
    const request = spec('T-too-many-parts', {}, annexes);
    const result = await rm.postSwa(rm.sign(sendDocumentEnvelope(request)), partsOf(request));
    expectFault(result, malformed(/MIME parts than the limit of 3/));
  });

  it('RM_MAX_REQUEST_BYTES: refuses a larger request sent without Content-Length, while reading it', async () => {
    const request = spec('T-too-large', { content: Buffer.alloc(200 * 1024, 0x41) });
    const swa = buildSwaRequest(rm.sign(sendDocumentEnvelope(request)), partsOf(request));
    const result = await sendChunked(rm.url, swa.contentType, swa.body);
    expectFault(result, malformed(/request larger than the limit of 65536 bytes/));
    expect((await storedState(rm)).staging).toEqual([]);
  });

  it('RM_MAX_REQUEST_BYTES: refuses a larger Content-Length before reading the body', async () => {
    const outgoing = openStreamingRequest(rm.url, {
      'Content-Type': 'text/xml; charset=utf-8',
      'Content-Length': 10_000_000,
      SOAPAction: '""',
    });
    await outgoing.write(getStatusEnvelope('ABCDEFGH12345').slice(0, 100));
    // The body is never completed: only an answer given before reading it can arrive.
    const result = await outgoing.response;
    outgoing.destroy();
    expectFault(result, malformed(/request larger than the limit of 65536 bytes/));
  });

  it('RM_MAX_XML_DEPTH: refuses deeper element nesting', async () => {
    const nested = `${'<x:a xmlns:x="urn:x">'.repeat(20)}${'</x:a>'.repeat(20)}`;
    expectFault(
      await rm.postXml(envelopeWithHeader(nested)),
      malformed(/nesting deeper than the limit of 16/),
    );
  });

  it('RM_MAX_XML_ELEMENTS: refuses more elements', async () => {
    const many = '<x:a xmlns:x="urn:x"/>'.repeat(200);
    expectFault(await rm.postXml(envelopeWithHeader(many)), malformed(/more elements than the limit of 150/));
  });
});

describe('SOAP with Attachments (MIME)', () => {
  let rm: TestService;

  beforeAll(async () => {
    rm = await startTestService();
  });
  afterAll(async () => {
    await rm.close();
  });

  function postMultipart(built: { contentType: string; body: Buffer }): Promise<HttpResult> {
    return post(rm.url, built.body, { 'Content-Type': built.contentType, SOAPAction: '""' });
  }

  /**
   * Starts a SwA request announcing a 64 MiB document part, and sends the envelope and the first 64 KiB
   * of that part only: the body stays incomplete while the test waits for the answer.
   */
  async function startLargeRequest(envelope: string) {
    const boundary = 'MIMEBoundary_stream_0123456789';
    const head = Buffer.from(
      `--${boundary}\r\nContent-Type: text/xml; charset=UTF-8\r\nContent-ID: <root.message@test>\r\n\r\n${envelope}\r\n` +
        `--${boundary}\r\nContent-Type: application/pdf\r\nContent-Transfer-Encoding: binary\r\nContent-ID: <document@test>\r\n\r\n`,
    );
    const attachmentSize = 64 * 1024 * 1024;
    const tail = Buffer.from(`\r\n--${boundary}--\r\n`);
    const outgoing = openStreamingRequest(rm.url, {
      'Content-Type': `multipart/related; type="text/xml"; boundary="${boundary}"; start="<root.message@test>"`,
      'Content-Length': head.length + attachmentSize + tail.length,
      SOAPAction: '""',
    });
    await outgoing.write(head);
    await outgoing.write(Buffer.alloc(64 * 1024, 0x42));
    return outgoing;
  }

  it('answers an unauthenticated request while its large attachment is still being sent, spooling nothing', async () => {
    const outgoing = await startLargeRequest(sendDocumentEnvelope(spec('T-streaming')));
    const result = await outgoing.response;
    outgoing.destroy();
    // The request body is far from complete: the answer came before the attachment was read.
    expectFault(result, {
      code: 'SOA-01001',
      kind: 'SystemError',
      message: 'Service call not authenticated.',
    });
    expect(result.headers.connection).toBe('close');
    expect((await storedState(rm)).staging).toEqual([]);
  });

  it('answers a signed request refused on its description (SHA-1) before reading the attachment', async () => {
    const request = spec('T-streaming-sha1', { digestMethod: 'SHA-1' });
    const outgoing = await startLargeRequest(rm.sign(sendDocumentEnvelope(request)));
    const result = await outgoing.response;
    outgoing.destroy();
    expectFault(result, { code: 'FILE_B03', kind: 'BusinessError' });
    expect((await storedState(rm)).staging).toEqual([]);
  });

  it('refuses a truncated multipart body (no closing boundary)', async () => {
    const request = spec('T-truncated');
    const built = multipartRelated(rawParts(rm.sign(sendDocumentEnvelope(request)), request), {
      closing: false,
    });
    expectFault(await postMultipart(built), malformed(/truncated/));
    expect((await storedState(rm)).staging).toEqual([]);
  });

  it('refuses a request whose start parameter names the second part', async () => {
    const request = spec('T-start');
    const built = buildSwaRequest(rm.sign(sendDocumentEnvelope(request)), partsOf(request), {
      start: '<document@test>',
    });
    expectFault(await postMultipart(built), malformed(/root part/));
  });

  it('resolves a percent-encoded cid: (cid:doc%40x for Content-ID <doc@x>)', async () => {
    const request = spec('T-percent', { contentId: 'doc%40x' });
    const envelope = rm.sign(sendDocumentEnvelope(request));
    expect(envelope).toContain('cid:doc%40x');
    const built = multipartRelated([
      envelopePart(envelope),
      attachmentPart('doc@x', request.document.content),
    ]);
    const result = await postMultipart(built);
    expect(result.status).toBe(200);
  });

  it('refuses an attachment part in Content-Transfer-Encoding base64', async () => {
    const request = spec('T-base64');
    const built = multipartRelated([
      envelopePart(rm.sign(sendDocumentEnvelope(request))),
      attachmentPart('document@test', request.document.content.toString('base64'), {
        transferEncoding: 'base64',
      }),
    ]);
    expectFault(await postMultipart(built), malformed(/Content-Transfer-Encoding base64/));
    expect((await storedState(rm)).staging).toEqual([]);
  });

  it('refuses a root part in Content-Transfer-Encoding base64', async () => {
    const request = spec('T-base64-root');
    const root: RawPart = {
      headers: [
        'Content-Type: text/xml; charset=UTF-8',
        'Content-Transfer-Encoding: base64',
        'Content-ID: <root.message@test>',
      ],
      content: Buffer.from(rm.sign(sendDocumentEnvelope(request))).toString('base64'),
    };
    const built = multipartRelated([root, attachmentPart('document@test', request.document.content)]);
    expectFault(await postMultipart(built), malformed(/Content-Transfer-Encoding base64/));
  });
});
