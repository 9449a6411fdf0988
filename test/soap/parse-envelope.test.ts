import {
  MalformedMessageError,
  MissingBodyError,
  MustUnderstandError,
  NotSoapError,
} from '../../src/errors/faults';
import { checkMustUnderstand } from '../../src/soap/check-must-understand';
import { parseEnvelope } from '../../src/soap/parse-envelope';

const limits = { maxDepth: 64, maxElements: 1000 };
const SOAP = 'http://schemas.xmlsoap.org/soap/envelope/';

function parse(xml: string) {
  return parseEnvelope(Buffer.from(xml, 'utf8'), limits);
}

const envelope = (body: string, prolog = '') =>
  `${prolog}<s:Envelope xmlns:s="${SOAP}"><s:Header/><s:Body>${body}</s:Body></s:Envelope>`;

describe('parseEnvelope', () => {
  it('returns the Body payload as a node of the parsed document', () => {
    const parsed = parse(envelope('<p:Ping xmlns:p="urn:x"/>'));
    expect(parsed.payload.localName).toBe('Ping');
    expect(parsed.payload.parentNode).toBe(parsed.body);
    expect(parsed.body.parentNode).toBe(parsed.envelope);
    expect(parsed.header?.localName).toBe('Header');
  });

  it('accepts an XML declaration, a byte order mark and whitespace or comments around the root', () => {
    expect(() =>
      parse(envelope('<p:Ping xmlns:p="urn:x"/>', '<?xml version="1.0" encoding="UTF-8"?>\n')),
    ).not.toThrow();
    expect(() => parse(`\uFEFF<?xml version="1.0"?>\r\n<!-- c -->\n${envelope('<a/>')}\n`)).not.toThrow();
  });

  it('says why the XML is not well-formed', () => {
    expect(() => parse(envelope('<a><b></c></a>'))).toThrow(
      new MalformedMessageError('not well-formed XML (Opening and ending tag mismatch: "b" != "c")'),
    );
    expect(() => parse(envelope('<q:a/>'))).toThrow(
      /^Malformed message: not well-formed XML \(.*namespace is null/,
    );
  });

  it('gives each refused envelope its own reason, and parses the next one afresh (one parser for all)', () => {
    expect(() => parse(envelope('<a><b></c></a>'))).toThrow(/tag mismatch: "b" != "c"/);
    expect(() => parse(envelope('<x></y>'))).toThrow(/tag mismatch: "x" != "y"/);
    expect(parse(envelope('<p:Ping xmlns:p="urn:x"/>')).payload.localName).toBe('Ping');
  });

  it('ends lines as XML 1.0 does: CR LF and CR become LF, NEL and LINE SEPARATOR stay', () => {
    const parsed = parse(envelope('<a>1\r\n2\r3\u00854\u20285</a>'));
    expect(parsed.payload.textContent).toBe('1\n2\n3\u00854\u20285');
  });

  // Past a few dozen prefixes in scope, xmldom's namespace maps (patched) inherit instead of copying.
  it.each([4, 31, 32, 90])('keeps namespace scopes apart with %i prefixes in scope', (count) => {
    // p1..p{count}, declared 40 to an element (the preflight allows 50 attributes), innermost last.
    const declarations = (from: number, to: number) =>
      Array.from({ length: to - from + 1 }, (_, i) => ` xmlns:p${from + i}="urn:p${from + i}"`).join('');
    let open = '';
    let close = '';
    for (let from = 1; from <= count; from += 40) {
      open += `<w${declarations(from, Math.min(count, from + 39))}>`;
      close = `</w>${close}`;
    }
    const last = `p${count}`;
    const inner = `<${last}:b xmlns:${last}="urn:inner"><p1:c/></${last}:b><${last}:d/><p1:e xmlns:p1="urn:x"/><p1:f/>`;
    const parsed = parse(envelope(`${open}${inner}${close}`));
    const uris = Array.from(parsed.payload.getElementsByTagName('*'))
      .filter((element) => element.localName !== 'w')
      .map((element) => `${element.localName} ${element.namespaceURI}`);
    expect(uris).toEqual(['b urn:inner', 'c urn:p1', `d urn:p${count}`, 'e urn:x', 'f urn:p1']);
    expect(() => parse(envelope(`${open}<q:b/>${close}`))).toThrow(MalformedMessageError);
  });

  it.each([
    ['a DOCTYPE', envelope('<a/>', '<!DOCTYPE x>')],
    ['an entity declaration', envelope('<a>&e;</a>', '<!DOCTYPE x [<!ENTITY e "boom">]>')],
    ['a processing instruction in the body', envelope('<a><?evil x?></a>')],
    ['a processing instruction before the root', envelope('<a/>', '<?xml version="1.0"?><?evil x?>')],
    ['an undeclared entity', envelope('<a>&nbsp;</a>')],
    ['unbalanced tags', envelope('<a><b></a>')],
    ['an end tag whose name has an invalid character', envelope('<a></a#>')],
    ['an end tag whose name is followed by a line break and more', envelope('<a></a\nb>')],
    ['an end tag without a name', envelope('<a></>')],
    ['an encoding other than UTF-8', envelope('<a/>', '<?xml version="1.0" encoding="ISO-8859-1"?>')],
  ])('refuses %s with SOA-03001', (_case, xml) => {
    expect(() => parse(xml)).toThrow(MalformedMessageError);
  });

  // End tag names are checked with regular expressions built once (patches/@xmldom+xmldom+*.patch: xmldom
  // built them anew for every end tag); the same names are accepted and refused as before.
  it('accepts end tags with a prefix, with whitespace before >, and the same name again and again', () => {
    const many = '<p:Item xmlns:p="urn:x">x</p:Item >'.repeat(200);
    const parsed = parse(envelope(`<p:List xmlns:p="urn:x">${many}</p:List\n>`));
    expect(parsed.payload.childNodes.length).toBe(200);
  });

  it('takes U+FFFD as the character it is (the bytes were strict UTF-8), in text and attributes', () => {
    const parsed = parse(envelope('<p:Note xmlns:p="urn:x" reason="\uFFFD">the e-Box said \uFFFD</p:Note>'));
    expect(parsed.payload.textContent).toBe('the e-Box said \uFFFD');
    expect(parsed.payload.getAttribute('reason')).toBe('\uFFFD');
  });

  it('refuses invalid UTF-8', () => {
    const bytes = Buffer.concat([Buffer.from(envelope('<a>x</a>').slice(0, 70)), Buffer.from([0xc3, 0x28])]);
    expect(() => parseEnvelope(bytes, limits)).toThrow(MalformedMessageError);
  });

  it('refuses documents deeper or larger than the limits before building a DOM', () => {
    const deep = envelope(`${'<a>'.repeat(100)}${'</a>'.repeat(100)}`);
    expect(() => parse(deep)).toThrow(/nesting deeper than the limit of 64/);
    const wide = envelope('<a/>'.repeat(2000));
    expect(() => parse(wide)).toThrow(/more elements than the limit of 1000/);
  });

  it('counts elements inside quoted attribute values correctly', () => {
    expect(() => parse(envelope('<a title="x > y" other=\'<\'/>'.replace("'<'", "'&lt;'")))).not.toThrow();
  });

  it('refuses SOAP 1.2 and other roots with SOA-03002', () => {
    expect(() =>
      parse('<e:Envelope xmlns:e="http://www.w3.org/2003/05/soap-envelope"><e:Body/></e:Envelope>'),
    ).toThrow(NotSoapError);
    expect(() => parse('<html/>')).toThrow(NotSoapError);
  });

  it.each([
    ['no Body', `<s:Envelope xmlns:s="${SOAP}"><s:Header/></s:Envelope>`],
    ['an empty Body', envelope('')],
    ['two payload elements', envelope('<a/><b/>')],
    ['text in the Body', envelope('text<a/>')],
    ['two Bodies', `<s:Envelope xmlns:s="${SOAP}"><s:Body><a/></s:Body><s:Body><a/></s:Body></s:Envelope>`],
  ])('refuses %s with SOA-03003', (_case, xml) => {
    expect(() => parse(xml)).toThrow(MissingBodyError);
  });
});

describe('checkMustUnderstand', () => {
  const withHeader = (header: string) =>
    parse(`<s:Envelope xmlns:s="${SOAP}"><s:Header>${header}</s:Header><s:Body><a/></s:Body></s:Envelope>`);

  it('refuses a mandatory header block addressed to us that we do not process (SOA-03004, MustUnderstand)', () => {
    const envelope = withHeader('<x:Routing xmlns:x="urn:x" s:mustUnderstand="1"/>');
    expect(() => checkMustUnderstand(envelope)).toThrow(MustUnderstandError);
    expect(() => checkMustUnderstand(envelope)).toThrow(/\{urn:x\}Routing/);
  });

  it('accepts optional blocks, blocks for another actor, and the WS-Security header', () => {
    const wsse = 'http://docs.oasis-open.org/wss/2004/01/oasis-200401-wss-wssecurity-secext-1.0.xsd';
    expect(() =>
      checkMustUnderstand(withHeader('<x:Routing xmlns:x="urn:x" s:mustUnderstand="0"/>')),
    ).not.toThrow();
    expect(() =>
      checkMustUnderstand(
        withHeader('<x:Routing xmlns:x="urn:x" s:mustUnderstand="1" s:actor="urn:other"/>'),
      ),
    ).not.toThrow();
    expect(() =>
      checkMustUnderstand(withHeader(`<w:Security xmlns:w="${wsse}" s:mustUnderstand="1"/>`)),
    ).not.toThrow();
  });
});
