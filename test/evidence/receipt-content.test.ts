import { DOMParser, type Element } from '@xmldom/xmldom';
import { existsSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { ANNEX_TYPE, buildReceiptContent, TYPES_NAMESPACE } from '../../src/evidence/receipt-content';
import { runStatus, testWithTool } from '../support/external-tools';
import { citizenFacts } from './receipt-facts';

const XSI = 'http://www.w3.org/2001/XMLSchema-instance';
const RECEIPT_SCHEMA = path.resolve(__dirname, '../../xsd/registeredmail-receipt-v1.xsd');
const withXmllint = testWithTool('xmllint', ['--version']);

function parse(bytes: Buffer): Element {
  const document = new DOMParser().parseFromString(bytes.toString('utf8'), 'text/xml');
  if (document.documentElement === null) throw new Error('no root');
  return document.documentElement;
}

function children(element: Element): Element[] {
  return Array.from(element.childNodes).filter((node): node is Element => node.nodeType === 1);
}

function names(element: Element): string[] {
  return children(element).map((child) => child.localName ?? '');
}

function child(element: Element, name: string): Element {
  const found = children(element).find((candidate) => candidate.localName === name);
  if (!found) throw new Error(`no ${name}`);
  return found;
}

describe('buildReceiptContent', () => {
  test('is UTF-8 XML with a declaration and a ReceiptContent root in the types namespace', () => {
    const bytes = buildReceiptContent(citizenFacts);
    expect(bytes.toString('utf8')).toMatch(/^<\?xml version="1\.0" encoding="UTF-8"\?>\n<ReceiptContent /);
    const root = parse(bytes);
    expect(root.localName).toBe('ReceiptContent');
    expect(root.namespaceURI).toBe(TYPES_NAMESPACE);
    expect(children(root).every((element) => element.namespaceURI === TYPES_NAMESPACE)).toBe(true);
  });

  test('children follow the ReceiptContent sequence', () => {
    const root = parse(buildReceiptContent(citizenFacts));
    expect(names(root)).toEqual(['Ticket', 'Token', 'Recipient', 'Sender', 'Document', 'Annex', 'Annex']);
    expect(child(root, 'Ticket').textContent).toBe('0123456789ABC');
    expect(child(root, 'Token').textContent).toBe('my-token-1');
  });

  test('a citizen recipient is xsi:type Citizen with INSS and QualityCode; the sender is xsi:type Sender', () => {
    const root = parse(buildReceiptContent(citizenFacts));
    const recipient = child(root, 'Recipient');
    expect(recipient.getAttributeNS(XSI, 'type')).toBe('Citizen');
    expect(names(recipient)).toEqual(['INSS', 'QualityCode']);
    expect(child(recipient, 'INSS').textContent).toBe('85073003328');
    const sender = child(root, 'Sender');
    expect(sender.getAttributeNS(XSI, 'type')).toBe('Sender');
    expect(names(sender)).toEqual(['CompanyID', 'ApplicationID']);
    expect(child(sender, 'CompanyID').textContent).toBe('0861023666');
    expect(child(sender, 'ApplicationID').textContent).toBe('dev-sender-1');
  });

  test('an enterprise recipient is xsi:type Enterprise with CompanyID and QualityCode', () => {
    const root = parse(
      buildReceiptContent({
        ...citizenFacts,
        recipient: { kind: 'enterprise', cbe: '0206731645', qualityCode: 'QUAL_EMP_NOSS' },
        annexes: [],
      }),
    );
    const recipient = child(root, 'Recipient');
    expect(recipient.getAttributeNS(XSI, 'type')).toBe('Enterprise');
    expect(names(recipient)).toEqual(['CompanyID', 'QualityCode']);
    expect(child(recipient, 'QualityCode').textContent).toBe('QUAL_EMP_NOSS');
    expect(names(root)).toEqual(['Ticket', 'Token', 'Recipient', 'Sender', 'Document']);
  });

  test('the document is a FileDescription in order, values escaped by the serialiser', () => {
    const bytes = buildReceiptContent(citizenFacts);
    expect(bytes.toString('utf8')).toContain('<Title>Décision &lt;n°1&gt; &amp; "annexe"</Title>');
    const document = child(parse(bytes), 'Document');
    expect(names(document)).toEqual(['Title', 'Digest', 'DownloadFileName', 'MIME', 'Type', 'Language']);
    expect(child(document, 'Title').textContent).toBe('Décision <n°1> & "annexe"');
    const digest = child(document, 'Digest');
    expect(names(digest)).toEqual(['DigestMethod', 'DigestValue']);
    expect(child(digest, 'DigestMethod').textContent).toBe('SHA-256');
    expect(child(digest, 'DigestValue').textContent).toBe(Buffer.alloc(32, 0xab).toString('base64'));
    expect(child(document, 'Type').textContent).toBe('EDER501');
    expect(child(document, 'Language').textContent).toBe('fr');
  });

  test('annexes have Type ANNEX, no Language, and MIME only when given', () => {
    const annexes = children(parse(buildReceiptContent(citizenFacts))).filter(
      (element) => element.localName === 'Annex',
    );
    expect(names(annexes[0])).toEqual(['Title', 'Digest', 'DownloadFileName', 'MIME', 'Type']);
    expect(child(annexes[0], 'Type').textContent).toBe(ANNEX_TYPE);
    expect(child(child(annexes[0], 'Digest'), 'DigestMethod').textContent).toBe('SHA-512');
    expect(names(annexes[1])).toEqual(['Title', 'Digest', 'DownloadFileName', 'Type']);
  });

  test('an empty token gives an empty Token element', () => {
    const root = parse(buildReceiptContent({ ...citizenFacts, token: '' }));
    expect(child(root, 'Token').textContent).toBe('');
  });

  withXmllint('is valid against the receipt schema', () => {
    if (!existsSync(RECEIPT_SCHEMA)) throw new Error(`the receipt schema is missing: ${RECEIPT_SCHEMA}`);
    const dir = mkdtempSync(path.join(os.tmpdir(), 'rm-receipt-xsd-'));
    try {
      const enterprise = buildReceiptContent({
        ...citizenFacts,
        recipient: { kind: 'enterprise', cbe: '0206731645', qualityCode: 'QUAL_SSC' },
        token: '',
      });
      for (const [name, bytes] of [
        ['citizen.xml', buildReceiptContent(citizenFacts)],
        ['enterprise.xml', enterprise],
      ] as const) {
        const file = path.join(dir, name);
        writeFileSync(file, bytes);
        const result = runStatus('xmllint', ['--noout', '--nonet', '--schema', RECEIPT_SCHEMA, file]);
        expect(result.output).toContain('validates');
        expect(result.status).toBe(0);
      }
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });
});
