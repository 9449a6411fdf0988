import { DOMParser, type Element } from '@xmldom/xmldom';
import { readFault, type FaultView, type HttpResult } from './soap-client';

/** The consumer form of fault details (what goes on the wire by default). */
export const CONSUMER_ERRORS_NS = 'http://socialsecurity.be/errors/v1';
/** The provider form of fault details (RM_FAULT_NAMESPACE=provider). */
export const PROVIDER_ERRORS_NS = 'http://socialsecurity.be/errors/serviceprovider/v1';

const SOAP11_NS = 'http://schemas.xmlsoap.org/soap/envelope/';
const UUID = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/i;

/** What a test expects of a fault; everything else is checked against the README's rules. */
export interface ExpectedFault {
  code: string;
  kind: 'SystemError' | 'BusinessError';
  /** Default Consumer. */
  origin?: 'Consumer' | 'Provider';
  /** The detail element's namespace; default {@link CONSUMER_ERRORS_NS}. */
  namespace?: string;
  /** The whole Message text, or a pattern it must match. */
  message?: string | RegExp;
  /** The Retry text; undefined = no Retry element (the README names Retry only for SEPIA_T02, SOA-02002). */
  retry?: 'true' | 'false';
  /** The Environment text; undefined = no Environment element. */
  environment?: string;
  /** The faultcode when SOAP prescribes one (MustUnderstand); default Client/Server by origin. */
  faultcode?: string;
}

/** A fault as {@link readFault} reads it, plus the text of every child of the detail element by name. */
export interface CheckedFault extends FaultView {
  /** Text of each child element of the BusinessError/SystemError element, by local name (first one). */
  fields: Record<string, string>;
  /** The BusinessError/SystemError element itself, for schema validation. */
  detailElement: Element;
}

/** Marks of a stack trace, a source path or an internal error in a client-facing body. */
const INTERNAL_DETAIL = [
  /\bat [\w.<>]+ \(/, // "at fn (file:line:col)"
  /\.[cm]?[jt]s:\d+/, // "file.ts:12"
  /node_modules/,
  /\/work\//,
  /\b(?:TypeError|RangeError|ReferenceError|SyntaxError)\b/,
  /\bError: /,
  /\bstack\b/i,
];

/** Asserts that a response body shows no stack trace, source path or internal error text. */
export function expectNoInternalDetail(body: Buffer | string): void {
  const text = body.toString();
  for (const pattern of INTERNAL_DETAIL) expect(text).not.toMatch(pattern);
}

function detailElementOf(body: Buffer): Element {
  const document = new DOMParser().parseFromString(body.toString('utf8'), 'text/xml');
  const fault = document.getElementsByTagNameNS(SOAP11_NS, 'Fault')[0];
  let detail: Element | undefined;
  for (let node = fault?.firstChild; node; node = node.nextSibling) {
    if (node.nodeType === 1 && (node as Element).localName === 'detail') detail = node as Element;
  }
  for (let node = detail?.firstChild; node; node = node.nextSibling) {
    if (node.nodeType === 1) return node as Element;
  }
  throw new Error(`fault without detail element: ${body.toString('utf8').slice(0, 500)}`);
}

function fieldsOf(error: Element): Record<string, string> {
  const fields: Record<string, string> = {};
  for (let node = error.firstChild; node; node = node.nextSibling) {
    if (node.nodeType !== 1) continue;
    const name = (node as Element).localName ?? '';
    if (!(name in fields)) fields[name] = node.textContent ?? '';
  }
  return fields;
}

/**
 * Checks a response against the README's fault rules: HTTP 500, a text/xml SOAP 1.1 fault, `faultcode`
 * Client (Consumer origin) or Server (Provider), `faultstring` = the code, the detail element's name and
 * namespace, Code, Origin, every Message with `xml:lang="en"`, an `Id` that is a UUID, Retry and
 * Environment only where expected, and no stack trace or internal detail anywhere in the body.
 * @returns the fault, for further checks
 */
export function expectFault(result: HttpResult, expected: ExpectedFault): CheckedFault {
  const origin = expected.origin ?? 'Consumer';
  const body = result.body.toString('utf8');
  if (result.status !== 500)
    throw new Error(`expected HTTP 500 ${expected.code}, got ${result.status}: ${body.slice(0, 800)}`);
  expect(String(result.headers['content-type'])).toMatch(/^text\/xml\b/);
  const fault = readFault(result.body);
  expect({
    faultcode: fault.faultcode,
    faultstring: fault.faultstring,
    kind: fault.kind,
    detailNamespace: fault.detailNamespace,
    code: fault.code,
    origin: fault.origin,
  }).toEqual({
    faultcode: expected.faultcode ?? (origin === 'Consumer' ? 'soapenv:Client' : 'soapenv:Server'),
    faultstring: expected.code,
    kind: expected.kind,
    detailNamespace: expected.namespace ?? CONSUMER_ERRORS_NS,
    code: expected.code,
    origin,
  });
  expect(fault.messages.length).toBeGreaterThanOrEqual(1);
  for (const message of fault.messages) {
    expect(message.lang).toBe('en');
    expect(message.text.trim()).not.toBe('');
  }
  if (typeof expected.message === 'string') expect(fault.messages[0].text).toBe(expected.message);
  else if (expected.message) expect(fault.messages[0].text).toMatch(expected.message);
  expect(fault.id).toMatch(UUID);
  expect(fault.retry).toBe(expected.retry);
  const detailElement = detailElementOf(result.body);
  const fields = fieldsOf(detailElement);
  expect(fields.Environment).toBe(expected.environment);
  expectNoInternalDetail(body);
  return { ...fault, fields, detailElement };
}

/** A fault body with its `Id` attribute value blanked, to compare two faults apart from the Id. */
export function withoutFaultId(body: Buffer | string): string {
  // The signed Security header differs per response (Timestamp, signature): compare the Body only.
  return body
    .toString()
    .replace(/<soapenv:Header>[\s\S]*<\/soapenv:Header>/, '')
    .replace(/\bId="[^"]*"/g, 'Id=""');
}
