import http from 'node:http';
import type { AddressInfo } from 'node:net';
import path from 'node:path';
import { ContractPublisher, type ContractPublisherOptions } from '../../src/contract/wsdl-publisher';
import type { Document } from '@xmldom/xmldom';
import { NS, WSDL_DIR, XSD_DIR, all, parseXml } from './contract-test-support';

/**
 * Serves contracts over HTTP exactly as the publishers render them (`<path>?wsdl`, `<path>?xsd=<name>`),
 * and nothing else, so that client tools (scomp, zeep, xmllint) can fetch a WSDL and its imports from
 * their served URLs before a port is wired into the running service.
 */
export interface ServedContracts {
  /** `http://127.0.0.1:<port>` */
  baseUrl: string;
  /** `<baseUrl><servicePath>?wsdl` */
  wsdlUrl(servicePath: string): string;
  close(): Promise<void>;
}

/** Loads a publisher of the repository's wsdl/ and xsd/ (consumer faults, SHA-256 suite by default). */
export function loadRepositoryPublisher(
  options: Partial<ContractPublisherOptions> = {},
): Promise<ContractPublisher> {
  return ContractPublisher.load({
    wsdlDir: WSDL_DIR,
    xsdDir: XSD_DIR,
    faultNamespace: 'consumer',
    allowSha1: false,
    ...options,
  });
}

/** Every schemaLocation of a WSDL or schema, in document order. */
export function schemaLocations(document: Document): string[] {
  return all(document, NS.xsd, '*')
    .filter((element) => element.hasAttribute('schemaLocation'))
    .map((element) => element.getAttribute('schemaLocation') ?? '');
}

/**
 * Follows every schemaLocation from the served WSDL, as a client tool would, fetching each through the
 * publisher. Returns the served texts by file name.
 * @throws Error on a location that is not one this publisher serves under its own service path
 */
export function crawlServedContract(publisher: ContractPublisher, base: string): Map<string, string> {
  const prefix = `${base}${publisher.servicePath}?xsd=`;
  const served = new Map<string, string>();
  const pending = schemaLocations(parseXml(publisher.wsdl(base)));
  while (pending.length > 0) {
    const location = pending.shift() ?? '';
    if (!location.startsWith(prefix)) throw new Error(`${location} is not under ${prefix}`);
    const name = decodeURIComponent(location.slice(prefix.length));
    if (served.has(name)) continue;
    const text = publisher.xsd(name, base);
    if (text === undefined) throw new Error(`${location} is referenced but not served`);
    served.set(name, text);
    pending.push(...schemaLocations(parseXml(text)));
  }
  return served;
}

/** Serves each publisher on its own service path, on 127.0.0.1 and a free port. */
export async function serveContracts(publishers: readonly ContractPublisher[]): Promise<ServedContracts> {
  const byPath = new Map(publishers.map((publisher) => [publisher.servicePath, publisher]));
  let baseUrl = '';
  const server = http.createServer((request, response) => {
    const url = new URL(request.url ?? '/', baseUrl);
    const publisher = byPath.get(path.posix.normalize(url.pathname));
    const xsdName = url.searchParams.get('xsd');
    let body: string | undefined;
    if (request.method === 'GET' && publisher !== undefined) {
      if (url.searchParams.has('wsdl')) body = publisher.wsdl(baseUrl);
      else if (xsdName !== null) body = publisher.xsd(xsdName, baseUrl);
    }
    if (body === undefined) {
      response.writeHead(404).end();
      return;
    }
    response.writeHead(200, { 'Content-Type': 'text/xml; charset=utf-8' }).end(body);
  });
  await new Promise<void>((resolve, reject) => {
    server.once('error', reject);
    server.listen(0, '127.0.0.1', () => resolve());
  });
  baseUrl = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
  return {
    baseUrl,
    wsdlUrl: (servicePath) => `${baseUrl}${servicePath}?wsdl`,
    close: () =>
      new Promise<void>((resolve, reject) => {
        server.closeAllConnections();
        server.close((error) => (error ? reject(error) : resolve()));
      }),
  };
}
