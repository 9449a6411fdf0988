import type { AddressInfo } from 'node:net';
import type { Document, Element } from '@xmldom/xmldom';
import * as soap from 'soap';
import { startTestService, type TestService } from '../support/service-fixture';
import { crawlSchemas, parseXml, soapAddresses, WSDL_NS } from '../support/served-contract';
import { SERVICE_NS, SERVICE_PORT_PATH, servicePortUrl } from '../support/service-port-requests';
import { get } from '../support/soap-client';

/*
 * Issue 6, point 1: RegisteredMailService's contract as clients fetch it, over HTTP, beside the v1
 * port's: the WSDL at /RegisteredMailService?wsdl states the address it is served on, and every schema
 * it leads to is served under that port. The v1 port keeps serving its own contract, which neither names
 * nor leads to anything of the new port (its bytes are compared with the pre-issue-6 publisher in the
 * issue's report; test/integration/wsdl-http.test.ts checks the v1 contract itself).
 */

/** Names of the schemas a set of `?xsd=` addresses serves. */
function schemaNames(locations: readonly string[]): string[] {
  return locations.map((location) => new URL(location).searchParams.get('xsd') ?? '');
}

describe('the own port contract served over HTTP', () => {
  let rm: TestService;
  let url: string;
  let wsdl: Document;

  beforeAll(async () => {
    rm = await startTestService({ RM_DELIVERY_PAUSED: 'true' });
    url = servicePortUrl(rm);
    const result = await get(`${url}?wsdl`);
    expect(result.status).toBe(200);
    expect(String(result.headers['content-type'])).toMatch(/^text\/xml\b/);
    wsdl = parseXml(result.body);
  });
  afterAll(async () => {
    await rm?.close();
  });

  it('is a WSDL of the service namespace whose soap:address is the URL it is served on', () => {
    const root = wsdl.documentElement as Element;
    expect(root.namespaceURI).toBe(WSDL_NS);
    expect(root.getAttribute('targetNamespace')).toBe(SERVICE_NS);
    expect(soapAddresses(wsdl)).toEqual([url]);
  });

  it('leads, through every xs:import and xs:include, to schemas served under the own port', async () => {
    const locations = await crawlSchemas(wsdl);
    for (const location of locations) expect(location.startsWith(`${url}?xsd=`)).toBe(true);
    expect(schemaNames(locations)).toEqual(
      expect.arrayContaining([
        'registeredmail-service-v1.xsd',
        'RegisteredMail_types_v1.xsd',
        'xmime.xsd',
        'socsec-errors-schema-v1.xsd',
      ]),
    );
  });

  it('answers 404 for a schema name it does not serve', async () => {
    for (const name of ['unknown.xsd', '../package.json', '..%2Fxsd%2Fxmime.xsd']) {
      const result = await get(`${url}?xsd=${name}`);
      expect({ name, status: result.status }).toEqual({ name, status: 404 });
    }
  });

  it('loads in node-soap from its URL, which lists the three operations', async () => {
    const client = await soap.createClientAsync(`${url}?wsdl`);
    const description = client.describe() as Record<string, Record<string, Record<string, unknown>>>;
    expect(Object.keys(description)).toEqual(['RegisteredMailService']);
    expect(Object.keys(description.RegisteredMailService)).toEqual(['RegisteredMailServiceSOAP11']);
    const operations = description.RegisteredMailService.RegisteredMailServiceSOAP11;
    expect(Object.keys(operations).sort()).toEqual(['GetProof', 'GetStatus', 'SendRegisteredMail']);
    // The types come from the schemas node-soap fetched from the served schemaLocations.
    expect((operations.GetProof as { input: object }).input).toHaveProperty('Kind');
  });

  it('leaves the v1 contract as it was: its own address, its own schemas, nothing of the new port', async () => {
    const result = await get(`${rm.url}?wsdl`);
    expect(result.status).toBe(200);
    const text = result.body.toString();
    expect(text).not.toContain(SERVICE_NS);
    expect(text).not.toContain(SERVICE_PORT_PATH);
    const v1Wsdl = parseXml(text);
    expect(soapAddresses(v1Wsdl)).toEqual([rm.url]);
    const locations = await crawlSchemas(v1Wsdl);
    for (const location of locations) expect(location.startsWith(`${rm.url}?xsd=`)).toBe(true);
    const names = schemaNames(locations);
    expect(names).not.toContain('registeredmail-service-v1.xsd');
    expect(names).not.toContain('xmime.xsd');
    // The v1 schemas are served identically under the own port, apart from the port in their addresses.
    for (const name of names) {
      const v1Schema = (await get(`${rm.url}?xsd=${name}`)).body.toString();
      const ownSchema = (await get(`${url}?xsd=${name}`)).body.toString();
      expect(ownSchema.split(`${url}?xsd=`).join(`${rm.url}?xsd=`)).toBe(v1Schema);
    }
  });
});

describe('the own port contract with RM_PUBLIC_URL', () => {
  const publicUrl = 'https://esb.example.test';
  let rm: TestService;

  beforeAll(async () => {
    rm = await startTestService({ RM_PUBLIC_URL: publicUrl, RM_DELIVERY_PAUSED: 'true' });
  });
  afterAll(async () => {
    await rm?.close();
  });

  it('publishes the public address as soap:address and in every schemaLocation', async () => {
    const local = `http://127.0.0.1:${(rm.service.server.address() as AddressInfo).port}`;
    const result = await get(`${local}${SERVICE_PORT_PATH}?wsdl`);
    expect(result.status).toBe(200);
    const wsdl = parseXml(result.body);
    expect(soapAddresses(wsdl)).toEqual([`${publicUrl}${SERVICE_PORT_PATH}`]);
    expect(result.body.toString()).not.toContain(local);
    const locations = await crawlSchemas(wsdl, (location) => location.replace(publicUrl, local));
    expect(locations.length).toBeGreaterThanOrEqual(4);
    for (const location of locations)
      expect(location.startsWith(`${publicUrl}${SERVICE_PORT_PATH}?xsd=`)).toBe(true);
  });
});
