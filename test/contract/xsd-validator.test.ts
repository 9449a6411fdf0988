import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { XMLSerializer } from '@xmldom/xmldom';
import { PayloadValidator } from '../../src/contract/xsd-validator';
import { MalformedMessageError, XsdComplianceError } from '../../src/errors/faults';
import {
  FIXTURES_DIR,
  FIXTURE_FILES,
  NS,
  XSD_DIR,
  bodyPayload,
  first,
  parseXml,
  readFixture,
} from './contract-test-support';
import { PAYLOAD_CASES, RECEIPT_CASES } from './payload-corpus';

let validator: PayloadValidator;

beforeAll(async () => {
  validator = await PayloadValidator.load(XSD_DIR);
});

afterAll(() => validator.dispose());

function refusal(action: () => void): XsdComplianceError {
  try {
    action();
  } catch (error) {
    if (error instanceof XsdComplianceError) return error;
    throw error;
  }
  throw new Error('expected an XsdComplianceError, but the payload was accepted');
}

describe('PayloadValidator with the service schemas', () => {
  it.each(FIXTURE_FILES)('accepts the Body payload of fixture %s', (file) => {
    expect(() => validator.validateElement(bodyPayload(readFixture(file)))).not.toThrow();
  });

  it('accepts the Receipt.xml fixture (root types:ReceiptContent)', () => {
    const receipt = fs.readFileSync(path.join(FIXTURES_DIR, 'Receipt.xml'));
    expect(() => validator.validateDocument(receipt)).not.toThrow();
    expect(() => validator.validateDocument(receipt.toString('utf8'))).not.toThrow();
  });

  describe.each(PAYLOAD_CASES.filter((c) => c.valid))('accepts: $name', ({ build }) => {
    it('is valid', () => {
      expect(() => validator.validateElement(build())).not.toThrow();
    });
  });

  describe.each(PAYLOAD_CASES.filter((c) => !c.valid))('refuses: $name', ({ build, message }) => {
    it('throws SOA-03006 with libxml2 message', () => {
      const error = refusal(() => validator.validateElement(build()));
      expect(error.code).toBe('SOA-03006');
      expect(error.kind).toBe('SystemError');
      expect(error.message).toMatch(/^XSD compliance failure: /);
      expect(error.message).toMatch(message ?? /./);
      // Line numbers of a re-serialised element mean nothing to the client.
      expect(error.message).not.toMatch(/line \d+/);
    });
  });

  describe.each(RECEIPT_CASES)('Receipt.xml: $name', ({ xml, valid, message }) => {
    it(valid ? 'is valid' : 'is refused with line numbers', () => {
      if (valid) {
        expect(() => validator.validateDocument(xml())).not.toThrow();
      } else {
        const error = refusal(() => validator.validateDocument(xml()));
        expect(error.message).toMatch(message ?? /./);
        expect(error.message).toMatch(/line \d+: /);
      }
    });
  });

  it('keeps the message short: at most three of libxml2 messages and a count of the rest', () => {
    const document = readFixture('sendDocument-citizen.xml');
    for (const tag of ['Title', 'DownloadFileName', 'Value', 'Type']) {
      for (const element of Array.from(document.getElementsByTagNameNS(NS.types, tag))) {
        element.textContent = '';
      }
    }
    const error = refusal(() => validator.validateElement(bodyPayload(document)));
    expect(error.message.match(/Element '/g)).toHaveLength(3);
    expect(error.message).toMatch(/\(\d+ more\)$/);
  });

  it('cuts very long values in messages', () => {
    const document = readFixture('getStatus.xml');
    first(document, NS.types, 'Ticket').textContent = 'X'.repeat(100_000);
    const error = refusal(() => validator.validateElement(bodyPayload(document)));
    expect(error.message.length).toBeLessThan(1_000);
  });
});

describe('namespace declarations in scope', () => {
  // The xsi:type value uses the prefix `x`, declared on the Envelope only and used by no element name.
  const envelope = `<soapenv:Envelope xmlns:soapenv="${NS.soapenv}" xmlns:rm="${NS.rm}" xmlns:t="${NS.types}"
      xmlns:x="${NS.types}" xmlns:xsi="${NS.xsi}">
    <soapenv:Body>
      <rm:SendDocumentRequest><t:RegisteredMailItem><t:Token/>
        <t:Recipient xsi:type="x:Citizen"><t:INSS>85073003328</t:INSS><t:QualityCode>CITIZEN</t:QualityCode></t:Recipient>
        <t:Document><t:Title>T</t:Title><t:Digest><t:DigestMethod>SHA-256</t:DigestMethod>
          <t:DigestValue>q2+KflNj0Ep59lA4IvslzstvKMDvtXS3y1Ys/+9zVwM=</t:DigestValue></t:Digest>
          <t:DownloadFileName>d.pdf</t:DownloadFileName><t:Type>EDER501</t:Type><t:Content>cid:d</t:Content></t:Document>
      </t:RegisteredMailItem></rm:SendDocumentRequest>
    </soapenv:Body></soapenv:Envelope>`;

  it('validates a payload whose xsi:type prefix is declared only on the Envelope', () => {
    const payload = bodyPayload(parseXml(envelope));
    expect(() => validator.validateElement(payload)).not.toThrow();
  });

  it('would fail without them (the test is meaningful): a plain serialisation loses the prefix', () => {
    const plain = new XMLSerializer().serializeToString(bodyPayload(parseXml(envelope)));
    expect(plain).not.toContain('xmlns:x=');
    expect(() => validator.validateDocument(plain)).toThrow(XsdComplianceError);
  });

  it('does not change the document it validates', () => {
    const document = parseXml(envelope);
    const before = new XMLSerializer().serializeToString(document);
    validator.validateElement(bodyPayload(document));
    expect(new XMLSerializer().serializeToString(document)).toBe(before);
  });

  it('takes a default namespace declared on the Body along', () => {
    const document = parseXml(`<soapenv:Envelope xmlns:soapenv="${NS.soapenv}">
      <soapenv:Body xmlns="${NS.rm}" xmlns:t="${NS.types}"><GetStatusRequest><t:Ticket>7K3M9QX2BH4TZ</t:Ticket></GetStatusRequest></soapenv:Body>
      </soapenv:Envelope>`);
    expect(() => validator.validateElement(bodyPayload(document))).not.toThrow();
  });

  it('prefers the nearest declaration of a prefix', () => {
    const document = parseXml(`<soapenv:Envelope xmlns:soapenv="${NS.soapenv}" xmlns:t="urn:other">
      <soapenv:Body xmlns:t="${NS.types}"><rm:GetStatusRequest xmlns:rm="${NS.rm}"><t:Ticket>7K3M9QX2BH4TZ</t:Ticket></rm:GetStatusRequest></soapenv:Body>
      </soapenv:Envelope>`);
    expect(() => validator.validateElement(bodyPayload(document))).not.toThrow();
  });
});

describe('documents', () => {
  it('refuses a DOCTYPE (SOA-03001) and never expands entities', () => {
    const xml = `<?xml version="1.0"?><!DOCTYPE r [<!ENTITY e "7K3M9QX2BH4TZ">]>
      <t:ReceiptContent xmlns:t="${NS.types}"><t:Ticket>&e;</t:Ticket></t:ReceiptContent>`;
    expect(() => validator.validateDocument(xml)).toThrow(MalformedMessageError);
  });

  it('refuses an external entity without reading it', () => {
    const xml = `<?xml version="1.0"?><!DOCTYPE r [<!ENTITY e SYSTEM "file:///etc/hostname">]>
      <t:ReceiptContent xmlns:t="${NS.types}"><t:Ticket>&e;</t:Ticket></t:ReceiptContent>`;
    expect(() => validator.validateDocument(xml)).toThrow(MalformedMessageError);
  });

  it('refuses XML that is not well-formed with SOA-03001', () => {
    expect(() => validator.validateDocument('<a><b></a>')).toThrow(MalformedMessageError);
  });

  it('ignores xsi:schemaLocation hints: only the compiled schema set counts', () => {
    const hinted = `<rm:GetStatusRequest xmlns:rm="${NS.rm}" xmlns:t="${NS.types}" xmlns:xsi="${NS.xsi}"
        xsi:schemaLocation="${NS.rm} http://127.0.0.1:9/evil.xsd ${NS.types} file:///etc/passwd">
        <t:Ticket>7K3M9QX2BH4TZ</t:Ticket></rm:GetStatusRequest>`;
    expect(() => validator.validateDocument(hinted)).not.toThrow();
    expect(() => validator.validateDocument(hinted.replace('7K3M9QX2BH4TZ', 'bad'))).toThrow(
      XsdComplianceError,
    );
  });

  it('can be used again after a refusal', () => {
    expect(() => validator.validateDocument('<nope/>')).toThrow(XsdComplianceError);
    expect(() => validator.validateElement(bodyPayload(readFixture('getStatus.xml')))).not.toThrow();
  });
});

describe('schema loading is confined to the schema directory', () => {
  let dir: string;
  beforeEach(() => {
    dir = fs.mkdtempSync(path.join(os.tmpdir(), 'rm-xsd-'));
  });
  afterEach(() => fs.rmSync(dir, { recursive: true, force: true }));

  const schemaImporting = (location: string) => `<xs:schema xmlns:xs="http://www.w3.org/2001/XMLSchema"
      targetNamespace="urn:a" elementFormDefault="qualified">
    <xs:import namespace="urn:b" schemaLocation="${location}"/>
    <xs:element name="a" type="xs:string"/></xs:schema>`;
  const schemaB = `<xs:schema xmlns:xs="http://www.w3.org/2001/XMLSchema" targetNamespace="urn:b">
    <xs:element name="b" type="xs:string"/></xs:schema>`;

  it('resolves relative locations, subdirectories included', async () => {
    fs.mkdirSync(path.join(dir, 'sub'));
    fs.writeFileSync(path.join(dir, 'sub', 'a.xsd'), schemaImporting('../b.xsd'));
    fs.writeFileSync(path.join(dir, 'b.xsd'), schemaB);
    const set = await PayloadValidator.compile(dir, [{ namespace: 'urn:a', schemaLocation: 'sub/a.xsd' }]);
    expect(() => set.validateDocument('<b xmlns="urn:b">x</b>')).not.toThrow();
    set.dispose();
  });

  it.each([
    ['a path outside the directory', (outside: string) => `../${path.basename(outside)}/b.xsd`],
    ['an absolute path', (outside: string) => path.join(outside, 'b.xsd')],
    ['a file: URL', (outside: string) => `file://${path.join(outside, 'b.xsd')}`],
    ['an http: URL', () => 'http://127.0.0.1:9/b.xsd'],
  ])('refuses %s: the set does not load', async (_label, location) => {
    const outside = fs.mkdtempSync(path.join(os.tmpdir(), 'rm-xsd-outside-'));
    try {
      fs.writeFileSync(path.join(outside, 'b.xsd'), schemaB);
      fs.writeFileSync(path.join(dir, 'a.xsd'), schemaImporting(location(outside)));
      await expect(
        PayloadValidator.compile(dir, [{ namespace: 'urn:a', schemaLocation: 'a.xsd' }]),
      ).rejects.toThrow(/is incomplete: cannot load/);
    } finally {
      fs.rmSync(outside, { recursive: true, force: true });
    }
  });

  it('refuses a symbolic link that leads out of the directory', async () => {
    const outside = fs.mkdtempSync(path.join(os.tmpdir(), 'rm-xsd-outside-'));
    try {
      fs.writeFileSync(path.join(outside, 'b.xsd'), schemaB);
      fs.symlinkSync(path.join(outside, 'b.xsd'), path.join(dir, 'b.xsd'));
      fs.writeFileSync(path.join(dir, 'a.xsd'), schemaImporting('b.xsd'));
      await expect(
        PayloadValidator.compile(dir, [{ namespace: 'urn:a', schemaLocation: 'a.xsd' }]),
      ).rejects.toThrow(/is incomplete: cannot load b\.xsd/);
    } finally {
      fs.rmSync(outside, { recursive: true, force: true });
    }
  });

  it('fails to load when a schema of the service set is missing', async () => {
    fs.cpSync(XSD_DIR, dir, { recursive: true });
    fs.rmSync(path.join(dir, 'swaref.xsd'));
    await expect(PayloadValidator.load(dir)).rejects.toThrow(/is incomplete: cannot load swaref\.xsd/);
  });

  it('fails to load when the set does not compile', async () => {
    fs.writeFileSync(
      path.join(dir, 'a.xsd'),
      '<xs:schema xmlns:xs="http://www.w3.org/2001/XMLSchema"><xs:element name="a" type="nope"/></xs:schema>',
    );
    await expect(PayloadValidator.compile(dir, [{ namespace: '', schemaLocation: 'a.xsd' }])).rejects.toThrow(
      /does not compile/,
    );
  });
});
