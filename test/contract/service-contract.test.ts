import { createHash } from 'node:crypto';
import { spawnSync } from 'node:child_process';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { XMLSerializer, type Document, type Element } from '@xmldom/xmldom';
import { serializeStandalone } from '../../src/contract/standalone-element';
import {
  ContractPublisher,
  OWN_BINDING_NAME,
  OWN_SERVICE_NAMESPACE,
  OWN_SERVICE_PATH,
  OWN_WSDL_FILE_NAME,
  SERVICE_PATH,
  WSDL_FILE_NAME,
} from '../../src/contract/wsdl-publisher';
import { PayloadValidator } from '../../src/contract/xsd-validator';
import { XsdComplianceError } from '../../src/errors/faults';
import { loadOperationTable } from '../../src/soap/operation-table';
import {
  FIXTURES_DIR,
  FIXTURE_FILES,
  NS,
  REPO_ROOT,
  SERVICE_FIXTURES_DIR,
  SERVICE_FIXTURE_FILES,
  WSDL_DIR,
  XSD_DIR,
  all,
  bodyPayload,
  childElements,
  first,
  parseXml,
  readFixture,
  readServiceFixture,
  toolAvailable,
} from './contract-test-support';
import { crawlServedContract, loadRepositoryPublisher, schemaLocations } from './served-contract';
import { policyTree, wsdlFacts, x509Policy, type WsdlFacts } from './wsdl-facts';

/*
 * RegisteredMailService, this project's own port: its WSDL and schema, how the publisher serves them, and
 * the sample requests of both ports, each valid against the schemas.
 */

const BASE = 'https://rm.example:8443';
const OWN_XSD_URL_PREFIX = `${BASE}${OWN_SERVICE_PATH}?xsd=`;
const SERVICE_XSD = 'registeredmail-service-v1.xsd';
const OPERATIONS = ['SendRegisteredMail', 'GetStatus', 'GetProof'] as const;

const readXml = (file: string): Document => parseXml(fs.readFileSync(file, 'utf8'));
const ownWsdl = (): Document => readXml(path.join(WSDL_DIR, OWN_WSDL_FILE_NAME));
const v1Wsdl = (): Document => readXml(path.join(WSDL_DIR, WSDL_FILE_NAME));
const serviceSchema = (): Document => readXml(path.join(XSD_DIR, SERVICE_XSD));

/** The facts a generated client of RegisteredMailService depends on, for a given fault namespace. */
function expectedOwnFacts(faultNamespace: string): WsdlFacts {
  const rms = (local: string) => `{${NS.rms}}${local}`;
  const fault = (name: 'BusinessError' | 'SystemError', partName: string) => ({
    name: partName,
    message: rms(name),
    parts: [{ name: partName, element: `{${faultNamespace}}${name}` }],
  });
  return {
    name: 'RegisteredMailService',
    targetNamespace: NS.rms,
    portType: 'RegisteredMailService',
    binding: {
      name: OWN_BINDING_NAME,
      type: rms('RegisteredMailService'),
      style: 'document',
      transport: 'http://schemas.xmlsoap.org/soap/http',
    },
    service: {
      name: 'RegisteredMailService',
      port: 'RegisteredMailServiceSOAP11',
      binding: rms(OWN_BINDING_NAME),
    },
    operations: OPERATIONS.map((operation) => ({
      name: operation,
      input: {
        name: null,
        message: rms(`${operation}Request`),
        parts: [{ name: `${operation}Request`, element: rms(`${operation}Request`) }],
      },
      output: {
        name: null,
        message: rms(`${operation}Response`),
        parts: [{ name: `${operation}Response`, element: rms(`${operation}Response`) }],
      },
      faults: [fault('BusinessError', 'businessError'), fault('SystemError', 'systemError')],
      soapAction: `urn:registeredmail:service:v1:${operation}`,
      inputUse: 'literal',
      outputUse: 'literal',
      soapFaults: [
        { name: 'businessError', soapName: 'businessError', use: 'literal' },
        { name: 'systemError', soapName: 'systemError', use: 'literal' },
      ],
      inputPolicies: ['#X509'],
      outputPolicies: [],
    })),
  };
}

function documentation(element: Element): string {
  const annotation = childElements(element).find(
    (c) => c.namespaceURI === NS.xsd && c.localName === 'annotation',
  );
  if (annotation === undefined) return '';
  return all(annotation, NS.xsd, 'documentation')
    .map((d) => d.textContent ?? '')
    .join(' ')
    .trim();
}

describe(`wsdl/${OWN_WSDL_FILE_NAME}`, () => {
  it('is document/literal SOAP 1.1 with SendRegisteredMail, GetStatus and GetProof, faults as in v1', () => {
    expect(wsdlFacts(ownWsdl())).toEqual(expectedOwnFacts(NS.err));
  });

  it('has the same X509 policy as the v1 WSDL', () => {
    expect(policyTree(x509Policy(ownWsdl()))).toEqual(policyTree(x509Policy(v1Wsdl())));
  });

  it('states MTOM as an optional policy of the binding', () => {
    const wsdl = ownWsdl();
    const binding = first(wsdl, NS.wsdl, 'binding');
    const references = childElements(binding).filter(
      (c) => c.namespaceURI === NS.wsp && c.localName === 'PolicyReference',
    );
    expect(references.map((r) => r.getAttribute('URI'))).toEqual(['#MTOM']);
    const policy = all(wsdl, NS.wsp, 'Policy').find((p) => p.getAttributeNS(NS.wsu, 'Id') === 'MTOM');
    if (policy === undefined) throw new Error('no wsp:Policy wsu:Id="MTOM"');
    const assertions = childElements(policy);
    expect(assertions.map((a) => `{${a.namespaceURI}}${a.localName}`)).toEqual([
      `{${NS.wsoma}}OptimizedMimeSerialization`,
    ]);
    expect(assertions[0].getAttributeNS(NS.wsp, 'Optional')).toBe('true');
  });

  it('imports its own schema and the consumer errors schema from ../xsd', () => {
    const types = first(ownWsdl(), NS.wsdl, 'types');
    const imports = all(types, NS.xsd, 'import').map((i) => [
      i.getAttribute('namespace'),
      i.getAttribute('schemaLocation'),
    ]);
    expect(imports).toEqual([
      [NS.rms, `../xsd/${SERVICE_XSD}`],
      [NS.err, '../xsd/socsec-errors-schema-v1.xsd'],
    ]);
    for (const [, location] of imports) {
      expect(fs.existsSync(path.join(WSDL_DIR, location ?? ''))).toBe(true);
    }
  });

  it('documents PROOF_B01 (proof not issued yet) and REPO_B01 on GetProof', () => {
    const getProof = all(ownWsdl(), NS.wsdl, 'operation').find((o) => o.getAttribute('name') === 'GetProof');
    const text = getProof ? all(getProof, NS.wsdl, 'documentation')[0]?.textContent : '';
    expect(text).toMatch(/not issued yet is the BusinessError PROOF_B01/);
    expect(text).toMatch(/REPO_B01/);
  });

  it("gives node-soap's operation table (the router's) the three operations and their SOAPActions", async () => {
    const table = await loadOperationTable(path.join(WSDL_DIR, OWN_WSDL_FILE_NAME), OWN_BINDING_NAME);
    expect(table).toEqual(
      OPERATIONS.map((name) => ({
        name,
        soapAction: `urn:registeredmail:service:v1:${name}`,
        inputNamespace: OWN_SERVICE_NAMESPACE,
        inputLocalName: `${name}Request`,
      })),
    );
  });
});

describe(`xsd/${SERVICE_XSD}`, () => {
  it('is in the namespace urn:registeredmail:service:v1', () => {
    expect(serviceSchema().documentElement?.getAttribute('targetNamespace')).toBe(OWN_SERVICE_NAMESPACE);
    expect(NS.rms).toBe(OWN_SERVICE_NAMESPACE);
  });

  it('documents every element, type and enumeration value', () => {
    const schema = serviceSchema();
    const undocumented = ['element', 'complexType', 'simpleType', 'enumeration'].flatMap((kind) =>
      all(schema, NS.xsd, kind)
        .filter((definition) => documentation(definition) === '')
        .map(
          (definition) => `${kind} ${definition.getAttribute('name') ?? definition.getAttribute('value')}`,
        ),
    );
    expect(undocumented).toEqual([]);
  });

  it('imports the v1 types and xmime rather than copying them', () => {
    const schema = serviceSchema();
    const imports = all(schema, NS.xsd, 'import').map((i) => [
      i.getAttribute('namespace'),
      i.getAttribute('schemaLocation'),
    ]);
    expect(imports).toEqual([
      [NS.types, 'RegisteredMail_types_v1.xsd'],
      [NS.xmime, 'xmime.xsd'],
    ]);
    const ownTypes = [...all(schema, NS.xsd, 'complexType'), ...all(schema, NS.xsd, 'simpleType')].map((t) =>
      t.getAttribute('name'),
    );
    for (const reused of ['Entity', 'Citizen', 'Enterprise', 'Digest', 'Meta', 'Ticket', 'Token', 'Status']) {
      expect(ownTypes).not.toContain(reused);
    }
    const typeReferences = new Set(all(schema, NS.xsd, 'element').map((e) => e.getAttribute('type')));
    for (const reused of ['Entity', 'Digest', 'Meta', 'Ticket', 'Token', 'Status', 'CheckEboxStatus']) {
      expect(typeReferences).toContain(`types:${reused}`);
    }
  });

  it('carries documents as xs:base64Binary with xmime:expectedContentTypes (MTOM), proofs as plain bytes', () => {
    const contents = all(serviceSchema(), NS.xsd, 'element')
      .filter((element) => element.getAttribute('name') === 'Content')
      .map((element) => ({
        in: (element.parentNode?.parentNode as Element).getAttribute('name'),
        type: element.getAttribute('type'),
        expected: element.getAttributeNS(NS.xmime, 'expectedContentTypes'),
      }));
    expect(contents).toEqual([
      { in: 'DocumentFile', type: 'xs:base64Binary', expected: '*/*' },
      { in: 'AnnexFile', type: 'xs:base64Binary', expected: '*/*' },
      // No expectedContentTypes: JAXB would type text/xml as a Source, inviting a re-serialisation.
      { in: 'ProofFile', type: 'xs:base64Binary', expected: null },
    ]);
  });

  it('xsd/xmime.xsd declares the attributes expectedContentTypes and contentType', () => {
    const xmime = readXml(path.join(XSD_DIR, 'xmime.xsd'));
    expect(xmime.documentElement?.getAttribute('targetNamespace')).toBe(NS.xmime);
    expect(all(xmime, NS.xsd, 'attribute').map((a) => a.getAttribute('name'))).toEqual([
      'expectedContentTypes',
      'contentType',
    ]);
  });
});

describe('the sample requests (fixtures/v1 and fixtures/service)', () => {
  let validator: PayloadValidator;
  beforeAll(async () => {
    validator = await PayloadValidator.load(XSD_DIR);
  });
  afterAll(() => validator.dispose());

  it.each(SERVICE_FIXTURE_FILES)('%s is valid against the schemas (PayloadValidator)', (file) => {
    expect(() => validator.validateElement(bodyPayload(readServiceFixture(file)))).not.toThrow();
  });

  it.each([
    ...SERVICE_FIXTURE_FILES.map((file) => path.join(SERVICE_FIXTURES_DIR, file)),
    ...FIXTURE_FILES.map((file) => path.join(FIXTURES_DIR, file)),
  ])('%s is an unsigned SOAP 1.1 envelope with one payload', (file) => {
    const envelope = readXml(file).documentElement as Element;
    expect([envelope.namespaceURI, envelope.localName]).toEqual([NS.soapenv, 'Envelope']);
    expect(
      all(envelope, 'http://docs.oasis-open.org/wss/2004/01/oasis-200401-wss-wssecurity-secext-1.0.xsd', '*'),
    ).toHaveLength(0);
    expect(childElements(first(envelope, NS.soapenv, 'Body'))).toHaveLength(1);
  });

  it('cover every operation of both ports', async () => {
    const payloadName = (envelope: Document) => {
      const payload = bodyPayload(envelope);
      return `{${payload.namespaceURI}}${payload.localName}`;
    };
    const sampled = new Set([
      ...SERVICE_FIXTURE_FILES.map((file) => payloadName(readServiceFixture(file))),
      ...FIXTURE_FILES.map((file) => payloadName(readFixture(file))),
    ]);
    const operations = [
      ...(await loadOperationTable(path.join(WSDL_DIR, WSDL_FILE_NAME), 'RegisteredMailSOAPBinding')),
      ...(await loadOperationTable(path.join(WSDL_DIR, OWN_WSDL_FILE_NAME), OWN_BINDING_NAME)),
    ];
    expect(operations).toHaveLength(6);
    const unsampled = operations.filter(
      (operation) => !sampled.has(`{${operation.inputNamespace}}${operation.inputLocalName}`),
    );
    expect(unsampled.map((operation) => operation.name)).toEqual([]);
  });

  it('fixtures/service: every file is listed, and every Digest is the SHA-256 of its inline Content', () => {
    expect(
      fs
        .readdirSync(SERVICE_FIXTURES_DIR)
        .filter((name) => name.endsWith('.xml'))
        .sort(),
    ).toEqual([...SERVICE_FIXTURE_FILES].sort());
    for (const file of ['SendRegisteredMail-citizen.xml', 'SendRegisteredMail-enterprise.xml']) {
      const files = [
        ...all(readServiceFixture(file), NS.rms, 'Document'),
        ...all(readServiceFixture(file), NS.rms, 'Annex'),
      ];
      expect(files.length).toBeGreaterThan(0);
      for (const described of files) {
        const bytes = Buffer.from(first(described, NS.rms, 'Content').textContent ?? '', 'base64');
        expect(bytes.length).toBeGreaterThan(0);
        expect(first(described, NS.types, 'DigestValue').textContent).toBe(
          createHash('sha256').update(bytes).digest('base64'),
        );
      }
    }
  });
});

/** A standalone RegisteredMailService payload: `rms` and `types` declared on its root. */
function payload(localName: string, children: string): Element {
  const xml =
    `<rms:${localName} xmlns:rms="${NS.rms}" xmlns:types="${NS.types}" xmlns:xsi="${NS.xsi}">` +
    `${children}</rms:${localName}>`;
  return parseXml(xml).documentElement as Element;
}

function proofFile(content: Buffer, title: string, type: string): string {
  return (
    `<rms:Title>${title}</rms:Title>` +
    '<rms:Digest><types:DigestMethod>SHA-256</types:DigestMethod>' +
    `<types:DigestValue>${createHash('sha256').update(content).digest('base64')}</types:DigestValue></rms:Digest>` +
    `<rms:DownloadFileName>${title}.xml</rms:DownloadFileName><rms:MIME>text/xml</rms:MIME>` +
    `<rms:Type>${type}</rms:Type><rms:Language>en</rms:Language>` +
    `<rms:Content>${content.toString('base64')}</rms:Content>` +
    // The schema only says base64; a real Signature is a CMS SignedData (the send and proof tests check those).
    `<rms:Signature>${Buffer.from('detached CMS SignedData').toString('base64')}</rms:Signature>`
  );
}

function proof(kind: string, content: Buffer, title: string, type: string): string {
  return `<rms:Proof><rms:Kind>${kind}</rms:Kind><rms:File>${proofFile(content, title, type)}</rms:File></rms:Proof>`;
}

const RECEIPT = () => fs.readFileSync(path.join(FIXTURES_DIR, 'Receipt.xml'));
const EVIDENCE = (name: string) => fs.readFileSync(path.join(REPO_ROOT, 'fixtures', 'evidence', name));

const EVENTS =
  '<rms:Event><rms:Name>ACCEPTED</rms:Name><rms:Time>2024-07-01T09:15:02.412Z</rms:Time>' +
  '<rms:Status>PENDING</rms:Status></rms:Event>' +
  '<rms:Event><rms:Name>PUBLISHED</rms:Name><rms:Time>2024-07-01T09:15:40Z</rms:Time>' +
  '<rms:Status>SENT</rms:Status><rms:EboxMessageId>3f1c2a9e-7b0d-4c55-9a61-0d2f5e8b4c17</rms:EboxMessageId>' +
  '<rms:Detail>e-Box message 3f1c2a9e-7b0d-4c55-9a61-0d2f5e8b4c17</rms:Detail></rms:Event>' +
  '<rms:Event><rms:Name>CONSULTED</rms:Name><rms:Time>2024-07-03T18:02:44Z</rms:Time>' +
  '<rms:Status>SENT</rms:Status></rms:Event>';

/** The citizen sample's payload (prefixes `urn` and `v1`, as SoapUI writes them), changed as text. */
const sendPayload = (change: (xml: string) => string): Element => {
  const xml = serializeStandalone(bodyPayload(readServiceFixture('SendRegisteredMail-citizen.xml')));
  const changed = change(xml);
  if (changed === xml) throw new Error('the change did not apply to the sample');
  return parseXml(changed).documentElement as Element;
};

interface ServiceCase {
  name: string;
  build: () => Element;
  /** For refusals: what libxml2's message must say. */
  refusal?: RegExp;
}

const SERVICE_CASES: readonly ServiceCase[] = [
  {
    name: 'SendRegisteredMailResponse with the receipt inline',
    build: () =>
      payload(
        'SendRegisteredMailResponse',
        '<rms:Ticket>7K3M9QX2BH4TZ</rms:Ticket><rms:Token>DOSSIER-2024-000123</rms:Token>' +
          `<rms:Receipt>${proofFile(RECEIPT(), 'Receipt', 'RECEIPT')}</rms:Receipt>`,
      ),
  },
  {
    name: 'GetStatusResponse with the history',
    build: () =>
      payload(
        'GetStatusResponse',
        `<rms:Ticket>7K3M9QX2BH4TZ</rms:Ticket><rms:Token>DOSSIER-2024-000123</rms:Token><rms:Status>SENT</rms:Status>${EVENTS}`,
      ),
  },
  {
    name: 'GetStatusResponse of a failed item (PUBLICATION_FAILED with its reason)',
    build: () =>
      payload(
        'GetStatusResponse',
        '<rms:Ticket>7K3M9QX2BH4TZ</rms:Ticket><rms:Token></rms:Token><rms:Status>ERROR</rms:Status>' +
          '<rms:Event><rms:Name>ACCEPTED</rms:Name><rms:Time>2024-07-01T09:15:02Z</rms:Time><rms:Status>PENDING</rms:Status></rms:Event>' +
          '<rms:Event><rms:Name>PUBLICATION_FAILED</rms:Name><rms:Time>2024-07-01T10:15:02Z</rms:Time>' +
          '<rms:Status>ERROR</rms:Status><rms:Detail>the e-Box refused the recipient</rms:Detail></rms:Event>',
      ),
  },
  {
    name: 'GetProofResponse for ALL (receipt, dispatch, consultation)',
    build: () =>
      payload(
        'GetProofResponse',
        '<rms:Ticket>7K3M9QX2BH4TZ</rms:Ticket>' +
          proof('RECEIPT', RECEIPT(), 'Receipt', 'RECEIPT') +
          proof('DISPATCH', EVIDENCE('ContentConsignment.xml'), 'ProofOfDispatch', 'PROOF_OF_DISPATCH') +
          proof(
            'CONSULTATION',
            EVIDENCE('ContentHandover.xml'),
            'ProofOfConsultation',
            'PROOF_OF_CONSULTATION',
          ),
      ),
  },
  {
    name: 'GetProofRequest with an unknown kind',
    build: () =>
      payload('GetProofRequest', '<rms:Ticket>7K3M9QX2BH4TZ</rms:Ticket><rms:Kind>LATEST</rms:Kind>'),
    refusal: /Kind'.*not an element of the set/,
  },
  {
    name: 'GetProofResponse with a proof of kind ALL',
    build: () =>
      payload(
        'GetProofResponse',
        '<rms:Ticket>7K3M9QX2BH4TZ</rms:Ticket>' + proof('ALL', RECEIPT(), 'Receipt', 'RECEIPT'),
      ),
    refusal: /Kind'.*not an element of the set/,
  },
  {
    name: 'GetStatusResponse without any event',
    build: () =>
      payload(
        'GetStatusResponse',
        '<rms:Ticket>7K3M9QX2BH4TZ</rms:Ticket><rms:Token>T</rms:Token><rms:Status>PENDING</rms:Status>',
      ),
    refusal: /Missing child element.*Event/,
  },
  {
    name: 'an event that is not one of the enumeration',
    build: () =>
      payload(
        'GetStatusResponse',
        '<rms:Ticket>7K3M9QX2BH4TZ</rms:Ticket><rms:Token>T</rms:Token><rms:Status>PENDING</rms:Status>' +
          '<rms:Event><rms:Name>DELIVERED</rms:Name><rms:Time>2024-07-01T09:15:02Z</rms:Time><rms:Status>SENT</rms:Status></rms:Event>',
      ),
    refusal: /Name'.*not an element of the set/,
  },
  {
    // libxml2 is lenient with some characters (it passes 'cid:a@b.example'): the port's mapper must decode
    // Content strictly, and the Digest check catches the rest.
    name: 'SendRegisteredMail with a Content that is not base64',
    build: () =>
      sendPayload((xml) => xml.replace(/<urn:Content>[^<]*</, '<urn:Content>%PDF-1.4 not encoded!<')),
    refusal: /Content'.*base64Binary/,
  },
  {
    name: 'SendRegisteredMail with an xop:Include not resolved (the SOAP layer inlines XOP before validation)',
    build: () =>
      sendPayload((xml) =>
        xml.replace(
          /<urn:Content>[^<]*<\/urn:Content>/,
          '<urn:Content><xop:Include xmlns:xop="http://www.w3.org/2004/08/xop/include" href="cid:document@registeredmail.example"/></urn:Content>',
        ),
      ),
    refusal: /Content'/,
  },
  {
    name: 'SendRegisteredMail with six annexes',
    build: () =>
      sendPayload((xml) => {
        const annex = /<urn:Annex>[\s\S]*?<\/urn:Annex>/.exec(xml)?.[0] ?? '';
        return xml.replace(annex, annex.repeat(5));
      }),
    refusal: /Annex': This element is not expected/,
  },
  {
    name: 'SendRegisteredMail with a Type on an annex',
    build: () =>
      sendPayload((xml) =>
        xml.replace(
          '<urn:MIME>text/plain</urn:MIME>',
          '<urn:MIME>text/plain</urn:MIME><urn:Type>X</urn:Type>',
        ),
      ),
    refusal: /Type': This element is not expected/,
  },
  {
    name: 'SendRegisteredMail to a Recipient without xsi:type (Entity is abstract)',
    build: () =>
      sendPayload((xml) =>
        xml.replace(/ xsi:type="[^"]*"/, '').replace(/<v1:INSS>.*<\/v1:QualityCode>/s, ''),
      ),
    refusal: /abstract/,
  },
];

describe('PayloadValidator with RegisteredMailService payloads', () => {
  let validator: PayloadValidator;
  beforeAll(async () => {
    validator = await PayloadValidator.load(XSD_DIR);
  });
  afterAll(() => validator.dispose());

  it('validates the payloads of both ports with one compiled schema set', () => {
    expect(() => validator.validateElement(bodyPayload(readFixture('getStatus.xml')))).not.toThrow();
    expect(() => validator.validateElement(bodyPayload(readServiceFixture('GetStatus.xml')))).not.toThrow();
  });

  it.each(SERVICE_CASES.filter((c) => c.refusal === undefined))('accepts: $name', ({ build }) => {
    expect(() => validator.validateElement(build())).not.toThrow();
  });

  it.each(SERVICE_CASES.filter((c) => c.refusal !== undefined))('refuses: $name', ({ build, refusal }) => {
    let refused: unknown;
    try {
      validator.validateElement(build());
    } catch (error) {
      refused = error;
    }
    expect(refused).toBeInstanceOf(XsdComplianceError);
    expect((refused as XsdComplianceError).message).toMatch(refusal ?? /./);
  });
});

describe(`ContractPublisher for ${OWN_WSDL_FILE_NAME}`, () => {
  let publisher: ContractPublisher;
  beforeAll(async () => {
    publisher = await loadRepositoryPublisher({
      wsdlFileName: OWN_WSDL_FILE_NAME,
      servicePath: OWN_SERVICE_PATH,
    });
  });

  it('serves soap:address on /RegisteredMailService at the base URL', () => {
    expect(publisher.servicePath).toBe(OWN_SERVICE_PATH);
    const wsdl = parseXml(publisher.wsdl(BASE));
    expect(first(wsdl, NS.soap, 'address').getAttribute('location')).toBe(`${BASE}/RegisteredMailService`);
    expect(wsdlFacts(wsdl)).toEqual(expectedOwnFacts(NS.err));
  });

  it('rewrites the WSDL imports to URLs under /RegisteredMailService', () => {
    expect(schemaLocations(parseXml(publisher.wsdl(BASE)))).toEqual([
      `${OWN_XSD_URL_PREFIX}${SERVICE_XSD}`,
      `${OWN_XSD_URL_PREFIX}socsec-errors-schema-v1.xsd`,
    ]);
  });

  it('serves every file reachable from the WSDL, all under its own path', () => {
    const served = crawlServedContract(publisher, BASE);
    expect([...served.keys()].sort()).toEqual([
      'RegisteredMail_types_v1.xsd',
      'registeredmail-service-v1.xsd',
      'socsec-errors-schema-v1.xsd',
      'swaref.xsd',
      'xmime.xsd',
      'xml.xsd',
    ]);
    for (const text of served.values()) {
      for (const location of schemaLocations(parseXml(text))) {
        expect(location.startsWith(OWN_XSD_URL_PREFIX)).toBe(true);
      }
    }
  });

  it('binds the faults to the provider elements with faultNamespace provider', async () => {
    const provider = await loadRepositoryPublisher({
      wsdlFileName: OWN_WSDL_FILE_NAME,
      servicePath: OWN_SERVICE_PATH,
      faultNamespace: 'provider',
    });
    const wsdl = parseXml(provider.wsdl(BASE));
    expect(wsdlFacts(wsdl)).toEqual(expectedOwnFacts(NS.sperr));
    expect(
      all(first(wsdl, NS.wsdl, 'types'), NS.xsd, 'import').map((i) => i.getAttribute('namespace')),
    ).toEqual([NS.rms, NS.sperr]);
    expect([...crawlServedContract(provider, BASE).keys()]).toContain('socsec-errors-schema-ext-v1.xsd');
  });

  it('states sp:Basic256 when SHA-1 is allowed', async () => {
    const legacy = await loadRepositoryPublisher({
      wsdlFileName: OWN_WSDL_FILE_NAME,
      servicePath: OWN_SERVICE_PATH,
      allowSha1: true,
    });
    const wsdl = parseXml(legacy.wsdl(BASE));
    expect(all(wsdl, NS.sp, 'Basic256')).toHaveLength(1);
    expect(all(wsdl, NS.sp, 'Basic256Sha256')).toHaveLength(0);
  });

  it('leaves the v1 publisher (the defaults) on /RegisteredMail/v1', async () => {
    const v1 = await loadRepositoryPublisher();
    expect(v1.servicePath).toBe(SERVICE_PATH);
    expect(first(parseXml(v1.wsdl(BASE)), NS.soap, 'address').getAttribute('location')).toBe(
      `${BASE}/RegisteredMail/v1`,
    );
    expect(v1.xsd(SERVICE_XSD, BASE)).toContain(`schemaLocation="${BASE}/RegisteredMail/v1?xsd=xmime.xsd"`);
  });

  it.each(['RegisteredMailService', '/', '/a/../b', '/RegisteredMailService/', '/x?wsdl', '/a b'])(
    'refuses the service path %j',
    async (servicePath) => {
      await expect(
        loadRepositoryPublisher({ wsdlFileName: OWN_WSDL_FILE_NAME, servicePath }),
      ).rejects.toThrow(TypeError);
    },
  );

  it('refuses to start without its WSDL file', async () => {
    await expect(loadRepositoryPublisher({ wsdlFileName: 'Missing.wsdl' })).rejects.toThrow(/Missing\.wsdl/);
  });
});

describe('the served RegisteredMailService contract and xmllint', () => {
  const hasXmllint = toolAvailable('xmllint', ['--version']);
  const itWithXmllint = hasXmllint ? it : it.skip;

  let dir: string;
  beforeEach(() => {
    dir = fs.mkdtempSync(path.join(os.tmpdir(), 'rm-own-served-'));
  });
  afterEach(() => fs.rmSync(dir, { recursive: true, force: true }));

  itWithXmllint.each(['consumer', 'provider'] as const)(
    'compiles the served schemas by their served URLs and validates the samples (%s faults)',
    async (faultNamespace) => {
      const publisher = await loadRepositoryPublisher({
        wsdlFileName: OWN_WSDL_FILE_NAME,
        servicePath: OWN_SERVICE_PATH,
        faultNamespace,
      });
      const wsdlPath = path.join(dir, OWN_WSDL_FILE_NAME);
      fs.writeFileSync(wsdlPath, publisher.wsdl(BASE));
      for (const [name, text] of crawlServedContract(publisher, BASE))
        fs.writeFileSync(path.join(dir, name), text);
      // The WSDL's embedded schema as a schema of its own; a catalog maps the served URLs to the files.
      const embedded = first(first(readXml(wsdlPath), NS.wsdl, 'types'), NS.xsd, 'schema');
      fs.writeFileSync(path.join(dir, 'types.xsd'), new XMLSerializer().serializeToString(embedded));
      fs.writeFileSync(
        path.join(dir, 'catalog.xml'),
        `<catalog xmlns="urn:oasis:names:tc:entity:xmlns:xml:catalog">
         <rewriteURI uriStartString="${OWN_XSD_URL_PREFIX}" rewritePrefix="file://${dir}/"/>
         <rewriteSystem systemIdStartString="${OWN_XSD_URL_PREFIX}" rewritePrefix="file://${dir}/"/>
       </catalog>`,
      );
      const payloads = SERVICE_FIXTURE_FILES.map((file) => {
        const payloadPath = path.join(dir, `payload-${file}`);
        fs.writeFileSync(payloadPath, serializeStandalone(bodyPayload(readServiceFixture(file))));
        return payloadPath;
      });
      const result = spawnSync(
        'xmllint',
        ['--noout', '--nonet', '--schema', path.join(dir, 'types.xsd'), ...payloads],
        { encoding: 'utf8', env: { ...process.env, XML_CATALOG_FILES: path.join(dir, 'catalog.xml') } },
      );
      expect(result.stderr.trim().split('\n')).toEqual(payloads.map((p) => `${p} validates`));
      expect(result.status).toBe(0);
      const wellFormed = spawnSync('xmllint', ['--noout', '--nonet', wsdlPath], { encoding: 'utf8' });
      expect(wellFormed.stderr).toBe('');
      expect(wellFormed.status).toBe(0);
    },
  );
});
