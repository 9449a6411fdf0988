import { readFileSync, writeFileSync } from 'node:fs';
import { DOMParser } from '@xmldom/xmldom';
import { canonicalizeExclusive } from '../../../src/wssecurity/exclusive-c14n';
test('x', () => {
  const d = new DOMParser().parseFromString(readFileSync('/tmp/heavy.xml', 'utf8'), 'text/xml');
  const body = d.getElementsByTagNameNS('http://schemas.xmlsoap.org/soap/envelope/', 'Body').item(0)!;
  writeFileSync('/tmp/mine.txt', canonicalizeExclusive(body, []));
});
