import { ContractPublisher, type ContractPublisherOptions } from '../../src/contract/wsdl-publisher';
import type { Document } from '@xmldom/xmldom';
import { NS, WSDL_DIR, XSD_DIR, all, parseXml } from './contract-test-support';

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
