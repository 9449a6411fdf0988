import fs from 'node:fs/promises';
import path from 'node:path';
import { XMLSerializer, onErrorStopParsing, type Document, type Element } from '@xmldom/xmldom';
import type { FaultNamespace } from '../config/config';
import { createDomParser } from '../xml/dom-parser';
import { XML_DECLARATION } from '../xml/markup';
import { NS } from '../xml/namespaces';

/** The path of the v1 port; the WSDL is `?wsdl` on it, each schema `?xsd=<file name>`. */
export const SERVICE_PATH = '/RegisteredMail/v1';
/** The v1 WSDL file in the WSDL directory. */
export const WSDL_FILE_NAME = 'RegisteredMail_v1.wsdl';
/**
 * The path of RegisteredMailService, this project's own port (SendRegisteredMail, GetStatus, GetProof);
 * its WSDL is `?wsdl` on it, each schema `?xsd=<file name>`.
 */
export const OWN_SERVICE_PATH = '/RegisteredMailService';
/** The WSDL file of RegisteredMailService in the WSDL directory. */
export const OWN_WSDL_FILE_NAME = 'RegisteredMailService.wsdl';
/** The binding of RegisteredMailService in {@link OWN_WSDL_FILE_NAME} (for the operation table). */
export const OWN_BINDING_NAME = 'RegisteredMailServiceSOAPBinding';
/** The namespace of RegisteredMailService's messages (xsd/registeredmail-service-v1.xsd). */
export const OWN_SERVICE_NAMESPACE = 'urn:registeredmail:service:v1';
/** The schema that declares the provider form of the fault details. */
export const PROVIDER_ERRORS_XSD = 'socsec-errors-schema-ext-v1.xsd';

/** What {@link ContractPublisher.load} reads and how the served contract must differ from the files. */
export interface ContractPublisherOptions {
  /** Directory holding the WSDL file. */
  wsdlDir: string;
  /** The WSDL file in `wsdlDir`; {@link WSDL_FILE_NAME} (v1) when absent. */
  wsdlFileName?: string;
  /**
   * The path the WSDL is served on, which is also its `soap:address` path and the path of its schemas
   * (`?xsd=<name>`); {@link SERVICE_PATH} (v1) when absent. Must start with `/`.
   */
  servicePath?: string;
  /** Directory of the schemas; every `*.xsd` directly in it is served, nothing else. */
  xsdDir: string;
  /** Which error elements the fault parts are bound to (see RM_FAULT_NAMESPACE). */
  faultNamespace: FaultNamespace;
  /** When the legacy SHA-1 suite is accepted, the served policy says `sp:Basic256`. */
  allowSha1: boolean;
}

const XSD_FILE_NAME = /^[A-Za-z0-9][A-Za-z0-9._-]*\.xsd$/;
const SCHEMA_REFERENCES = new Set(['import', 'include', 'redefine', 'override']);
const PROVIDER_ERRORS_PREFIX = 'sperr';
/** Distinct base URLs rendered and kept; more than a few means Host headers vary: keep memory bounded. */
const MAX_CACHED_BASE_URLS = 16;

interface RenderedContract {
  wsdl: string;
  xsds: ReadonlyMap<string, string>;
}

function parseContractFile(text: string, fileName: string): Document {
  try {
    return createDomParser({ onError: onErrorStopParsing }).parseFromString(text, 'text/xml');
  } catch (error) {
    throw new Error(`Contract file ${fileName} is not well-formed XML`, { cause: error });
  }
}

function elementsNS(document: Document | Element, namespace: string, localName: string): Element[] {
  return Array.from(document.getElementsByTagNameNS(namespace, localName));
}

/** The xs:import / xs:include / xs:redefine / xs:override elements that carry a schemaLocation. */
function schemaReferences(document: Document): Element[] {
  return elementsNS(document, NS.xsd, '*').filter(
    (element) => SCHEMA_REFERENCES.has(element.localName ?? '') && element.hasAttribute('schemaLocation'),
  );
}

/** The file a schemaLocation designates: its last path segment (all schemas live in one folder). */
function referencedFileName(location: string): string {
  return location.split(/[/\\]/).pop() ?? '';
}

/**
 * Makes the policy state the algorithm suite the service enforces: the file says sp:Basic256Sha256;
 * with the legacy SHA-1 setting on, that becomes sp:Basic256 (RSA-SHA1, SHA-1 digests).
 */
function applyAlgorithmSuite(wsdl: Document, wsdlFileName: string, allowSha1: boolean): void {
  const suites = elementsNS(wsdl, NS.securityPolicy, 'Basic256Sha256');
  if (suites.length === 0) {
    throw new Error(`${wsdlFileName} must state the algorithm suite sp:Basic256Sha256`);
  }
  if (!allowSha1) return;
  for (const suite of suites) {
    const prefix = suite.prefix ? `${suite.prefix}:` : '';
    const legacy = wsdl.createElementNS(NS.securityPolicy, `${prefix}Basic256`);
    suite.parentNode?.replaceChild(legacy, suite);
  }
}

/**
 * Binds the fault parts to the provider form (`errors/serviceprovider/v1`) instead of the consumer form,
 * and imports its schema in place of the consumer one.
 */
function applyProviderFaults(wsdl: Document, wsdlFileName: string, xsdNames: ReadonlySet<string>): void {
  if (!xsdNames.has(PROVIDER_ERRORS_XSD)) {
    throw new Error(`The provider fault form needs ${PROVIDER_ERRORS_XSD} in the schema directory`);
  }
  const root = wsdl.documentElement;
  if (root === null) throw new Error(`${wsdlFileName} has no root element`);
  const bound = root.lookupNamespaceURI(PROVIDER_ERRORS_PREFIX);
  if (bound !== null && bound !== NS.providerErrors) {
    throw new Error(`${wsdlFileName} already uses the prefix ${PROVIDER_ERRORS_PREFIX} for ${bound}`);
  }
  root.setAttributeNS(NS.xmlns, `xmlns:${PROVIDER_ERRORS_PREFIX}`, NS.providerErrors);

  let parts = 0;
  for (const part of elementsNS(wsdl, NS.wsdl, 'part')) {
    const qualifiedName = part.getAttribute('element');
    if (qualifiedName === null) continue;
    const colon = qualifiedName.indexOf(':');
    // xmldom finds the default namespace under the prefix '' (not null).
    const prefix = colon < 0 ? '' : qualifiedName.slice(0, colon);
    if (part.lookupNamespaceURI(prefix) !== NS.errors) continue;
    part.setAttribute('element', `${PROVIDER_ERRORS_PREFIX}:${qualifiedName.slice(colon + 1)}`);
    parts++;
  }
  let imports = 0;
  for (const types of elementsNS(wsdl, NS.wsdl, 'types')) {
    for (const schemaImport of elementsNS(types, NS.xsd, 'import')) {
      if (schemaImport.getAttribute('namespace') !== NS.errors) continue;
      schemaImport.setAttribute('namespace', NS.providerErrors);
      schemaImport.setAttribute('schemaLocation', PROVIDER_ERRORS_XSD);
      imports++;
    }
  }
  if (parts === 0 || imports === 0) {
    throw new Error(`${wsdlFileName} must bind its fault parts to ${NS.errors} and import it`);
  }
}

/** Every schemaLocation of `document` must name a served schema; returns nothing, throws otherwise. */
function assertReferencesServed(document: Document, fileName: string, xsdNames: ReadonlySet<string>): void {
  for (const reference of schemaReferences(document)) {
    const location = reference.getAttribute('schemaLocation') ?? '';
    if (!xsdNames.has(referencedFileName(location))) {
      throw new Error(`${fileName} refers to ${location}, which is not a schema of the schema directory`);
    }
  }
}

/**
 * `baseUrl` as the prefix of every published address: an absolute http(s) URL without query, fragment,
 * credentials or trailing slash.
 */
function normaliseBaseUrl(baseUrl: string): string {
  let url: URL;
  try {
    url = new URL(baseUrl);
  } catch {
    throw new TypeError(`Not an absolute URL: ${baseUrl}`);
  }
  if (url.protocol !== 'http:' && url.protocol !== 'https:') throw new TypeError('Not an http(s) URL');
  if (url.search || url.hash || url.username || url.password) {
    throw new TypeError('A base URL has no query, fragment or credentials');
  }
  return `${url.origin}${url.pathname.replace(/\/+$/, '')}`;
}

/** `servicePath` checked: an absolute path of plain segments, no query, no trailing slash. */
function checkServicePath(servicePath: string): string {
  // Segments of unreserved characters, none of them `.` or `..`.
  if (!/^(\/(?!\.{1,2}(?:\/|$))[A-Za-z0-9._~-]+)+$/.test(servicePath)) {
    throw new TypeError(`Not a service path (/segment/...): ${servicePath}`);
  }
  return servicePath;
}

/**
 * The address of a served schema.
 * @param servicePath the path of the port whose publisher serves it; {@link SERVICE_PATH} (v1) by default
 */
export function xsdUrl(baseUrl: string, fileName: string, servicePath: string = SERVICE_PATH): string {
  return `${normaliseBaseUrl(baseUrl)}${servicePath}?xsd=${encodeURIComponent(fileName)}`;
}

/**
 * Serves one port's WSDL and the schemas as clients must see them: `soap:address` is the address the
 * client used, and every schemaLocation (in the WSDL's types and in every schema, xs:import and
 * xs:include) is an absolute URL that this publisher serves, so that tools (wsimport, SoapUI, svcutil)
 * can fetch the whole contract from `?wsdl`. The files are read and checked once at startup; the served
 * text is rendered once per distinct base URL and cached. HTTP routing is not done here.
 *
 * One publisher per port: the v1 port (the defaults) and RegisteredMailService ({@link OWN_WSDL_FILE_NAME}
 * on {@link OWN_SERVICE_PATH}) each have their own, over the same schema directory.
 */
export class ContractPublisher {
  private readonly rendered = new Map<string, RenderedContract>();

  private constructor(
    /** The path this publisher's WSDL is served on (and its `soap:address` and schemas). */
    readonly servicePath: string,
    private readonly wsdlTemplate: Document,
    private readonly xsdTemplates: ReadonlyMap<string, Document>,
  ) {}

  /**
   * Reads the WSDL (`wsdlFileName`, v1's by default) and every `*.xsd` of `xsdDir`, and adapts the WSDL
   * to the settings (algorithm suite, fault form).
   * @throws Error when a file is missing or not well-formed, or when a schemaLocation names a file that
   *   is not in `xsdDir` (the served contract would be incomplete)
   * @throws TypeError when `servicePath` is not a plain absolute path
   */
  static async load(options: ContractPublisherOptions): Promise<ContractPublisher> {
    const wsdlFileName = options.wsdlFileName ?? WSDL_FILE_NAME;
    const servicePath = checkServicePath(options.servicePath ?? SERVICE_PATH);
    const entries = await fs.readdir(options.xsdDir, { withFileTypes: true });
    const xsdTemplates = new Map<string, Document>();
    for (const entry of entries) {
      if (!entry.isFile() || !XSD_FILE_NAME.test(entry.name)) continue;
      const text = await fs.readFile(path.join(options.xsdDir, entry.name), 'utf8');
      xsdTemplates.set(entry.name, parseContractFile(text, entry.name));
    }
    const xsdNames = new Set(xsdTemplates.keys());

    const wsdlText = await fs.readFile(path.join(options.wsdlDir, wsdlFileName), 'utf8');
    const wsdlTemplate = parseContractFile(wsdlText, wsdlFileName);
    if (elementsNS(wsdlTemplate, NS.wsdlSoap11, 'address').length === 0) {
      throw new Error(`${wsdlFileName} has no soap:address`);
    }
    applyAlgorithmSuite(wsdlTemplate, wsdlFileName, options.allowSha1);
    if (options.faultNamespace === 'provider') applyProviderFaults(wsdlTemplate, wsdlFileName, xsdNames);

    assertReferencesServed(wsdlTemplate, wsdlFileName, xsdNames);
    for (const [name, template] of xsdTemplates) assertReferencesServed(template, name, xsdNames);
    return new ContractPublisher(servicePath, wsdlTemplate, xsdTemplates);
  }

  /** The file names {@link xsd} serves. */
  get xsdNames(): readonly string[] {
    return [...this.xsdTemplates.keys()];
  }

  /**
   * The WSDL for clients that reach the service under `baseUrl` (e.g. `https://host:8443`).
   * @throws TypeError when `baseUrl` is not an absolute http(s) URL without query or credentials
   */
  wsdl(baseUrl: string): string {
    return this.render(baseUrl).wsdl;
  }

  /**
   * The schema named `name` (a file name of the schema directory, as in `?xsd=<name>`), or undefined for
   * any other name: paths, `..` and unknown names are never looked up on disk.
   * @throws TypeError when `baseUrl` is not an absolute http(s) URL without query or credentials
   */
  xsd(name: string, baseUrl: string): string | undefined {
    if (!this.xsdTemplates.has(name)) return undefined;
    return this.render(baseUrl).xsds.get(name);
  }

  private render(baseUrl: string): RenderedContract {
    const base = normaliseBaseUrl(baseUrl);
    const cached = this.rendered.get(base);
    if (cached) return cached;

    const xsds = new Map<string, string>();
    for (const [name, template] of this.xsdTemplates) xsds.set(name, this.renderDocument(template, base));
    const rendered: RenderedContract = { wsdl: this.renderDocument(this.wsdlTemplate, base), xsds };

    if (this.rendered.size >= MAX_CACHED_BASE_URLS) {
      const oldest = this.rendered.keys().next().value;
      if (oldest !== undefined) this.rendered.delete(oldest);
    }
    this.rendered.set(base, rendered);
    return rendered;
  }

  /** A copy of `template` with its addresses under `base`, serialised. The template is not changed. */
  private renderDocument(template: Document, base: string): string {
    const document = template.cloneNode(true) as Document;
    for (const address of elementsNS(document, NS.wsdlSoap11, 'address')) {
      address.setAttribute('location', `${base}${this.servicePath}`);
    }
    for (const reference of schemaReferences(document)) {
      const fileName = referencedFileName(reference.getAttribute('schemaLocation') ?? '');
      reference.setAttribute('schemaLocation', xsdUrl(base, fileName, this.servicePath));
    }
    const text = new XMLSerializer().serializeToString(document);
    return text.startsWith('<?xml') ? text : XML_DECLARATION + text;
  }
}
