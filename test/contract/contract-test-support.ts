import { spawnSync } from 'node:child_process';
import fs from 'node:fs';
import path from 'node:path';
import type { Document, Element } from '@xmldom/xmldom';
import { createDomParser } from '../../src/xml/dom-parser';
import { canonicalPayload, type PayloadElement } from '../../src/xml/payload-element';

/** Test helpers for the contract tests: paths, fixtures, SOAP Body payloads, external tools. */

export const REPO_ROOT = path.resolve(__dirname, '..', '..');
export const XSD_DIR = path.join(REPO_ROOT, 'xsd');
export const WSDL_DIR = path.join(REPO_ROOT, 'wsdl');
export const FIXTURES_DIR = path.join(REPO_ROOT, 'fixtures', 'v1');
/** The sample requests of RegisteredMailService (this project's own port). */
export const SERVICE_FIXTURES_DIR = path.join(REPO_ROOT, 'fixtures', 'service');
/** The published contract (reference only; never copied into the tree). */
export const PUBLISHED_DIR = path.resolve(REPO_ROOT, '..', 'shared', 'contract', 'published');

export const NS = {
  soapenv: 'http://schemas.xmlsoap.org/soap/envelope/',
  xsi: 'http://www.w3.org/2001/XMLSchema-instance',
  rm: 'http://socialsecurity.be/registeredmail/v1',
  rms: 'urn:registeredmail:service:v1',
  xmime: 'http://www.w3.org/2005/05/xmlmime',
  wsoma: 'http://schemas.xmlsoap.org/ws/2004/09/policy/optimizedmimeserialization',
  types: 'http://socialsecurity.be/registeredmail/types/v1',
  err: 'http://socialsecurity.be/errors/v1',
  sperr: 'http://socialsecurity.be/errors/serviceprovider/v1',
  mon: 'http://services.fgov.be/monitoring/v1',
  xsd: 'http://www.w3.org/2001/XMLSchema',
  wsdl: 'http://schemas.xmlsoap.org/wsdl/',
  soap: 'http://schemas.xmlsoap.org/wsdl/soap/',
  wsp: 'http://schemas.xmlsoap.org/ws/2004/09/policy',
  sp: 'http://docs.oasis-open.org/ws-sx/ws-securitypolicy/200702',
  wsu: 'http://docs.oasis-open.org/wss/2004/01/oasis-200401-wss-wssecurity-utility-1.0.xsd',
} as const;

export const FIXTURE_FILES = [
  'sendDocument-citizen.xml',
  'sendDocument-enterprise.xml',
  'getStatus.xml',
  'healthCheck-ping.xml',
  'healthCheck-default.xml',
  'healthCheck-deep.xml',
] as const;

/** The sample requests of RegisteredMailService, one per operation and variant. */
export const SERVICE_FIXTURE_FILES = [
  'SendRegisteredMail-citizen.xml',
  'SendRegisteredMail-enterprise.xml',
  'GetStatus.xml',
  'GetProof-all.xml',
  'GetProof-receipt.xml',
  'GetProof-dispatch.xml',
  'GetProof-consultation.xml',
] as const;

export function parseXml(text: string): Document {
  return createDomParser({
    onError: (level, message) => {
      throw new Error(`${level}: ${message}`);
    },
  }).parseFromString(text, 'text/xml');
}

/** What a client parses: a rendered payload as the service writes it (its canonical form), read back. */
export function receivedPayload(payload: PayloadElement): Element {
  return parseXml(canonicalPayload(payload)).documentElement as Element;
}

export function readFixture(name: string): Document {
  return parseXml(fs.readFileSync(path.join(FIXTURES_DIR, name), 'utf8'));
}

export function readServiceFixture(name: string): Document {
  return parseXml(fs.readFileSync(path.join(SERVICE_FIXTURES_DIR, name), 'utf8'));
}

export function childElements(parent: Element): Element[] {
  return Array.from(parent.childNodes).filter((node): node is Element => node.nodeType === 1);
}

/** The single element child of the envelope's soapenv:Body. */
export function bodyPayload(envelope: Document): Element {
  const body = envelope.getElementsByTagNameNS(NS.soapenv, 'Body').item(0);
  if (body === null) throw new Error('no soapenv:Body');
  const [payload] = childElements(body);
  return payload;
}

/** The first descendant of `root` with this namespace and local name. */
export function first(root: Document | Element, namespace: string, localName: string): Element {
  const found = root.getElementsByTagNameNS(namespace, localName).item(0);
  if (found === null) throw new Error(`no {${namespace}}${localName}`);
  return found;
}

export function all(root: Document | Element, namespace: string, localName: string): Element[] {
  return Array.from(root.getElementsByTagNameNS(namespace, localName));
}

/**
 * Whether an external tool is on the PATH. On CI a missing tool fails the test with a clear message;
 * locally the caller skips with that message.
 */
export function toolAvailable(tool: string, probeArgs: string[] = ['--version']): boolean {
  const probe = spawnSync(tool, probeArgs, { stdio: 'ignore' });
  const available = probe.error === undefined;
  if (!available) {
    const message = `${tool} is not installed: the tests that need it cannot run`;
    if (process.env.CI === 'true') throw new Error(message);
    console.warn(`${message} (skipped locally)`);
  }
  return available;
}
