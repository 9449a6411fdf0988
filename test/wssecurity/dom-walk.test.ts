import { DOMParser, type Element } from '@xmldom/xmldom';
import { forEachElement } from '../../src/wssecurity/dom';
import { indexIds } from '../../src/wssecurity/id-index';

const WSU = 'http://docs.oasis-open.org/wss/2004/01/oasis-200401-wss-wssecurity-utility-1.0.xsd';

function parse(xml: string): Element {
  return new DOMParser().parseFromString(xml, 'text/xml').documentElement as Element;
}

function visited(root: Element): string[] {
  const names: string[] = [];
  forEachElement(root, (element) => names.push(element.localName ?? ''));
  return names;
}

describe('forEachElement', () => {
  it('visits the root and every element below it in document order, skipping other nodes', () => {
    const root = parse('<a>text<b><c/><!-- x --><d>t<e/></d></b><?p i?><f/>tail</a>');
    expect(visited(root)).toEqual(['a', 'b', 'c', 'd', 'e', 'f']);
  });

  it('stays inside the subtree it was given', () => {
    const root = parse('<r><x/><s><t/><u/></s><y/></r>');
    const subtree = root.getElementsByTagName('s').item(0) as Element;
    expect(visited(subtree)).toEqual(['s', 't', 'u']);
    expect(visited(root.getElementsByTagName('u').item(0) as Element)).toEqual(['u']);
  });

  it('walks a document far deeper than the call stack allows', () => {
    const depth = 50_000;
    const root = parse(`${'<n>'.repeat(depth)}<leaf/>${'</n>'.repeat(depth)}`);
    let count = 0;
    forEachElement(root, () => {
      count += 1;
    });
    expect(count).toBe(depth + 1);
  });
});

describe('indexIds', () => {
  it('lists every element carrying an Id, in document order, and leaves out elements without one', () => {
    const root = parse(
      `<r xmlns:wsu="${WSU}"><a wsu:Id="one"/><b><c Id="two"/><d ID="one"/></b><e other="one"/></r>`,
    );
    const ids = indexIds(root);
    expect([...ids.keys()]).toEqual(['one', 'two']);
    expect(ids.get('one')?.map((match) => `${match.element.localName} ${match.attributeName}`)).toEqual([
      'a wsu:Id',
      'd ID',
    ]);
    expect(ids.get('two')?.map((match) => match.resolving)).toEqual([true]);
  });
});
