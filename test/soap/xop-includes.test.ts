import fs from 'node:fs';
import path from 'node:path';
import type { Element } from '@xmldom/xmldom';
import { PayloadValidator } from '../../src/contract/xsd-validator';
import { AttachmentReferenceError, MalformedMessageError } from '../../src/errors/faults';
import { parseEnvelope } from '../../src/soap/parse-envelope';
import { extractXopIncludes, XOP_NAMESPACE } from '../../src/soap/xop-includes';

/*
 * extractXopIncludes on the SendRegisteredMail sample turned into its MTOM form (each Content holding an
 * xop:Include, as Metro and CXF send it), and on payloads that break XOP's rules.
 */

const REPO_ROOT = path.resolve(__dirname, '../..');
const SAMPLE = fs.readFileSync(
  path.join(REPO_ROOT, 'fixtures/service/SendRegisteredMail-citizen.xml'),
  'utf8',
);
const SERVICE_NS = 'urn:registeredmail:service:v1';
const XML_LIMITS = { maxDepth: 64, maxElements: 20_000, maxAttributes: 20_000, maxAttributesPerElement: 50 };

function include(href: string, extra = ''): string {
  return `<xop:Include xmlns:xop="${XOP_NAMESPACE}" href="${href}"${extra}/>`;
}

/** The sample with the i-th Content (0: the Document's, then the annexes') replaced by `content`. */
function withContents(contents: readonly string[]): string {
  let index = 0;
  return SAMPLE.replace(/<urn:Content>[^<]*<\/urn:Content>/g, (original) => {
    const replacement = contents[index++];
    return replacement === undefined ? original : `<urn:Content>${replacement}</urn:Content>`;
  });
}

function payloadOf(envelope: string): Element {
  return parseEnvelope(Buffer.from(envelope, 'utf8'), XML_LIMITS).payload;
}

function contentElements(payload: Element): Element[] {
  return Array.from(payload.getElementsByTagNameNS(SERVICE_NS, 'Content'));
}

function refusal(envelope: string): unknown {
  const payload = payloadOf(envelope);
  const before = payload.toString();
  try {
    extractXopIncludes(payload);
  } catch (error) {
    // A refusal leaves the payload as it was: nothing is removed unless every Include is valid.
    expect(payload.toString()).toBe(before);
    return error;
  }
  throw new Error('extractXopIncludes accepted the payload');
}

describe('extractXopIncludes', () => {
  let validator: PayloadValidator;

  beforeAll(async () => {
    validator = await PayloadValidator.load(path.join(REPO_ROOT, 'xsd'));
  });
  afterAll(() => {
    validator.dispose();
  });

  it('maps each Content to its part and leaves it empty, which the XSD accepts', () => {
    const payload = payloadOf(
      withContents([
        include('cid:document@registeredmail.example'),
        include('cid:annex-1@registeredmail.example'),
        include('cid:annex-2@registeredmail.example'),
      ]),
    );
    const contents = contentElements(payload);
    expect(() => validator.validateElement(payload)).toThrow(/Content/);

    const references = extractXopIncludes(payload);

    expect([...references.entries()]).toEqual([
      [contents[0], 'document@registeredmail.example'],
      [contents[1], 'annex-1@registeredmail.example'],
      [contents[2], 'annex-2@registeredmail.example'],
    ]);
    for (const content of contents) expect(content.childNodes.length).toBe(0);
    expect(payload.getElementsByTagNameNS(XOP_NAMESPACE, 'Include').length).toBe(0);
    expect(() => validator.validateElement(payload)).not.toThrow();
  });

  it('leaves inline base64 Contents alone and maps only the Included ones', () => {
    const payload = payloadOf(withContents([include('cid:document@x')]));
    const contents = contentElements(payload);
    const annexText = contents[1].textContent;

    const references = extractXopIncludes(payload);

    expect([...references.entries()]).toEqual([[contents[0], 'document@x']]);
    expect(contents[1].textContent).toBe(annexText);
  });

  it('answers an empty map for a payload without Includes, unchanged', () => {
    const payload = payloadOf(SAMPLE);
    const before = payload.toString();
    expect(extractXopIncludes(payload).size).toBe(0);
    expect(payload.toString()).toBe(before);
  });

  it('removes the whitespace around the Include (pretty-printed, as Metro sends it)', () => {
    const payload = payloadOf(withContents([`\n   ${include('cid:document@x')}\n  \t`]));
    const [content] = contentElements(payload);
    expect(extractXopIncludes(payload).get(content)).toBe('document@x');
    expect(content.childNodes.length).toBe(0);
  });

  it('accepts the namespace declared on an ancestor and href written in any order with it', () => {
    const envelope = withContents(['<xop:Include href="cid:document@x"/>']).replace(
      '<urn:SendRegisteredMailRequest>',
      `<urn:SendRegisteredMailRequest xmlns:xop="${XOP_NAMESPACE}">`,
    );
    const payload = payloadOf(envelope);
    expect([...extractXopIncludes(payload).values()]).toEqual(['document@x']);
  });

  it('percent-decodes the cid: URL as swaRef does (cid:doc%40x%2Fy is the part <doc@x/y>)', () => {
    const payload = payloadOf(withContents([include('cid:doc%40x%2Fy'), include('CID:rootpart*1@jaxws')]));
    expect([...extractXopIncludes(payload).values()]).toEqual(['doc@x/y', 'rootpart*1@jaxws']);
  });

  it('refuses two Includes referencing the same part with FILE_B04', () => {
    const error = refusal(withContents([include('cid:same@x'), include('cid:same%40x')]));
    expect(error).toBeInstanceOf(AttachmentReferenceError);
    expect((error as AttachmentReferenceError).code).toBe('FILE_B04');
  });

  const malformed: Array<[string, string, RegExp]> = [
    ['text next to the Include', `JVBERi0x${include('cid:document@x')}`, /only content of its element/],
    [
      'a second Include in the same element',
      include('cid:a@x') + include('cid:b@x'),
      /only content of its element/,
    ],
    ['an element next to the Include', `${include('cid:a@x')}<urn:Other/>`, /only content/],
    ['a comment next to the Include', `${include('cid:a@x')}<!-- note -->`, /only content/],
    ['an Include without href', `<xop:Include xmlns:xop="${XOP_NAMESPACE}"/>`, /exactly one attribute, href/],
    ['an Include with another attribute', include('cid:a@x', ' id="i1"'), /exactly one attribute, href/],
    [
      'an Include with a namespaced href',
      `<xop:Include xmlns:xop="${XOP_NAMESPACE}" xop:href="cid:a@x"/>`,
      /exactly one attribute, href/,
    ],
    ['an http: href', include('http://example.com/a'), /not a cid: URL/],
    ['an empty cid:', include('cid:'), /not a cid: URL/],
    ['a badly percent-encoded cid:', include('cid:a%E0%A4%A@x'), /not a cid: URL/],
    [
      'an Include with a child',
      `<xop:Include xmlns:xop="${XOP_NAMESPACE}" href="cid:a@x"><x:y xmlns:x="urn:x"/></xop:Include>`,
      /must be empty/,
    ],
    [
      'an Include with text inside',
      `<xop:Include xmlns:xop="${XOP_NAMESPACE}" href="cid:a@x"> </xop:Include>`,
      /must be empty/,
    ],
  ];

  it.each(malformed)('refuses %s with SOA-03001', (_name, content, message) => {
    const error = refusal(withContents([content]));
    expect(error).toBeInstanceOf(MalformedMessageError);
    expect((error as MalformedMessageError).code).toBe('SOA-03001');
    expect((error as Error).message).toMatch(message);
  });

  it('refuses an Include nested in another one', () => {
    const nested = `<xop:Include xmlns:xop="${XOP_NAMESPACE}" href="cid:a@x">${include('cid:b@x')}</xop:Include>`;
    expect(refusal(withContents([nested]))).toBeInstanceOf(MalformedMessageError);
  });

  it('reports an Include outside a Content under its own parent: the port decides what it accepts', () => {
    // XOP only knows elements, not the schema: an Include in the Title is extracted like any other, and
    // the port's adapter, which consumes only Content elements, must refuse a reference it does not use.
    const envelope = SAMPLE.replace(
      /<urn:Title>[^<]*<\/urn:Title>/,
      `<urn:Title>${include('cid:title@x')}</urn:Title>`,
    );
    const payload = payloadOf(envelope);
    const title = payload.getElementsByTagNameNS(SERVICE_NS, 'Title')[0];
    expect([...extractXopIncludes(payload).entries()]).toEqual([[title, 'title@x']]);
  });

  it('ignores elements named Include in other namespaces', () => {
    const payload = payloadOf(withContents(['<x:Include xmlns:x="urn:not-xop" href="cid:a@x"/>']));
    expect(extractXopIncludes(payload).size).toBe(0);
  });

  it('ignores Includes outside the payload (in the SOAP Header)', () => {
    const envelope = SAMPLE.replace(
      '<soapenv:Header/>',
      `<soapenv:Header><h:x xmlns:h="urn:h">${include('cid:header@x')}</h:x></soapenv:Header>`,
    );
    const parsed = parseEnvelope(Buffer.from(envelope), XML_LIMITS);
    expect(extractXopIncludes(parsed.payload).size).toBe(0);
    expect(parsed.header?.getElementsByTagNameNS(XOP_NAMESPACE, 'Include').length).toBe(1);
  });
});
