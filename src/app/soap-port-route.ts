import path from 'node:path';
import type { Element } from '@xmldom/xmldom';
import type { Config } from '../config/config';
import type { OperationHandler } from '../contract/operation-handler';
import { ContractPublisher } from '../contract/wsdl-publisher';
import type { PortRoutes } from '../http/server';
import type { AuthenticatedRequest } from '../policy/enforce-v1-policy';
import { loadOperationTable } from '../soap/operation-table';
import type { ParsedEnvelope } from '../soap/parse-envelope';
import { createSoapEndpoint, type SoapEndpointDependencies } from './soap-endpoint';

/** One SOAP port as the service serves it: its WSDL file, where it is served, and its handlers. */
export interface SoapPortDefinition {
  wsdlDir: string;
  xsdDir: string;
  /** The WSDL file in `wsdlDir` (its binding gives the operation table). */
  wsdlFileName: string;
  bindingName: string;
  /** Where the port answers and serves `?wsdl` and `?xsd=`. */
  servicePath: string;
  handlers: Record<string, OperationHandler>;
  /** The port takes MTOM/XOP requests. */
  mtom: boolean;
  authenticate(envelope: ParsedEnvelope): Promise<AuthenticatedRequest>;
  validatePayload(payload: Element): void;
}

/**
 * Loads a port's contract (served WSDL and schemas, operation table from the binding) and builds its
 * routes: `GET ?wsdl` / `?xsd=<name>` from the publisher, `POST` through the SOAP pipeline.
 */
export async function createSoapPortRoute(
  port: SoapPortDefinition,
  endpointDependencies: SoapEndpointDependencies & { config: Pick<Config, 'security'> },
): Promise<PortRoutes> {
  const { config } = endpointDependencies;
  const publisher = await ContractPublisher.load({
    wsdlDir: port.wsdlDir,
    xsdDir: port.xsdDir,
    wsdlFileName: port.wsdlFileName,
    servicePath: port.servicePath,
    faultNamespace: config.faultNamespace,
    allowSha1: config.security.allowSha1,
  });
  const operations = await loadOperationTable(path.join(port.wsdlDir, port.wsdlFileName), port.bindingName);
  const endpoint = createSoapEndpoint(
    {
      operations,
      handlers: port.handlers,
      mtom: port.mtom,
      authenticate: (envelope) => port.authenticate(envelope),
      validatePayload: (payload) => port.validatePayload(payload),
    },
    endpointDependencies,
  );
  const xml = (body: string) => ({ contentType: 'text/xml; charset=utf-8', body });
  return {
    path: port.servicePath,
    document(query, baseUrl) {
      if (query.has('wsdl')) return xml(publisher.wsdl(baseUrl));
      const name = query.get('xsd');
      const xsd = name === null ? undefined : publisher.xsd(name, baseUrl);
      return xsd === undefined ? undefined : xml(xsd);
    },
    soap: (request, response) => endpoint(request, response),
  };
}
