import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { DOMParser, type Element } from '@xmldom/xmldom';
import { PayloadValidator, SERVICE_SCHEMA_SET } from '../../src/contract/xsd-validator';
import {
  buildEvidence,
  ERDS_EVENTS,
  EVIDENCE_NAMESPACE,
  isFailureEvent,
  type EvidenceFacts,
} from '../../src/evidence/evidence-content';
import { XsdComplianceError } from '../../src/errors/faults';
import { runStatus, testWithTool } from '../support/external-tools';
import { consignmentFacts, SAMPLE_EVIDENCE, SAMPLE_ISSUER } from './evidence-facts';

const XSD_DIR = path.resolve(__dirname, '../../xsd');
const EVIDENCE_SCHEMA = path.join(XSD_DIR, 'registeredmail-evidence-v1.xsd');
const FIXTURES = path.resolve(__dirname, '../../fixtures/evidence');
const XS = 'http://www.w3.org/2001/XMLSchema';
const withXmllint = testWithTool('xmllint', ['--version']);

const base: EvidenceFacts = {
  ...consignmentFacts,
  evidenceId: '0b8e6d2c-3f4a-4c1e-9d7b-5a6f8e2d1c40',
  issuer: SAMPLE_ISSUER,
};

let validator: PayloadValidator;

beforeAll(async () => {
  validator = await PayloadValidator.load(XSD_DIR);
});
afterAll(() => validator.dispose());

function refusal(xml: Buffer | string): XsdComplianceError {
  try {
    validator.validateDocument(xml);
  } catch (error) {
    if (error instanceof XsdComplianceError) return error;
    throw error;
  }
  throw new Error('expected an XsdComplianceError, but the evidence was accepted');
}

const annex = {
  title: 'Annex',
  digest: { method: 'SHA-256' as const, value: Buffer.alloc(32, 1) },
  downloadFileName: 'annex.txt',
  mime: 'text/plain',
};

/** Facts the builder writes faithfully and the schema refuses, with what libxml2 says. */
const INVALID_FACTS: ReadonlyArray<[string, EvidenceFacts, RegExp]> = [
  [
    'an INSS of 10 digits',
    { ...base, recipient: { kind: 'citizen', inss: '8507300332', qualityCode: 'CITIZEN' } },
    /INSS/,
  ],
  [
    'an INSS with a letter',
    { ...base, recipient: { kind: 'citizen', inss: '8507300332X', qualityCode: 'CITIZEN' } },
    /INSS/,
  ],
  ['a sender CBE of 9 digits', { ...base, sender: { ...base.sender, cbe: '861023666' } }, /CompanyID/],
  [
    'an issuer CBE starting with 2',
    { ...base, issuer: { ...SAMPLE_ISSUER, cbe: '2406798006' } },
    /CompanyID/,
  ],
  ['an upper-case UUID', { ...base, evidenceId: base.evidenceId.toUpperCase() }, /EvidenceIdentifier/],
  ['an event the schema does not know', { ...base, event: 'ContentDelivered' as never }, /ERDSEventId/],
  [
    'a SHA-1 digest',
    { ...base, document: { ...base.document, digest: { method: 'SHA-1', value: Buffer.alloc(20, 1) } } },
    /DigestMethod/,
  ],
  [
    'an empty digest',
    { ...base, document: { ...base.document, digest: { method: 'SHA-256', value: Buffer.alloc(0) } } },
    /DigestValue/,
  ],
  [
    'a content type with parameters',
    { ...base, document: { ...base.document, mime: 'text/plain; charset=utf-8' } },
    /ContentType/,
  ],
  ['six annexes (seven parts)', { ...base, annexes: Array.from({ length: 6 }, () => annex) }, /Part/],
  ['a token of 51 characters', { ...base, token: 'x'.repeat(51) }, /Token/],
  ['a ticket with an O', { ...base, ticket: '7K3M9QX2BH4TO' }, /Ticket/],
  ['an empty e-Box message id', { ...base, eboxMessageId: '' }, /EboxMessageId/],
  [
    'a policy identifier that is not a URI',
    { ...base, issuer: { ...SAMPLE_ISSUER, policyId: '1.3.6.1.4.1' } },
    /EvidenceIssuerPolicyID/,
  ],
  [
    'a service URL that is not http(s)',
    { ...base, issuer: { ...SAMPLE_ISSUER, serviceUrl: 'ftp://example.org/' } },
    /ServiceURL/,
  ],
  [
    'a reason code with a space',
    { ...base, event: 'ContentConsignmentFailure', reasons: [{ code: 'EBOX B01' }] },
    /Code/,
  ],
];

/** Changes to written evidence that the schema refuses. */
const INVALID_EDITS: ReadonlyArray<[string, (xml: string) => string, RegExp]> = [
  [
    'EventTime after SubmissionTime',
    (xml) => xml.replace(/(<EventTime>[^<]*<\/EventTime>)(<SubmissionTime>[^<]*<\/SubmissionTime>)/, '$2$1'),
    /SubmissionTime|EventTime/,
  ],
  ['a time that is not UTC', (xml) => xml.replace(/Z<\/EventTime>/, '+02:00</EventTime>'), /EventTime/],
  ['no Part at all', (xml) => xml.replace(/<Part>.*<\/Part>/, ''), /UserContentInfo|Part/],
  [
    'EventReasons without a reason',
    (xml) => xml.replace('<SenderDetails>', '<EventReasons/><SenderDetails>'),
    /EventReasons/,
  ],
  [
    'an element of another namespace',
    (xml) => xml.replace('<Ticket>', '<x:Ticket xmlns:x="urn:other">').replace('</Ticket>', '</x:Ticket>'),
    /Ticket/,
  ],
  ['an unknown element', (xml) => xml.replace('</Evidence>', '<Note>x</Note></Evidence>'), /Note/],
  [
    'no EvidenceIssuerPolicyID',
    (xml) => xml.replace(/<EvidenceIssuerPolicyID>[^<]*<\/EvidenceIssuerPolicyID>/, ''),
    /EvidenceIssuerPolicyID|Evidence/,
  ],
];

function schemaDocument(): Element {
  const root = new DOMParser().parseFromString(
    readFileSync(EVIDENCE_SCHEMA, 'utf8'),
    'text/xml',
  ).documentElement;
  if (root === null) throw new Error('empty schema');
  return root;
}

function documentation(declaration: Element): string {
  return Array.from(declaration.getElementsByTagNameNS(XS, 'documentation'))
    .filter((doc) => (doc.parentNode as Element | null)?.parentNode === declaration)
    .map((doc) => doc.textContent ?? '')
    .join(' ')
    .replace(/\s+/g, ' ')
    .trim();
}

describe('the evidence schema', () => {
  test('is part of the service schema set, under the evidence namespace', () => {
    expect(SERVICE_SCHEMA_SET).toContainEqual({
      namespace: EVIDENCE_NAMESPACE,
      schemaLocation: 'registeredmail-evidence-v1.xsd',
    });
    const root = schemaDocument();
    expect(root.getAttribute('targetNamespace')).toBe(EVIDENCE_NAMESPACE);
    expect(root.getAttribute('elementFormDefault')).toBe('qualified');
  });

  test.each(SAMPLE_EVIDENCE)(
    'accepts fixtures/evidence/$file and the builder output it comes from',
    ({ file, facts }) => {
      expect(() => validator.validateDocument(readFileSync(path.join(FIXTURES, file)))).not.toThrow();
      expect(() => validator.validateDocument(buildEvidence(facts))).not.toThrow();
    },
  );

  test.each(ERDS_EVENTS)('accepts an evidence of %s', (event) => {
    const facts: EvidenceFacts = isFailureEvent(event)
      ? { ...base, event, reasons: [{ code: 'EBOX_B01' }] }
      : { ...base, event, reasons: undefined };
    expect(() => validator.validateDocument(buildEvidence(facts))).not.toThrow();
  });

  test('accepts the optional parts left out: no e-Box message id, an annex without content type, an empty token', () => {
    const facts: EvidenceFacts = {
      ...base,
      eboxMessageId: undefined,
      token: '',
      recipient: { kind: 'enterprise', cbe: '0206731645', qualityCode: 'QUAL_EMP_NOSS' },
      annexes: [{ ...annex, mime: undefined, digest: { method: 'SHA-512', value: Buffer.alloc(64, 2) } }],
    };
    expect(() => validator.validateDocument(buildEvidence(facts))).not.toThrow();
  });

  test.each(INVALID_FACTS)('refuses %s', (_name, facts, message) => {
    const error = refusal(buildEvidence(facts));
    expect(error.code).toBe('SOA-03006');
    expect(error.message).toMatch(message);
  });

  test.each(INVALID_EDITS)('refuses %s', (_name, edit, message) => {
    const original = buildEvidence(base).toString('utf8');
    const edited = edit(original);
    expect(edited).not.toBe(original);
    expect(refusal(edited).message).toMatch(message);
  });

  test('the enumeration of ERDSEventId is the events the code knows', () => {
    const enumeration = Array.from(schemaDocument().getElementsByTagNameNS(XS, 'simpleType')).find(
      (type) => type.getAttribute('name') === 'ERDSEventId',
    );
    if (enumeration === undefined) throw new Error('no ERDSEventId type');
    const values = Array.from(enumeration.getElementsByTagNameNS(XS, 'enumeration'));
    expect(values.map((value) => value.getAttribute('value'))).toEqual([...ERDS_EVENTS]);
    for (const value of values) expect(documentation(value)).toMatch(/^EN 319 522: /);
  });

  test('every element is documented; each part of an Evidence says which meaning of EN 319 522 it states', () => {
    const root = schemaDocument();
    const elements = Array.from(root.getElementsByTagNameNS(XS, 'element'));
    expect(elements.length).toBeGreaterThan(30);
    for (const element of elements) {
      expect({
        element: element.getAttribute('name'),
        documented: documentation(element).length > 0,
      }).toEqual({
        element: element.getAttribute('name'),
        documented: true,
      });
    }
    const evidenceType = Array.from(root.getElementsByTagNameNS(XS, 'complexType')).find(
      (type) => type.getAttribute('name') === 'Evidence',
    );
    if (evidenceType === undefined) throw new Error('no Evidence type');
    const parts = Array.from(evidenceType.getElementsByTagNameNS(XS, 'element'));
    expect(parts.map((part) => part.getAttribute('name'))).toEqual([
      'EvidenceIdentifier',
      'ERDSEventId',
      'EventTime',
      'SubmissionTime',
      'EventReasons',
      'SenderDetails',
      'RecipientDetails',
      'UserContentInfo',
      'EvidenceIssuerDetails',
      'EvidenceIssuerPolicyID',
    ]);
    for (const part of parts) expect(documentation(part)).toMatch(/^EN 319 522: .*TS 102 640-2/);
  });

  withXmllint(
    'validates on its own with xmllint, as an auditor without this code would check an evidence',
    () => {
      const dir = mkdtempSync(path.join(os.tmpdir(), 'rm-evidence-xsd-'));
      try {
        const files = SAMPLE_EVIDENCE.map(({ file }) => path.join(FIXTURES, file));
        const built = path.join(dir, 'built.xml');
        writeFileSync(built, buildEvidence(base));
        const result = runStatus('xmllint', [
          '--noout',
          '--nonet',
          '--schema',
          EVIDENCE_SCHEMA,
          ...files,
          built,
        ]);
        expect(result.output.match(/ validates$/gm)).toHaveLength(files.length + 1);
        expect(result.status).toBe(0);

        const invalid = path.join(dir, 'invalid.xml');
        writeFileSync(invalid, buildEvidence({ ...base, token: 'x'.repeat(51) }));
        const refused = runStatus('xmllint', ['--noout', '--nonet', '--schema', EVIDENCE_SCHEMA, invalid]);
        expect(refused.output).toMatch(/Token.*fails to validate/s);
        expect(refused.status).not.toBe(0);
      } finally {
        rmSync(dir, { recursive: true, force: true });
      }
    },
  );
});
