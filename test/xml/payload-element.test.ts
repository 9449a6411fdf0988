import { spawnSync } from 'node:child_process';
import type { Element } from '@xmldom/xmldom';
import { canonicalizeExclusive } from '../../src/wssecurity/exclusive-c14n';
import {
  appendPayloadElement,
  Base64Text,
  canonicalPayload,
  createPayloadElement,
  type PayloadElement,
} from '../../src/xml/payload-element';
import { parseXml } from '../contract/contract-test-support';
import { testWithTool } from '../support/external-tools';

/** The document element of `xml`, parsed as the contract tests parse (any warning fails). */
function parseStrictly(xml: string): Element {
  return parseXml(xml).documentElement as Element;
}

const A = 'urn:a';
const B = 'urn:b?x=1';

/**
 * Everything the writer must get right: a prefix declared once and inherited, the same prefix bound to
 * another namespace below (and back), sibling subtrees that each declare what they use, attributes out
 * of order and full of characters to escape, text with markup characters, carriage returns, tabs and
 * characters beyond the BMP, empty elements and empty text.
 */
function demandingPayload(): PayloadElement {
  const root = createPayloadElement(A, 'a:Root', { zeta: 'z', alpha: 'a&b<c>"d"\t\n\r', Beta: '' });
  appendPayloadElement(root, A, 'a:Same', 'text & <markup> ]]> \r\n\t 𝄞 é');
  appendPayloadElement(root, B, 'a:Rebound', (rebound) => {
    appendPayloadElement(rebound, B, 'a:Inner', 'inherits the rebinding');
    appendPayloadElement(rebound, A, 'a:Back', 'back to urn:a');
  });
  appendPayloadElement(root, B, 'b:First', (first) => appendPayloadElement(first, B, 'b:Child', 'x'));
  appendPayloadElement(root, B, 'b:Second', '');
  appendPayloadElement(root, A, 'a:Empty');
  appendPayloadElement(root, A, 'a:Mixed', (mixed) => {
    mixed.children.push('before ');
    appendPayloadElement(mixed, A, 'a:Middle', 'm');
    mixed.children.push(' after');
  });
  return root;
}

describe('canonicalPayload', () => {
  test('writes exactly the exclusive canonical form of what it describes', () => {
    const text = canonicalPayload(demandingPayload());
    expect(text).toBe(
      '<a:Root xmlns:a="urn:a" Beta="" alpha="a&amp;b&lt;c>&quot;d&quot;&#x9;&#xA;&#xD;" zeta="z">' +
        '<a:Same>text &amp; &lt;markup&gt; ]]&gt; &#xD;\n\t 𝄞 é</a:Same>' +
        '<a:Rebound xmlns:a="urn:b?x=1"><a:Inner>inherits the rebinding</a:Inner>' +
        '<a:Back xmlns:a="urn:a">back to urn:a</a:Back></a:Rebound>' +
        '<b:First xmlns:b="urn:b?x=1"><b:Child>x</b:Child></b:First>' +
        '<b:Second xmlns:b="urn:b?x=1"></b:Second>' +
        '<a:Empty></a:Empty><a:Mixed>before <a:Middle>m</a:Middle> after</a:Mixed></a:Root>',
    );
  });

  test('parsed again, it canonicalizes to itself with the DOM canonicalizer', () => {
    const text = canonicalPayload(demandingPayload());
    expect(canonicalizeExclusive(parseStrictly(text), [])).toBe(text);
  });

  test('escapes a namespace name as the DOM canonicalizer does', () => {
    // (xmllint writes `&` in a namespace name as it is: not well-formed, so not compared with it.)
    const text = canonicalPayload(createPayloadElement('urn:q?x=1&y=2', 'q:E'));
    expect(text).toBe('<q:E xmlns:q="urn:q?x=1&amp;y=2"></q:E>');
    expect(canonicalizeExclusive(parseStrictly(text), [])).toBe(text);
  });

  test('under the namespaces a parent rendered, declares only what differs', () => {
    const payload = createPayloadElement('urn:wsu', 'wsu:Kept');
    appendPayloadElement(payload, 'urn:other', 'soapenv:Rebound', 'r');
    const rendered = new Map([
      ['soapenv', 'urn:soapenv'],
      ['wsu', 'urn:wsu'],
    ]);
    const inner = canonicalPayload(payload, rendered);
    expect(inner).toBe('<wsu:Kept><soapenv:Rebound xmlns:soapenv="urn:other">r</soapenv:Rebound></wsu:Kept>');
    // The same as canonicalizing the payload inside a parent that declares both.
    const parent = parseStrictly(
      `<soapenv:Body xmlns:soapenv="urn:soapenv" xmlns:wsu="urn:wsu" wsu:Id="b">${inner}</soapenv:Body>`,
    );
    expect(canonicalizeExclusive(parent, [])).toBe(
      `<soapenv:Body xmlns:soapenv="urn:soapenv" xmlns:wsu="urn:wsu" wsu:Id="b">${inner}</soapenv:Body>`,
    );
  });

  const xmllintTest = testWithTool('xmllint', ['--version']);
  xmllintTest('matches xmllint --exc-c14n (libxml2) on the same text', () => {
    const text = canonicalPayload(demandingPayload());
    const result = spawnSync('xmllint', ['--exc-c14n', '-'], { input: text, encoding: 'utf8' });
    expect(result.status).toBe(0);
    expect(result.stdout).toBe(text);
  });

  test('writes a character XML cannot carry as U+FFFD, so the text stays well-formed', () => {
    const payload = createPayloadElement(A, 'a:E', { reason: 'bell\u0007' });
    appendPayloadElement(payload, A, 'a:Detail', 'nul\u0000 esc\u001b lone\ud800 fffe\ufffe kept 𝄞\t\n');
    const text = canonicalPayload(payload);
    expect(text).toBe(
      '<a:E xmlns:a="urn:a" reason="bell\ufffd"><a:Detail>nul\ufffd esc\ufffd lone\ufffd fffe\ufffd kept 𝄞\t\n</a:Detail></a:E>',
    );
    const parsed = parseStrictly(text);
    expect(canonicalizeExclusive(parsed, [])).toBe(text);
  });

  test('writes base64 text as the base64 of its bytes, the same as that text given as a string', () => {
    // Bytes whose base64 holds each of the three non-alphanumeric characters, '+', '/' and '='.
    const bytes = Buffer.from([0xfb, 0xff, 0xbf, 0x00, 0x10]);
    const payload = createPayloadElement(A, 'a:E');
    appendPayloadElement(payload, A, 'a:Value', new Base64Text(bytes));
    payload.children.push(new Base64Text(Buffer.alloc(0)));
    const text = canonicalPayload(payload);
    expect(text).toBe('<a:E xmlns:a="urn:a"><a:Value>+/+/ABA=</a:Value></a:E>');
    const asString = createPayloadElement(A, 'a:E');
    appendPayloadElement(asString, A, 'a:Value', bytes.toString('base64'));
    expect(canonicalPayload(asString)).toBe(text);
    expect(canonicalizeExclusive(parseStrictly(text), [])).toBe(text);
  });

  test('refuses names it cannot write canonically (a renderer bug)', () => {
    expect(() => createPayloadElement(A, 'Unprefixed')).toThrow('prefixed name');
    expect(() => createPayloadElement(A, 'a:')).toThrow('prefixed name');
    expect(() => createPayloadElement(A, ':b')).toThrow('prefixed name');
    for (const name of ['p:q', 'xmlns', 'xml:lang', 'XmlThing', '1st', 'a b', 'a="x"']) {
      expect(() => createPayloadElement(A, 'a:E', { [name]: 'v' })).toThrow('unqualified attribute name');
    }
  });
});
