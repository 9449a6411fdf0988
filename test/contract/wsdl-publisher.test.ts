import { spawnSync } from 'node:child_process';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { XMLSerializer } from '@xmldom/xmldom';
import { serializeStandalone } from '../../src/contract/standalone-element';
import {
  ContractPublisher,
  SERVICE_PATH,
  type ContractPublisherOptions,
} from '../../src/contract/wsdl-publisher';
import {
  FIXTURE_FILES,
  NS,
  PUBLISHED_DIR,
  WSDL_DIR,
  XSD_DIR,
  all,
  first,
  bodyPayload,
  parseXml,
  readFixture,
  toolAvailable,
} from './contract-test-support';
import { crawlServedContract, schemaLocations } from './served-contract';
import { expectedFacts, wsdlFacts } from './wsdl-facts';

const BASE = 'https://rm.example:8443';
const XSD_URL_PREFIX = `${BASE}${SERVICE_PATH}?xsd=`;

function load(overrides: Partial<ContractPublisherOptions> = {}): Promise<ContractPublisher> {
  return ContractPublisher.load({
    wsdlDir: WSDL_DIR,
    xsdDir: XSD_DIR,
    faultNamespace: 'consumer',
    allowSha1: false,
    ...overrides,
  });
}

/** Follows every schemaLocation from the served WSDL, as a client tool would (see served-contract). */
const crawl = crawlServedContract;

describe('ContractPublisher', () => {
  let publisher: ContractPublisher;
  beforeAll(async () => {
    publisher = await load();
  });

  it('serves soap:address at the base URL', () => {
    const wsdl = parseXml(publisher.wsdl(BASE));
    expect(first(wsdl, NS.soap, 'address').getAttribute('location')).toBe(`${BASE}/RegisteredMail/v1`);
  });

  it('rewrites every schemaLocation of the WSDL to an absolute URL it serves', () => {
    const locations = schemaLocations(parseXml(publisher.wsdl(BASE)));
    expect(locations).toEqual([
      `${XSD_URL_PREFIX}RegisteredMail_v1.xsd`,
      `${XSD_URL_PREFIX}socsec-errors-schema-v1.xsd`,
      `${XSD_URL_PREFIX}monitoring-v1.xsd`,
    ]);
  });

  it('rewrites the schemaLocations of every schema (imports and includes) too', () => {
    for (const name of publisher.xsdNames) {
      for (const location of schemaLocations(parseXml(publisher.xsd(name, BASE) ?? ''))) {
        expect(location.startsWith(XSD_URL_PREFIX)).toBe(true);
        expect(publisher.xsd(location.slice(XSD_URL_PREFIX.length), BASE)).toBeDefined();
      }
    }
    const receipt = parseXml(publisher.xsd('registeredmail-receipt-v1.xsd', BASE) ?? '');
    expect(first(receipt, NS.xsd, 'include').getAttribute('schemaLocation')).toBe(
      `${XSD_URL_PREFIX}RegisteredMail_types_v1.xsd`,
    );
  });

  it('serves every file reachable from the WSDL, following all schemaLocations', () => {
    expect([...crawl(publisher, BASE).keys()].sort()).toEqual([
      'RegisteredMail_types_v1.xsd',
      'RegisteredMail_v1.xsd',
      'monitoring-v1.xsd',
      'socsec-errors-schema-v1.xsd',
      'swaref.xsd',
      'xml.xsd',
    ]);
  });

  it('serves the schemas of the schema directory and nothing else', () => {
    expect([...publisher.xsdNames].sort()).toEqual(
      fs
        .readdirSync(XSD_DIR)
        .filter((name) => name.endsWith('.xsd'))
        .sort(),
    );
  });

  it.each([
    '../wsdl/RegisteredMail_v1.wsdl',
    '../../../etc/passwd',
    '..%2Fwsdl%2FRegisteredMail_v1.wsdl',
    '/etc/passwd',
    'xsd/xml.xsd',
    './xml.xsd',
    'RegisteredMail_v1.wsdl',
    'unknown.xsd',
    'XML.XSD',
    '',
    '__proto__',
    'constructor',
  ])('refuses the name %j', (name) => {
    expect(publisher.xsd(name, BASE)).toBeUndefined();
  });

  it('renders once per base URL and keeps each base URL separate', () => {
    const first = publisher.wsdl(BASE);
    expect(publisher.wsdl(BASE)).toBe(first);
    expect(publisher.wsdl(`${BASE}/`)).toBe(first);
    const other = publisher.wsdl('http://10.0.0.7:8080/esb');
    expect(other).toContain('location="http://10.0.0.7:8080/esb/RegisteredMail/v1"');
    expect(other).toContain(
      'schemaLocation="http://10.0.0.7:8080/esb/RegisteredMail/v1?xsd=RegisteredMail_v1.xsd"',
    );
    expect(other).not.toContain('rm.example');
    expect(publisher.wsdl(BASE)).toBe(first);
    // Many distinct hosts do not grow the cache without bound, and results stay correct.
    for (let i = 0; i < 40; i++)
      expect(publisher.wsdl(`http://host${i}.example`)).toContain(`host${i}.example`);
    expect(publisher.wsdl(BASE)).toBe(first);
  });

  it('escapes a base URL as XML', () => {
    const wsdl = publisher.wsdl('https://rm.example/a&b"<c>');
    expect(() => parseXml(wsdl)).not.toThrow();
  });

  it.each(['rm.example', 'ftp://rm.example', 'https://rm.example/?q=1', 'https://user:pw@rm.example', ''])(
    'refuses the base URL %j',
    (base) => {
      expect(() => publisher.wsdl(base)).toThrow(TypeError);
    },
  );

  it('keeps the consumer fault elements and the Basic256Sha256 suite by default', () => {
    const wsdl = parseXml(publisher.wsdl(BASE));
    expect(wsdlFacts(wsdl)).toEqual(expectedFacts(NS.err));
    expect(all(wsdl, NS.sp, 'Basic256Sha256')).toHaveLength(1);
    expect(all(wsdl, NS.sp, 'Basic256')).toHaveLength(0);
  });

  it('states sp:Basic256 when SHA-1 is allowed', async () => {
    const legacy = await load({ allowSha1: true });
    const wsdl = parseXml(legacy.wsdl(BASE));
    const suite = first(first(wsdl, NS.sp, 'AlgorithmSuite'), NS.wsp, 'Policy');
    expect(all(suite, NS.sp, '*').map((e) => e.localName)).toEqual(['Basic256']);
    expect(all(wsdl, NS.sp, 'Basic256Sha256')).toHaveLength(0);
  });

  it('binds the fault parts to the provider elements with faultNamespace provider', async () => {
    const provider = await load({ faultNamespace: 'provider' });
    const wsdl = parseXml(provider.wsdl(BASE));
    expect(wsdlFacts(wsdl)).toEqual(expectedFacts(NS.sperr));
    const imports = all(first(wsdl, NS.wsdl, 'types'), NS.xsd, 'import').map((i) =>
      i.getAttribute('namespace'),
    );
    expect(imports).toEqual([NS.rm, NS.sperr, NS.mon]);
    expect([...crawl(provider, BASE).keys()]).toEqual(
      expect.arrayContaining(['socsec-errors-schema-ext-v1.xsd', 'socsec-errors-schema-v1.xsd', 'xml.xsd']),
    );
  });

  const publishedWsdl = path.join(PUBLISHED_DIR, 'RegisteredMail_v1.wsdl');
  (fs.existsSync(publishedWsdl) ? it : it.skip)(
    'serves, in the provider form, the facts of the published (provider) WSDL',
    async () => {
      const provider = await load({ faultNamespace: 'provider' });
      expect(wsdlFacts(parseXml(provider.wsdl(BASE)))).toEqual(
        wsdlFacts(parseXml(fs.readFileSync(publishedWsdl, 'utf8'))),
      );
    },
  );
});

describe('ContractPublisher.load', () => {
  let dir: string;
  beforeEach(() => {
    dir = fs.mkdtempSync(path.join(os.tmpdir(), 'rm-publisher-'));
    fs.cpSync(XSD_DIR, path.join(dir, 'xsd'), { recursive: true });
    fs.cpSync(WSDL_DIR, path.join(dir, 'wsdl'), { recursive: true });
  });
  afterEach(() => fs.rmSync(dir, { recursive: true, force: true }));

  const options = (): ContractPublisherOptions => ({
    wsdlDir: path.join(dir, 'wsdl'),
    xsdDir: path.join(dir, 'xsd'),
    faultNamespace: 'consumer',
    allowSha1: false,
  });

  it('serves only *.xsd files of the directory itself', async () => {
    fs.writeFileSync(path.join(dir, 'xsd', 'notes.txt'), 'not a schema');
    fs.mkdirSync(path.join(dir, 'xsd', 'nested.xsd'));
    const publisher = await ContractPublisher.load(options());
    expect(publisher.xsdNames).not.toContain('notes.txt');
    expect(publisher.xsdNames).not.toContain('nested.xsd');
    expect(publisher.xsd('notes.txt', BASE)).toBeUndefined();
  });

  it('refuses to start when a referenced schema is missing', async () => {
    fs.rmSync(path.join(dir, 'xsd', 'swaref.xsd'));
    await expect(ContractPublisher.load(options())).rejects.toThrow(/swaref\.xsd/);
  });

  it('refuses to start when a contract file is not well-formed', async () => {
    fs.writeFileSync(path.join(dir, 'xsd', 'broken.xsd'), '<xs:schema');
    await expect(ContractPublisher.load(options())).rejects.toThrow(/broken\.xsd is not well-formed/);
  });

  it('refuses the provider form when its schema is missing', async () => {
    fs.rmSync(path.join(dir, 'xsd', 'socsec-errors-schema-ext-v1.xsd'));
    await expect(ContractPublisher.load({ ...options(), faultNamespace: 'provider' })).rejects.toThrow(
      /socsec-errors-schema-ext-v1\.xsd/,
    );
  });
});

describe('the served contract and xmllint', () => {
  const hasXmllint = toolAvailable('xmllint', ['--version']);
  const itWithXmllint = hasXmllint ? it : it.skip;

  let dir: string;
  beforeEach(() => {
    dir = fs.mkdtempSync(path.join(os.tmpdir(), 'rm-served-'));
  });
  afterEach(() => fs.rmSync(dir, { recursive: true, force: true }));

  /** Writes the served WSDL and every served schema; returns their paths. */
  async function writeServed(faultNamespace: 'consumer' | 'provider'): Promise<string[]> {
    const publisher = await load({ faultNamespace });
    const files = [path.join(dir, 'RegisteredMail_v1.wsdl')];
    fs.writeFileSync(files[0], publisher.wsdl(BASE));
    for (const [name, text] of crawl(publisher, BASE)) {
      files.push(path.join(dir, name));
      fs.writeFileSync(path.join(dir, name), text);
    }
    return files;
  }

  itWithXmllint.each(['consumer', 'provider'] as const)(
    'accepts the served WSDL and its schemas as well-formed (%s faults)',
    async (faultNamespace) => {
      const files = await writeServed(faultNamespace);
      const result = spawnSync('xmllint', ['--noout', '--nonet', ...files], { encoding: 'utf8' });
      expect(result.stderr).toBe('');
      expect(result.status).toBe(0);
    },
  );

  itWithXmllint(
    'compiles the served schemas, fetched by their served URLs, and validates the fixtures',
    async () => {
      await writeServed('consumer');
      // The WSDL's embedded schema as a schema of its own; its imports are the served absolute URLs,
      // which a catalog maps to the files written above (no network: --nonet).
      const wsdl = parseXml(fs.readFileSync(path.join(dir, 'RegisteredMail_v1.wsdl'), 'utf8'));
      const embedded = new XMLSerializer().serializeToString(
        first(first(wsdl, NS.wsdl, 'types'), NS.xsd, 'schema'),
      );
      fs.writeFileSync(path.join(dir, 'types.xsd'), embedded);
      fs.writeFileSync(
        path.join(dir, 'catalog.xml'),
        `<catalog xmlns="urn:oasis:names:tc:entity:xmlns:xml:catalog">
         <rewriteURI uriStartString="${XSD_URL_PREFIX}" rewritePrefix="file://${dir}/"/>
         <rewriteSystem systemIdStartString="${XSD_URL_PREFIX}" rewritePrefix="file://${dir}/"/>
       </catalog>`,
      );
      const payloads = FIXTURE_FILES.map((file) => {
        const payload = path.join(dir, `payload-${file}`);
        fs.writeFileSync(payload, serializeStandalone(bodyPayload(readFixture(file))));
        return payload;
      });
      const result = spawnSync(
        'xmllint',
        ['--noout', '--nonet', '--schema', path.join(dir, 'types.xsd'), ...payloads],
        {
          encoding: 'utf8',
          env: { ...process.env, XML_CATALOG_FILES: path.join(dir, 'catalog.xml') },
        },
      );
      expect(result.stderr.trim().split('\n')).toEqual(payloads.map((payload) => `${payload} validates`));
      expect(result.status).toBe(0);
    },
  );
});
