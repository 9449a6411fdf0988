import { expectFault, type ExpectedFault } from '../support/fault-assertions';
import { startTestService, type TestService } from '../support/service-fixture';
import { healthCheckEnvelope } from '../support/v1-requests';

/*
 * RM_MAX_XML_ATTRIBUTES_PER_ELEMENT and RM_MAX_XML_ATTRIBUTES over HTTP: set low enough that a hostile
 * envelope passes them and a signed healthCheck (37 attributes, at most 3 on one element) does not.
 */

const SOAP = 'http://schemas.xmlsoap.org/soap/envelope/';
const HEALTH_CHECK_ACTION = 'http://socialsecurity.be/registeredmail/v1/healthCheck';

function malformed(message: string): ExpectedFault {
  return { code: 'SOA-03001', kind: 'SystemError', message: `Malformed message: ${message}` };
}

describe('attribute limits set through the environment', () => {
  let rm: TestService;

  beforeAll(async () => {
    rm = await startTestService({ RM_MAX_XML_ATTRIBUTES_PER_ELEMENT: '4', RM_MAX_XML_ATTRIBUTES: '45' });
  });
  afterAll(async () => {
    await rm.close();
  });

  it('a signed healthCheck within both limits is answered', async () => {
    const result = await rm.postXml(rm.sign(healthCheckEnvelope('PING')), {
      SOAPAction: HEALTH_CHECK_ACTION,
    });
    if (result.status !== 200)
      throw new Error(`HTTP ${result.status}: ${result.body.toString().slice(0, 2000)}`);
  });

  it('RM_MAX_XML_ATTRIBUTES_PER_ELEMENT: an element with 5 attributes is SOA-03001 naming the limit', async () => {
    const envelope =
      `<soapenv:Envelope xmlns:soapenv="${SOAP}"><soapenv:Header/><soapenv:Body>` +
      `<mon:HealthCheckRequest xmlns:mon="http://services.fgov.be/monitoring/v1" type="PING" a="1" b="2" c="3"/>` +
      `</soapenv:Body></soapenv:Envelope>`;
    expectFault(await rm.postXml(envelope), malformed('an element has more attributes than the limit of 4'));
  });

  it('RM_MAX_XML_ATTRIBUTES: 46 attributes over several elements are SOA-03001 naming the limit', async () => {
    const header = '<x:h xmlns:x="urn:x" a="1" b="2"/>'.repeat(15); // 45, plus the Envelope's declaration
    const envelope =
      `<soapenv:Envelope xmlns:soapenv="${SOAP}"><soapenv:Header>${header}</soapenv:Header><soapenv:Body>` +
      `<mon:HealthCheckRequest xmlns:mon="http://services.fgov.be/monitoring/v1"/></soapenv:Body></soapenv:Envelope>`;
    expectFault(await rm.postXml(envelope), malformed('more attributes than the limit of 45'));
  });
});
