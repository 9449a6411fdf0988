import { endTag, startTag, textElement, XML_DECLARATION } from '../../src/xml/markup';
import { createDomParser } from '../../src/xml/dom-parser';

describe('markup', () => {
  test('a text element escapes its text; an attribute value is escaped as an attribute', () => {
    expect(textElement('a:T', 'x < y & z > w\r')).toBe('<a:T>x &lt; y &amp; z &gt; w&#xD;</a:T>');
    expect(startTag('E', { b: '"q" & <t>\n\t', a: 'plain' })).toBe(
      '<E b="&quot;q&quot; &amp; &lt;t>&#xA;&#x9;" a="plain">',
    );
    expect(endTag('E')).toBe('</E>');
  });

  test('what it writes parses back to the same names, attributes and characters', () => {
    const value = 'Décision <n°1> & "annexe"\r\n\tend';
    const xml =
      XML_DECLARATION +
      startTag('R', { xmlns: 'urn:r', 'xmlns:x': 'urn:x', 'x:attr': value }) +
      textElement('T', value) +
      textElement('Empty', '') +
      endTag('R');
    const root = createDomParser().parseFromString(xml, 'text/xml').documentElement;
    expect(root?.namespaceURI).toBe('urn:r');
    expect(root?.getAttributeNS('urn:x', 'attr')).toBe(value);
    const children = Array.from(root?.childNodes ?? []);
    expect(children.map((node) => node.nodeName)).toEqual(['T', 'Empty']);
    expect(children[0].textContent).toBe(value);
    expect(children[1].textContent).toBe('');
  });
});
