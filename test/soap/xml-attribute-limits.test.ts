import { MalformedMessageError } from '../../src/errors/faults';
import { parseEnvelope } from '../../src/soap/parse-envelope';
import {
  DEFAULT_MAX_XML_ATTRIBUTES,
  DEFAULT_MAX_XML_ATTRIBUTES_PER_ELEMENT,
  preflightXml,
  type XmlPreflightLimits,
} from '../../src/soap/xml-preflight';

/*
 * The attribute limits of the byte preflight: per start tag and in the whole document, namespace
 * declarations included, counted outside quoted values only, refused with SOA-03001 naming the limit.
 */

const SOAP = 'http://schemas.xmlsoap.org/soap/envelope/';
const BASE: XmlPreflightLimits = { maxDepth: 64, maxElements: 1000 };

const envelope = (body: string) =>
  `<s:Envelope xmlns:s="${SOAP}"><s:Header/><s:Body>${body}</s:Body></s:Envelope>`;

function preflight(xml: string, limits: Partial<XmlPreflightLimits> = {}): void {
  preflightXml(Buffer.from(xml, 'utf8'), { ...BASE, ...limits });
}

/** A start tag with `count` attributes a0="v" a1="v" ... */
function attributes(count: number, prefix = 'a'): string {
  return Array.from({ length: count }, (_, index) => ` ${prefix}${index}="v"`).join('');
}

describe('attribute limits of the preflight', () => {
  test('per element: as many as the limit pass, one more is SOA-03001 naming the limit', () => {
    expect(() => preflight(`<r${attributes(5)}/>`, { maxAttributesPerElement: 5 })).not.toThrow();
    const error = (() => {
      try {
        preflight(`<r${attributes(6)}/>`, { maxAttributesPerElement: 5 });
      } catch (caught) {
        return caught;
      }
      return undefined;
    })();
    expect(error).toBeInstanceOf(MalformedMessageError);
    expect(error).toMatchObject({
      code: 'SOA-03001',
      message: 'Malformed message: an element has more attributes than the limit of 5',
    });
  });

  test('namespace declarations count as attributes', () => {
    const declarations = Array.from({ length: 4 }, (_, index) => ` xmlns:p${index}="urn:p${index}"`).join('');
    expect(() =>
      preflight(`<r xmlns="urn:d"${declarations} a="1"/>`, { maxAttributesPerElement: 5 }),
    ).toThrow(/more attributes than the limit of 5/);
    expect(() => preflight(`<r${declarations} a="1"/>`, { maxAttributesPerElement: 5 })).not.toThrow();
  });

  test('= and > inside quoted values (either quote) do not count; whitespace around = does not matter', () => {
    const tag = `<r a="x=1&amp;y=2 > z" b='p="q" = r' c = "3" d='"'/>`;
    expect(() => preflight(tag, { maxAttributesPerElement: 4 })).not.toThrow();
    expect(() => preflight(tag, { maxAttributesPerElement: 3 })).toThrow(/limit of 3/);
  });

  test('= in text, comments, CDATA and end tags does not count', () => {
    const xml = `<r a="1">x=y <!-- a=b c=d --><![CDATA[e=f g=h]]><c b="2">=</c></r>`;
    expect(() => preflight(xml, { maxAttributes: 2, maxAttributesPerElement: 1 })).not.toThrow();
  });

  test('in the whole document: the total over all elements is bounded too', () => {
    const xml = `<r a="1" b="2"><c d="3" e="4"/><f g="5" h="6"/></r>`;
    expect(() => preflight(xml, { maxAttributes: 6 })).not.toThrow();
    expect(() => preflight(xml, { maxAttributes: 5 })).toThrow(
      'Malformed message: more attributes than the limit of 5',
    );
  });

  test('without explicit limits the defaults apply (50 per element, 20000 in all)', () => {
    expect(DEFAULT_MAX_XML_ATTRIBUTES_PER_ELEMENT).toBe(50);
    expect(DEFAULT_MAX_XML_ATTRIBUTES).toBe(20_000);
    expect(() => preflight(`<r${attributes(50)}/>`)).not.toThrow();
    expect(() => preflight(`<r${attributes(51)}/>`)).toThrow(/more attributes than the limit of 50/);
    const many = `<r>${`<e${attributes(40)}/>`.repeat(501)}</r>`; // 20040 attributes in 502 elements
    expect(() => preflight(many)).toThrow(/more attributes than the limit of 20000/);
  });

  test('one start tag with a million attributes is refused at the first one past the limit', () => {
    // The scan stops there: the rest of the tag (and of the document) is never looked at, so even an
    // unterminated tag is reported as the attribute limit, not as unterminated markup.
    const huge = Buffer.from(`<r${attributes(1_000_000)}`);
    expect(() => preflightXml(huge, BASE)).toThrow(/more attributes than the limit of 50/);
  });

  test('parseEnvelope applies them before building a DOM', () => {
    const xml = envelope(`<p:Ping xmlns:p="urn:x"${attributes(60, 'p:a')}/>`);
    expect(() => parseEnvelope(Buffer.from(xml), BASE)).toThrow(MalformedMessageError);
    expect(() => parseEnvelope(Buffer.from(xml), { ...BASE, maxAttributesPerElement: 61 })).not.toThrow();
  });
});
