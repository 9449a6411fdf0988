import http from 'node:http';
import { DOMParser, type Element } from '@xmldom/xmldom';
import * as Multipart from 'multipasta';

/** A MIME part of a SOAP with Attachments request. */
export interface TestPart {
  contentId: string;
  contentType: string;
  content: Buffer;
  /** Extra raw header lines. */
  headers?: string[];
}

/** An HTTP response as the tests read it. */
export interface HttpResult {
  status: number;
  headers: http.IncomingHttpHeaders;
  body: Buffer;
}

/** Builds a `multipart/related; type="text/xml"` body: the envelope as root part, then the parts. */
export function buildSwaRequest(
  envelope: string | Buffer,
  parts: readonly TestPart[],
  options: { boundary?: string; start?: string } = {},
): { contentType: string; body: Buffer } {
  const boundary = options.boundary ?? 'MIMEBoundary_test_0123456789';
  const chunks: Buffer[] = [
    Buffer.from(
      `--${boundary}\r\nContent-Type: text/xml; charset=UTF-8\r\nContent-Transfer-Encoding: 8bit\r\nContent-ID: <root.message@test>\r\n\r\n`,
    ),
    Buffer.from(envelope),
    Buffer.from('\r\n'),
  ];
  for (const part of parts) {
    const extra = (part.headers ?? []).map((line) => `${line}\r\n`).join('');
    chunks.push(
      Buffer.from(
        `--${boundary}\r\nContent-Type: ${part.contentType}\r\nContent-Transfer-Encoding: binary\r\nContent-ID: <${part.contentId}>\r\n${extra}\r\n`,
      ),
      part.content,
      Buffer.from('\r\n'),
    );
  }
  chunks.push(Buffer.from(`--${boundary}--\r\n`));
  return {
    contentType: `multipart/related; type="text/xml"; boundary="${boundary}"; start="${options.start ?? '<root.message@test>'}"`,
    body: Buffer.concat(chunks),
  };
}

/** POSTs a body and collects the whole response. */
export function post(
  url: string,
  body: Buffer | string,
  headers: Record<string, string | number>,
): Promise<HttpResult> {
  return new Promise((resolve, reject) => {
    const request = http.request(
      url,
      { method: 'POST', headers: { 'Content-Length': Buffer.byteLength(body), ...headers } },
      (response) => {
        const chunks: Buffer[] = [];
        response.on('data', (chunk: Buffer) => chunks.push(chunk));
        response.on('end', () =>
          resolve({
            status: response.statusCode ?? 0,
            headers: response.headers,
            body: Buffer.concat(chunks),
          }),
        );
        response.on('error', reject);
      },
    );
    request.on('error', reject);
    request.end(body);
  });
}

/** GETs a URL. */
export function get(url: string): Promise<HttpResult> {
  return new Promise((resolve, reject) => {
    http
      .get(url, (response) => {
        const chunks: Buffer[] = [];
        response.on('data', (chunk: Buffer) => chunks.push(chunk));
        response.on('end', () =>
          resolve({
            status: response.statusCode ?? 0,
            headers: response.headers,
            body: Buffer.concat(chunks),
          }),
        );
      })
      .on('error', reject);
  });
}

/** The parts of a response: the root envelope and the attachments by Content-ID. */
export interface ParsedResponse {
  envelope: string;
  attachments: Map<string, { contentType: string; content: Buffer }>;
}

/** Splits a SOAP response (single-part or multipart/related) with a real MIME parser. */
export function parseResponse(result: HttpResult): Promise<ParsedResponse> {
  const contentType = String(result.headers['content-type'] ?? '');
  if (!contentType.startsWith('multipart/related')) {
    return Promise.resolve({ envelope: result.body.toString('utf8'), attachments: new Map() });
  }
  return new Promise((resolve, reject) => {
    const parts: { headers: Record<string, string | string[]>; contentType: string; chunks: Buffer[] }[] = [];
    const parser = Multipart.make({
      headers: { 'content-type': contentType },
      isFile: () => true,
      onFile: (info) => {
        const part = { headers: info.headers, contentType: info.contentType, chunks: [] as Buffer[] };
        parts.push(part);
        return (chunk) => {
          if (chunk) part.chunks.push(Buffer.from(chunk));
        };
      },
      onField: () => undefined,
      onError: (error) => reject(new Error(`bad multipart response: ${JSON.stringify(error)}`)),
      onDone: () => {
        const [root, ...rest] = parts;
        const attachments = new Map<string, { contentType: string; content: Buffer }>();
        for (const part of rest) {
          const id = String(part.headers['content-id']).replace(/^<|>$/g, '');
          attachments.set(id, { contentType: part.contentType, content: Buffer.concat(part.chunks) });
        }
        resolve({ envelope: Buffer.concat(root.chunks).toString('utf8'), attachments });
      },
    });
    parser.write(result.body);
    parser.end();
  });
}

/** A SOAP fault as the tests check it. */
export interface FaultView {
  faultcode: string;
  faultstring: string;
  detailNamespace: string;
  kind: string;
  code: string;
  origin: string;
  messages: { text: string; lang: string | null }[];
  retry: string | undefined;
  id: string;
  children: string[];
}

function child(parent: Element, localName: string): Element | undefined {
  for (let node = parent.firstChild; node; node = node.nextSibling) {
    if (node.nodeType === 1 && (node as Element).localName === localName) return node as Element;
  }
  return undefined;
}

/** Reads the fault of a response body; throws when it is not a fault. */
export function readFault(body: Buffer | string): FaultView {
  const document = new DOMParser().parseFromString(body.toString(), 'text/xml');
  const fault = document.getElementsByTagNameNS('http://schemas.xmlsoap.org/soap/envelope/', 'Fault')[0];
  if (!fault) throw new Error(`not a fault: ${body.toString().slice(0, 500)}`);
  const detail = child(fault, 'detail');
  let error: Element | undefined;
  for (let node = detail?.firstChild; node; node = node.nextSibling)
    if (node.nodeType === 1) error = node as Element;
  if (!error) throw new Error('fault without detail element');
  const children: string[] = [];
  const messages: { text: string; lang: string | null }[] = [];
  for (let node = error.firstChild; node; node = node.nextSibling) {
    if (node.nodeType !== 1) continue;
    const element = node as Element;
    children.push(element.localName ?? '');
    if (element.localName === 'Message') {
      messages.push({
        text: element.textContent ?? '',
        lang: element.getAttributeNS('http://www.w3.org/XML/1998/namespace', 'lang'),
      });
    }
  }
  return {
    faultcode: child(fault, 'faultcode')?.textContent ?? '',
    faultstring: child(fault, 'faultstring')?.textContent ?? '',
    detailNamespace: error.namespaceURI ?? '',
    kind: error.localName ?? '',
    code: child(error, 'Code')?.textContent ?? '',
    origin: child(error, 'Origin')?.textContent ?? '',
    messages,
    retry: child(error, 'Retry')?.textContent ?? undefined,
    id: error.getAttribute('Id') ?? '',
    children,
  };
}
