import { DOMParser, type Document, type Element } from '@xmldom/xmldom';
import { get } from './soap-client';

/*
 * A served WSDL as a client reads it: its soap:address and every schema it leads to, fetched over HTTP
 * by following each xs:import / xs:include schemaLocation (the same checks as
 * test/integration/wsdl-http.test.ts makes for the v1 port, shared by the tests of either port).
 */

/** The WSDL 1.1 namespace. */
export const WSDL_NS = 'http://schemas.xmlsoap.org/wsdl/';
/** The WSDL SOAP 1.1 binding namespace (soap:address, soap:operation). */
export const WSDL_SOAP_NS = 'http://schemas.xmlsoap.org/wsdl/soap/';
/** The XML Schema namespace. */
export const XSD_NS = 'http://www.w3.org/2001/XMLSchema';

/** Parses an XML text or body (test support: trusts its input). */
export function parseXml(xml: Buffer | string): Document {
  return new DOMParser().parseFromString(xml.toString(), 'text/xml');
}

/** The `location` of every soap:address of a WSDL. */
export function soapAddresses(wsdl: Document): string[] {
  return Array.from(wsdl.getElementsByTagNameNS(WSDL_SOAP_NS, 'address')).map(
    (address) => address.getAttribute('location') ?? '',
  );
}

/** The xs:import / xs:include elements of a document that have a schemaLocation. */
export function schemaReferences(document: Document): Element[] {
  return Array.from(document.getElementsByTagNameNS(XSD_NS, '*')).filter(
    (element) =>
      (element.localName === 'import' || element.localName === 'include') &&
      element.hasAttribute('schemaLocation'),
  );
}

/**
 * Follows every schemaLocation from the WSDL, recursively, over HTTP. `toFetchable` maps a published
 * address to one the test can reach. Checks (with jest's expect) that each answer is 200 text/xml and
 * an xs:schema whose targetNamespace is the one its xs:import names.
 * @returns every published schema address met, in the order met
 */
export async function crawlSchemas(
  wsdl: Document,
  toFetchable: (url: string) => string = (url) => url,
): Promise<string[]> {
  const seen = new Set<string>();
  const queue: Element[] = schemaReferences(wsdl);
  while (queue.length > 0) {
    const reference = queue.shift() as Element;
    const location = reference.getAttribute('schemaLocation') ?? '';
    if (seen.has(location)) continue;
    seen.add(location);
    const result = await get(toFetchable(location));
    expect({ location, status: result.status }).toEqual({ location, status: 200 });
    expect(String(result.headers['content-type'])).toMatch(/^text\/xml\b/);
    const schema = parseXml(result.body);
    const root = schema.documentElement as Element;
    expect({ location, namespace: root.namespaceURI, localName: root.localName }).toEqual({
      location,
      namespace: XSD_NS,
      localName: 'schema',
    });
    if (reference.localName === 'import') {
      expect({ location, targetNamespace: root.getAttribute('targetNamespace') }).toEqual({
        location,
        targetNamespace: reference.getAttribute('namespace'),
      });
    }
    queue.push(...schemaReferences(schema));
  }
  return [...seen];
}
