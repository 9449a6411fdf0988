import { readFileSync } from 'node:fs';
import path from 'node:path';
import { DOMParser, type Element, type Node } from '@xmldom/xmldom';
import { buildEvidence, EVIDENCE_NAMESPACE, type EvidenceFacts } from '../../src/evidence/evidence-content';
import { consignmentFacts, SAMPLE_EVIDENCE, SAMPLE_ISSUER } from './evidence-facts';

const FIXTURES = path.resolve(__dirname, '../../fixtures/evidence');

const consignment: EvidenceFacts = {
  ...consignmentFacts,
  evidenceId: '0b8e6d2c-3f4a-4c1e-9d7b-5a6f8e2d1c40',
  issuer: SAMPLE_ISSUER,
};

function parse(bytes: Buffer | string): Element {
  const document = new DOMParser().parseFromString(bytes.toString(), 'text/xml');
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

function all(element: Element, name: string): Element[] {
  return children(element).filter((candidate) => candidate.localName === name);
}

/** An element tree without the whitespace that indentation adds: namespace, name, text, children. */
type Tree = { name: string; text?: string; children?: Tree[] };

function tree(element: Element): Tree {
  const name = `{${element.namespaceURI ?? ''}}${element.localName ?? ''}`;
  const elements = children(element);
  if (elements.length > 0) {
    const text = Array.from(element.childNodes as ArrayLike<Node>)
      .filter((node) => node.nodeType === 3)
      .map((node) => node.nodeValue ?? '')
      .join('');
    if (text.trim() !== '') throw new Error(`mixed content in ${name}`);
    return { name, children: elements.map(tree) };
  }
  return { name, text: element.textContent ?? '' };
}

describe('buildEvidence', () => {
  test('is UTF-8 XML with a declaration and an Evidence root, every element in the evidence namespace', () => {
    const bytes = buildEvidence(consignment);
    expect(bytes.toString('utf8')).toMatch(
      /^<\?xml version="1\.0" encoding="UTF-8"\?>\n<Evidence xmlns="urn:registeredmail:evidence:v1">/,
    );
    const root = parse(bytes);
    expect(root.localName).toBe('Evidence');
    expect(root.namespaceURI).toBe(EVIDENCE_NAMESPACE);
    expect(EVIDENCE_NAMESPACE).toBe('urn:registeredmail:evidence:v1');
    const everyElement = Array.from(root.getElementsByTagNameNS('*', '*'));
    expect(everyElement.length).toBeGreaterThan(30);
    expect(everyElement.every((element) => element.namespaceURI === EVIDENCE_NAMESPACE)).toBe(true);
  });

  test('the children follow the schema sequence; no EventReasons for an event that is not a failure', () => {
    const root = parse(buildEvidence(consignment));
    expect(names(root)).toEqual([
      'EvidenceIdentifier',
      'ERDSEventId',
      'EventTime',
      'SubmissionTime',
      'SenderDetails',
      'RecipientDetails',
      'UserContentInfo',
      'EvidenceIssuerDetails',
      'EvidenceIssuerPolicyID',
    ]);
    expect(child(root, 'EvidenceIdentifier').textContent).toBe(consignment.evidenceId);
    expect(child(root, 'ERDSEventId').textContent).toBe('ContentConsignment');
    expect(child(root, 'EventTime').textContent).toBe('2024-07-01T09:31:05.250Z');
    expect(child(root, 'SubmissionTime').textContent).toBe('2024-07-01T09:30:00.000Z');
    expect(child(root, 'EvidenceIssuerPolicyID').textContent).toBe(SAMPLE_ISSUER.policyId);
  });

  test('a failure states its reasons right after SubmissionTime, Details only when given', () => {
    const root = parse(
      buildEvidence({
        ...consignment,
        event: 'ContentConsignmentFailure',
        reasons: [{ code: 'EBOX_B01', details: 'not activated' }, { code: 'urn:example:reason:2' }],
      }),
    );
    expect(names(root).slice(3, 6)).toEqual(['SubmissionTime', 'EventReasons', 'SenderDetails']);
    const reasons = all(child(root, 'EventReasons'), 'EventReason');
    expect(reasons.map(names)).toEqual([['Code', 'Details'], ['Code']]);
    expect(child(reasons[0], 'Code').textContent).toBe('EBOX_B01');
    expect(child(reasons[0], 'Details').textContent).toBe('not activated');
    expect(child(reasons[1], 'Code').textContent).toBe('urn:example:reason:2');
  });

  test('sender and citizen recipient details, with the e-Box message id when known', () => {
    const root = parse(buildEvidence(consignment));
    const sender = child(root, 'SenderDetails');
    expect(names(sender)).toEqual(['CompanyID', 'ApplicationID']);
    expect(child(sender, 'CompanyID').textContent).toBe('0861023666');
    expect(child(sender, 'ApplicationID').textContent).toBe('RegisteredMailSampleSender');
    const recipient = child(root, 'RecipientDetails');
    expect(names(recipient)).toEqual(['Citizen', 'QualityCode', 'EboxMessageId']);
    expect(names(child(recipient, 'Citizen'))).toEqual(['INSS']);
    expect(child(child(recipient, 'Citizen'), 'INSS').textContent).toBe('85073003328');
    expect(child(recipient, 'QualityCode').textContent).toBe('CITIZEN');
    expect(child(recipient, 'EboxMessageId').textContent).toBe('EBOX-MSG-5f0c2a81');
  });

  test('an enterprise recipient, without an e-Box message id when none is known', () => {
    const recipient = child(
      parse(
        buildEvidence({
          ...consignment,
          recipient: { kind: 'enterprise', cbe: '0206731645', qualityCode: 'QUAL_SSC' },
          eboxMessageId: undefined,
        }),
      ),
      'RecipientDetails',
    );
    expect(names(recipient)).toEqual(['Enterprise', 'QualityCode']);
    expect(child(child(recipient, 'Enterprise'), 'CompanyID').textContent).toBe('0206731645');
    expect(child(recipient, 'QualityCode').textContent).toBe('QUAL_SSC');
  });

  test('user content: Ticket, Token, the document Part first, then one Part per annex, in order', () => {
    const info = child(parse(buildEvidence(consignment)), 'UserContentInfo');
    expect(names(info)).toEqual(['Ticket', 'Token', 'Part', 'Part', 'Part']);
    expect(child(info, 'Ticket').textContent).toBe('7K3M9QX2BH4TZ');
    expect(child(info, 'Token').textContent).toBe('DOSSIER-2024-000123');
    const parts = all(info, 'Part');
    for (const part of parts) {
      expect(names(part)).toEqual([
        'Role',
        'Title',
        'FileName',
        'ContentType',
        'DigestMethod',
        'DigestValue',
      ]);
    }
    expect(parts.map((part) => child(part, 'Role').textContent)).toEqual(['document', 'annex', 'annex']);
    expect(parts.map((part) => child(part, 'FileName').textContent)).toEqual([
      'decision.pdf',
      'note.txt',
      'calculation.csv',
    ]);
    expect(child(parts[0], 'ContentType').textContent).toBe('application/pdf');
    expect(child(parts[0], 'DigestMethod').textContent).toBe('SHA-256');
    expect(child(parts[0], 'DigestValue').textContent).toBe(
      consignment.document.digest.value.toString('base64'),
    );
  });

  test('a part without a content type has no ContentType; a SHA-512 digest is written as such', () => {
    const info = child(
      parse(
        buildEvidence({
          ...consignment,
          annexes: [
            {
              title: 'Raw data',
              digest: { method: 'SHA-512', value: Buffer.alloc(64, 7) },
              downloadFileName: 'data.bin',
              mime: undefined,
            },
          ],
        }),
      ),
      'UserContentInfo',
    );
    const annex = all(info, 'Part')[1];
    expect(names(annex)).toEqual(['Role', 'Title', 'FileName', 'DigestMethod', 'DigestValue']);
    expect(child(annex, 'DigestMethod').textContent).toBe('SHA-512');
    expect(child(annex, 'DigestValue').textContent).toBe(Buffer.alloc(64, 7).toString('base64'));
  });

  test('issuer details: Name, CompanyID, ServiceURL', () => {
    const issuer = child(parse(buildEvidence(consignment)), 'EvidenceIssuerDetails');
    expect(names(issuer)).toEqual(['Name', 'CompanyID', 'ServiceURL']);
    expect(child(issuer, 'Name').textContent).toBe(SAMPLE_ISSUER.name);
    expect(child(issuer, 'CompanyID').textContent).toBe(SAMPLE_ISSUER.cbe);
    expect(child(issuer, 'ServiceURL').textContent).toBe(SAMPLE_ISSUER.serviceUrl);
  });

  test('values are escaped by the serialiser and read back unchanged, carriage returns included', () => {
    const title = 'Décision <n°1> & "annexe" ]]> \'quoted\'';
    const details = 'line one\r\nline <two> & more';
    const name = 'Operator <&> "S.A."';
    const bytes = buildEvidence({
      ...consignment,
      event: 'ContentConsignmentFailure',
      reasons: [{ code: 'EBOX_B01', details }],
      document: { ...consignment.document, title },
      issuer: { ...SAMPLE_ISSUER, name },
    });
    const text = bytes.toString('utf8');
    expect(text).toContain('<Title>Décision &lt;n°1&gt; &amp; "annexe" ]]&gt; \'quoted\'</Title>');
    expect(text).toContain('<Details>line one&#13;\nline &lt;two&gt; &amp; more</Details>');
    expect(text).not.toContain('<two>');
    const root = parse(bytes);
    const documentPart = all(child(root, 'UserContentInfo'), 'Part')[0];
    expect(child(documentPart, 'Title').textContent).toBe(title);
    expect(child(child(child(root, 'EventReasons'), 'EventReason'), 'Details').textContent).toBe(details);
    expect(child(child(root, 'EvidenceIssuerDetails'), 'Name').textContent).toBe(name);
  });

  test('an empty token gives an empty Token element', () => {
    const info = child(parse(buildEvidence({ ...consignment, token: '' })), 'UserContentInfo');
    expect(child(info, 'Token').textContent).toBe('');
  });

  test.each(SAMPLE_EVIDENCE)(
    'fixtures/evidence/$file is what the builder writes (indentation aside)',
    ({ file, facts }) => {
      const fixture = readFileSync(path.join(FIXTURES, file));
      expect(tree(parse(fixture))).toEqual(tree(parse(buildEvidence(facts))));
    },
  );
});
