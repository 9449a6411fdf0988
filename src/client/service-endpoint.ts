import { OWN_SERVICE_NAMESPACE, OWN_SERVICE_PATH } from '../contract/wsdl-publisher';
import { ClientUsageError } from './client-errors';

/** The operations of RegisteredMailService (wsdl/RegisteredMailService.wsdl). */
export type ServiceOperation = 'SendRegisteredMail' | 'GetStatus' | 'GetProof';

/** The namespace of RegisteredMailService's messages. */
export const SERVICE_NAMESPACE = OWN_SERVICE_NAMESPACE;

/**
 * The URL of RegisteredMailService for a service's base URL (`http://localhost:8080`): the own port's
 * path is appended unless the URL already ends with it. Query and fragment are not allowed.
 * @throws ClientUsageError when `url` is not an absolute http(s) URL
 */
export function serviceEndpointUrl(url: string): URL {
  let parsed: URL;
  try {
    parsed = new URL(url);
  } catch {
    throw new ClientUsageError(`--url ${url}: not an absolute URL (e.g. http://localhost:8080)`);
  }
  if (!/^https?:$/.test(parsed.protocol) || parsed.search || parsed.hash) {
    throw new ClientUsageError(`--url ${url}: must be an http or https URL without query or fragment`);
  }
  const base = parsed.pathname.replace(/\/+$/, '');
  parsed.pathname = base.endsWith(OWN_SERVICE_PATH) ? base : `${base}${OWN_SERVICE_PATH}`;
  return parsed;
}

/** The SOAPAction header of an operation, quoted as generated clients send it. */
export function soapActionOf(operation: ServiceOperation): string {
  return `"${SERVICE_NAMESPACE}:${operation}"`;
}
