import type { AddressInfo } from 'node:net';
import type { Document, Element } from '@xmldom/xmldom';
import * as soap from 'soap';
import { expectFault } from '../support/fault-assertions';
import { request } from '../support/raw-http';
import { startTestService, type TestService } from '../support/service-fixture';
import { get } from '../support/soap-client';
import { healthCheckEnvelope } from '../support/v1-requests';
import { WSDL_NS, crawlSchemas, parseXml as parse, soapAddresses } from '../support/served-contract';

/*
 * The contract as clients fetch it: the served WSDL and every schema it leads to, over HTTP, with the
 * addresses clients must use; the algorithm suite the served policy states, and that the service
 * enforces exactly that.
 */

const SP_NS = 'http://docs.oasis-open.org/ws-sx/ws-securitypolicy/200702';
const HEALTH_CHECK_ACTION = 'http://socialsecurity.be/registeredmail/v1/healthCheck';
const SERVICE_PATH = '/RegisteredMail/v1';

/** Where the test listens for the service (its real socket, whatever RM_PUBLIC_URL says). */
function localBaseUrl(rm: TestService): string {
  return `http://127.0.0.1:${(rm.service.server.address() as AddressInfo).port}`;
}

describe('the served WSDL with default settings', () => {
  let rm: TestService;
  let wsdl: Document;

  beforeAll(async () => {
    rm = await startTestService();
    const result = await get(`${rm.url}?wsdl`);
    expect(result.status).toBe(200);
    expect(String(result.headers['content-type'])).toMatch(/^text\/xml\b/);
    wsdl = parse(result.body);
  });
  afterAll(async () => {
    await rm.close();
  });

  it('is a WSDL whose soap:address is the URL the service answers on', () => {
    expect((wsdl.documentElement as Element).namespaceURI).toBe(WSDL_NS);
    expect(soapAddresses(wsdl)).toEqual([rm.url]);
  });

  it('leads, through every xs:import and xs:include, to schemas the service serves', async () => {
    const locations = await crawlSchemas(wsdl, (url) => url);
    for (const location of locations) expect(location.startsWith(`${rm.url}?xsd=`)).toBe(true);
    const names = locations.map((location) => new URL(location).searchParams.get('xsd'));
    expect(names).toEqual(
      expect.arrayContaining([
        'RegisteredMail_v1.xsd',
        'RegisteredMail_types_v1.xsd',
        'socsec-errors-schema-v1.xsd',
        'monitoring-v1.xsd',
        'swaref.xsd',
      ]),
    );
  });

  it('answers 404 for a schema name it does not serve', async () => {
    for (const name of ['unknown.xsd', '../package.json', '..%2Fxsd%2FRegisteredMail_v1.xsd', '']) {
      const result = await get(`${rm.url}?xsd=${name}`);
      expect({ name, status: result.status }).toEqual({ name, status: 404 });
    }
  });

  it('does not put a junk Host header into the WSDL', async () => {
    const result = await request(`${rm.url}?wsdl`, { headers: { Host: 'evil.example"><x y="/z' } });
    expect(result.status).toBe(200);
    const text = result.body.toString();
    expect(text).not.toContain('evil');
    const [address] = soapAddresses(parse(text));
    expect(address).toMatch(/^http:\/\/(localhost|127\.0\.0\.1):\d+\/RegisteredMail\/v1$/);
  });

  it('loads in node-soap, which lists the three operations', async () => {
    const client = await soap.createClientAsync(`${rm.url}?wsdl`);
    const description = client.describe() as Record<string, Record<string, Record<string, unknown>>>;
    expect(Object.keys(description)).toEqual(['RegisteredMailService']);
    expect(Object.keys(description.RegisteredMailService)).toEqual(['RegisteredMailSOAP11']);
    expect(Object.keys(description.RegisteredMailService.RegisteredMailSOAP11).sort()).toEqual([
      'getStatus',
      'healthCheck',
      'sendDocument',
    ]);
    // The types come from the schemas node-soap fetched from the served schemaLocations.
    const getStatus = description.RegisteredMailService.RegisteredMailSOAP11.getStatus as { input: object };
    expect(getStatus.input).toHaveProperty('Ticket');
  });

  it('states the Basic256Sha256 algorithm suite', () => {
    expect(wsdl.getElementsByTagNameNS(SP_NS, 'Basic256Sha256').length).toBeGreaterThan(0);
    expect(wsdl.getElementsByTagNameNS(SP_NS, 'Basic256').length).toBe(0);
  });

  it('refuses a request signed with RSA-SHA1 and SHA-1 digests (SOA-01001)', async () => {
    const signed = rm.sign(healthCheckEnvelope('PING'), {
      signatureAlgorithm: 'rsa-sha1',
      digestAlgorithm: 'sha1',
    });
    const result = await rm.postXml(signed, { SOAPAction: `"${HEALTH_CHECK_ACTION}"` });
    expectFault(result, {
      code: 'SOA-01001',
      kind: 'SystemError',
      message: 'Service call not authenticated.',
    });
  });

  it('accepts the same request signed with RSA-SHA256 (the control)', async () => {
    const result = await rm.postXml(rm.sign(healthCheckEnvelope('PING')), {
      SOAPAction: `"${HEALTH_CHECK_ACTION}"`,
    });
    expect(result.status).toBe(200);
  });
});

describe('the served WSDL with RM_PUBLIC_URL', () => {
  const publicUrl = 'https://esb.example.test';
  let rm: TestService;

  beforeAll(async () => {
    rm = await startTestService({ RM_PUBLIC_URL: publicUrl });
  });
  afterAll(async () => {
    await rm.close();
  });

  it('publishes the public address as soap:address and in every schemaLocation', async () => {
    const local = localBaseUrl(rm);
    const result = await get(`${local}${SERVICE_PATH}?wsdl`);
    expect(result.status).toBe(200);
    const wsdl = parse(result.body);
    expect(soapAddresses(wsdl)).toEqual([`${publicUrl}${SERVICE_PATH}`]);
    expect(result.body.toString()).not.toContain(local);
    const locations = await crawlSchemas(wsdl, (url) => url.replace(publicUrl, local));
    expect(locations.length).toBeGreaterThanOrEqual(5);
    for (const location of locations)
      expect(location.startsWith(`${publicUrl}${SERVICE_PATH}?xsd=`)).toBe(true);
  });
});

describe('the served WSDL with RM_ALLOW_SHA1=true', () => {
  let rm: TestService;

  beforeAll(async () => {
    rm = await startTestService({ RM_ALLOW_SHA1: 'true' });
  });
  afterAll(async () => {
    await rm.close();
  });

  it('states the Basic256 algorithm suite', async () => {
    const wsdl = parse((await get(`${rm.url}?wsdl`)).body);
    expect(wsdl.getElementsByTagNameNS(SP_NS, 'Basic256').length).toBeGreaterThan(0);
    expect(wsdl.getElementsByTagNameNS(SP_NS, 'Basic256Sha256').length).toBe(0);
  });

  it('accepts a request signed with RSA-SHA1 and SHA-1 digests', async () => {
    const signed = rm.sign(healthCheckEnvelope('PING'), {
      signatureAlgorithm: 'rsa-sha1',
      digestAlgorithm: 'sha1',
    });
    const result = await rm.postXml(signed, { SOAPAction: `"${HEALTH_CHECK_ACTION}"` });
    expect(result.status).toBe(200);
    expect(result.body.toString()).toContain('HealthCheckResponse');
  });
});
