import { XMLSerializer } from '@xmldom/xmldom';
import { createDomParser } from '../../src/xml/dom-parser';

/*
 * The xmldom patch (patches/) builds a parsed element's namespace map and attribute indexes only when it
 * gets its first declaration or attribute: what the DOM answers must not change (the expected values are
 * what xmldom 0.9.12 unpatched answers).
 */
describe('xmldom as patched', () => {
  const xml =
    '<r:Root xmlns:r="urn:r" xmlns="urn:default"><Child a="1" r:b="2"><r:Leaf xmlns:x="urn:x">t</r:Leaf></Child><Empty/></r:Root>';

  test('namespace look-ups walk up through elements without declarations', () => {
    const root = createDomParser().parseFromString(xml, 'text/xml').documentElement;
    const leaf = root?.getElementsByTagNameNS('urn:r', 'Leaf')[0];
    expect(leaf?.lookupNamespaceURI('x')).toBe('urn:x');
    expect(leaf?.lookupNamespaceURI('r')).toBe('urn:r');
    expect(leaf?.lookupNamespaceURI('')).toBe('urn:default');
    expect(leaf?.lookupPrefix('urn:r')).toBe('r');
    expect(leaf?.lookupNamespaceURI('nope')).toBeNull();
  });

  test('attributes are found, replaced and removed on elements that started without any', () => {
    const document = createDomParser().parseFromString(xml, 'text/xml');
    const child = document.getElementsByTagNameNS('urn:default', 'Child')[0];
    expect(child.getAttribute('a')).toBe('1');
    expect(child.getAttributeNS('urn:r', 'b')).toBe('2');
    const empty = document.getElementsByTagNameNS('urn:default', 'Empty')[0];
    expect(empty.getAttribute('missing')).toBeNull();
    expect(empty.hasAttributeNS('urn:r', 'b')).toBe(false);
    empty.setAttributeNS('http://www.w3.org/2000/xmlns/', 'xmlns:y', 'urn:y');
    empty.setAttributeNS('urn:y', 'y:c', '3');
    empty.setAttribute('d', '4');
    expect(empty.lookupNamespaceURI('y')).toBe('urn:y');
    expect(empty.getAttributeNS('urn:y', 'c')).toBe('3');
    empty.setAttribute('d', '5');
    expect(empty.getAttribute('d')).toBe('5');
    empty.removeAttributeNS('http://www.w3.org/2000/xmlns/', 'y');
    expect(empty.lookupNamespaceURI('y')).toBeNull();
    empty.removeAttribute('d');
    expect(empty.attributes.length).toBe(1);
    // The serialiser declares what the names use.
    expect(new XMLSerializer().serializeToString(empty)).toBe(
      '<Empty xmlns:y="urn:y" y:c="3" xmlns="urn:default"/>',
    );
  });

  test('references in texts and attribute values are replaced, and attribute whitespace normalised, as before', () => {
    const document = createDomParser().parseFromString(
      '<r a="x&amp;y&#65;" b="one\ttwo\nthree" c="t&#9;u\tv" d="plain">a &lt;b&gt; &#x43;<e>no reference</e></r>',
      'text/xml',
    );
    const root = document.documentElement;
    expect(root?.getAttribute('a')).toBe('x&yA');
    expect(root?.getAttribute('b')).toBe('one two three');
    // A character reference is not normalised (XML 1.0, 3.3.3): the tab it stands for stays a tab.
    expect(root?.getAttribute('c')).toBe('t\tu v');
    expect(root?.getAttribute('d')).toBe('plain');
    expect(root?.firstChild?.nodeValue).toBe('a <b> C');
    expect(root?.getElementsByTagName('e')[0].textContent).toBe('no reference');
  });

  test('an undeclared entity is still refused', () => {
    const errors: string[] = [];
    createDomParser({
      onError: (level, message) => void errors.push(`${level}: ${message}`),
    }).parseFromString('<r a="&nope;">&bogus;</r>', 'text/xml');
    expect(errors.filter((error) => error.includes('entity not found'))).toHaveLength(2);
  });
});
