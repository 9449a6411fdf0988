import * as path from 'node:path';
import { serviceUrls, startServiceForInterop, type StartedInteropService } from './interop-service';
import { listOperationsWithZeep, probeZeep } from './python-zeep';

/** A Python integrator's view: zeep 4 loads the WSDL (and its imports) and lists the port's operations. */

const PUBLISHED_WSDL = path.resolve(__dirname, '../../../shared/contract/published/RegisteredMail_v1.wsdl');
const OPERATIONS = ['sendDocument', 'getStatus', 'healthCheck'];

const probe = probeZeep();
const describeWithZeep = probe.available ? describe : describe.skip;

describeWithZeep('zeep (Python) reads the RegisteredMail v1 WSDL', () => {
  const python = (probe as { python: string }).python;

  it('loads the published WSDL from its file path', async () => {
    const listed = await listOperationsWithZeep(python, PUBLISHED_WSDL);
    expect(listed.operations).toEqual(OPERATIONS);
  });

  describe('the served WSDL', () => {
    let service: StartedInteropService;

    beforeAll(async () => {
      service = await startServiceForInterop();
    }, 120_000);

    afterAll(async () => {
      await service?.close();
    });

    it('lists sendDocument, getStatus and healthCheck at the service address', async () => {
      const listed = await listOperationsWithZeep(python, serviceUrls(service).wsdl);
      expect(listed).toMatchObject({ service: 'RegisteredMailService', port: 'RegisteredMailSOAP11' });
      expect(listed.operations).toEqual(OPERATIONS);
      expect(listed.address).toBe(serviceUrls(service).endpoint);
    });
  });
});
