import * as path from 'node:path';
import { OWN_WSDL_FILE_NAME } from '../../src/contract/wsdl-publisher';
import {
  ownServiceUrls,
  serviceUrls,
  startServiceForInterop,
  type StartedInteropService,
} from './interop-service';
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

describeWithZeep("zeep (Python) reads the RegisteredMailService WSDL (this project's own port)", () => {
  const python = (probe as { python: string }).python;
  const port = { service: 'RegisteredMailService', port: 'RegisteredMailServiceSOAP11' };
  const operations = ['SendRegisteredMail', 'GetStatus', 'GetProof'];

  it('loads wsdl/RegisteredMailService.wsdl from its file path', async () => {
    const wsdl = path.resolve(__dirname, '../../wsdl', OWN_WSDL_FILE_NAME);
    expect((await listOperationsWithZeep(python, wsdl, port)).operations).toEqual(operations);
  });

  describe('served by the running service', () => {
    let service: StartedInteropService;

    beforeAll(async () => {
      service = await startServiceForInterop();
    }, 120_000);

    afterAll(async () => {
      await service?.close();
    });

    it('loads /RegisteredMailService?wsdl and its imports over HTTP and lists the three operations at the service address', async () => {
      const listed = await listOperationsWithZeep(python, ownServiceUrls(service).wsdl, port);
      expect(listed).toEqual({ ...port, operations, address: ownServiceUrls(service).endpoint });
    });
  });
});
