import type { Element } from '@xmldom/xmldom';
import { MalformedMessageError, XsdComplianceError } from '../errors/faults';
import { EVIDENCE_NAMESPACE } from '../evidence/evidence-content';
import { NS } from '../xml/namespaces';
import { loadLibxml2, type Libxml2 } from './libxml2';
import { withSchemaDirectory } from './schema-input-provider';
import { serializeStandalone } from './standalone-element';
import { OWN_SERVICE_NAMESPACE } from './wsdl-publisher';

type XmlDocument = InstanceType<Libxml2['XmlDocument']>;
type XsdValidator = InstanceType<Libxml2['XsdValidator']>;
type ErrorDetail = Libxml2['XmlLibError']['prototype']['details'][number];

/** One namespace of a schema set and the file (relative to the schema directory) that defines it. */
export interface SchemaImport {
  namespace: string;
  schemaLocation: string;
}

/**
 * The schema set of this service (both ports), as imports of one wrapper schema, in this order. The
 * types namespace comes first and through registeredmail-receipt-v1.xsd (which includes
 * RegisteredMail_types_v1.xsd and adds the ReceiptContent element): libxml2 imports a namespace once, from
 * the first location it meets, and skips the later imports of the same namespace from
 * RegisteredMail_types_v1.xsd (by the v1 service, evidence and RegisteredMailService schemas).
 */
export const SERVICE_SCHEMA_SET: readonly SchemaImport[] = [
  { namespace: NS.types, schemaLocation: 'registeredmail-receipt-v1.xsd' },
  { namespace: NS.registeredMail, schemaLocation: 'RegisteredMail_v1.xsd' },
  { namespace: NS.errors, schemaLocation: 'socsec-errors-schema-v1.xsd' },
  { namespace: NS.providerErrors, schemaLocation: 'socsec-errors-schema-ext-v1.xsd' },
  { namespace: NS.monitoring, schemaLocation: 'monitoring-v1.xsd' },
  // The evidence of proofs other than the receipt; it imports the types namespace, already loaded above.
  { namespace: EVIDENCE_NAMESPACE, schemaLocation: 'registeredmail-evidence-v1.xsd' },
  // RegisteredMailService, this project's own port; it imports the types namespace and xmime.xsd.
  { namespace: OWN_SERVICE_NAMESPACE, schemaLocation: 'registeredmail-service-v1.xsd' },
];

/** How many of libxml2's messages a fault repeats, and how long each may be. */
const MAX_MESSAGES = 3;
const MAX_MESSAGE_LENGTH = 300;
const WRAPPER_NAMESPACE = 'urn:registeredmail:schema-set';

function escapeAttribute(value: string): string {
  return value.replace(/&/g, '&amp;').replace(/</g, '&lt;').replace(/"/g, '&quot;');
}

function wrapperSchema(imports: readonly SchemaImport[]): string {
  const lines = imports.map(
    ({ namespace, schemaLocation }) =>
      `  <xs:import namespace="${escapeAttribute(namespace)}" schemaLocation="${escapeAttribute(schemaLocation)}"/>`,
  );
  return [
    `<xs:schema xmlns:xs="http://www.w3.org/2001/XMLSchema" targetNamespace="${WRAPPER_NAMESPACE}">`,
    ...lines,
    '</xs:schema>',
  ].join('\n');
}

function summarise(details: readonly ErrorDetail[], withLines: boolean): string {
  const messages = details.slice(0, MAX_MESSAGES).map((detail) => {
    let text = detail.message.trim().replace(/\s+/g, ' ');
    if (text.length > MAX_MESSAGE_LENGTH) text = `${text.slice(0, MAX_MESSAGE_LENGTH)}…`;
    return withLines && detail.line > 0 ? `line ${detail.line}: ${text}` : text;
  });
  if (details.length > MAX_MESSAGES) messages.push(`(${details.length - MAX_MESSAGES} more)`);
  return messages.length > 0 ? messages.join(' ') : 'the payload is not valid';
}

/**
 * Validates payloads (SOAP Body children of either port), Receipt.xml and evidence documents against one
 * compiled XSD set, with libxml2. Compile once at startup with {@link PayloadValidator.load}; each call
 * parses, validates and frees its own document, so a validator may be used for every request.
 */
export class PayloadValidator {
  private constructor(
    private readonly libxml2: Libxml2,
    private readonly schema: XsdValidator,
    // The wrapper schema document stays alive with the compiled schema, which may point into it.
    private readonly wrapper: XmlDocument,
  ) {}

  /**
   * Compiles this service's schema set (v1 service, types and receipt, both error forms, monitoring,
   * evidence, RegisteredMailService) from `xsdDir`; every schemaLocation is resolved inside `xsdDir` only.
   * One validator serves the payloads of both ports.
   */
  static async load(xsdDir: string): Promise<PayloadValidator> {
    return PayloadValidator.compile(xsdDir, SERVICE_SCHEMA_SET);
  }

  /**
   * Compiles the schema set made of `imports` (locations relative to `xsdDir`, which may have
   * subdirectories). Schema locations inside the set are resolved from files inside `xsdDir` only: no
   * network, no other path.
   * @throws Error when a schema is missing or outside `xsdDir`, or when the set does not compile
   */
  static async compile(xsdDir: string, imports: readonly SchemaImport[]): Promise<PayloadValidator> {
    const libxml2 = await loadLibxml2();
    const { result: compiled, refusedLocations } = withSchemaDirectory(libxml2, xsdDir, (baseUrl) => {
      const wrapper = libxml2.XmlDocument.fromString(wrapperSchema(imports), {
        url: `${baseUrl}schema-set.xsd`,
        option: safeParseOptions(libxml2),
      });
      try {
        return new PayloadValidator(libxml2, libxml2.XsdValidator.fromDoc(wrapper), wrapper);
      } catch (error) {
        wrapper.dispose();
        return error instanceof Error ? error : new Error(String(error));
      }
    });
    if (refusedLocations.length > 0) {
      if (compiled instanceof PayloadValidator) compiled.dispose();
      throw new Error(
        `The schema set in ${xsdDir} is incomplete: cannot load ${refusedLocations.join(', ')} (missing, or not inside the directory)`,
      );
    }
    if (compiled instanceof Error) {
      const details =
        compiled instanceof libxml2.XmlLibError ? summarise(compiled.details, true) : compiled.message;
      throw new Error(`The schema set in ${xsdDir} does not compile: ${details}`, { cause: compiled });
    }
    return compiled;
  }

  /**
   * Validates one element of a parsed message, typically the SOAP Body's payload. Namespace
   * declarations in scope on its ancestors are taken along, so prefixes declared on the Envelope work
   * in `xsi:type` values too.
   * @throws XsdComplianceError (SOA-03006) with libxml2's messages when the element is not valid
   */
  validateElement(element: Element): void {
    this.validateBytes(Buffer.from(serializeStandalone(element), 'utf8'), false);
  }

  /**
   * Validates a whole document (e.g. a Receipt.xml); its root must be a global element of the set.
   * @throws MalformedMessageError (SOA-03001) when it is not well-formed or has a DOCTYPE
   * @throws XsdComplianceError (SOA-03006) with libxml2's messages (and line numbers) when not valid
   */
  validateDocument(xml: Buffer | string): void {
    this.validateBytes(typeof xml === 'string' ? Buffer.from(xml, 'utf8') : xml, true);
  }

  /** Frees the compiled schema. The validator cannot be used afterwards. */
  dispose(): void {
    this.schema.dispose();
    this.wrapper.dispose();
  }

  private validateBytes(bytes: Buffer, isWholeDocument: boolean): void {
    const { XmlDocument, XmlLibError, XmlValidateError } = this.libxml2;
    let document: XmlDocument;
    try {
      document = XmlDocument.fromBuffer(bytes, { option: safeParseOptions(this.libxml2) });
    } catch (error) {
      if (error instanceof XmlLibError) {
        throw new MalformedMessageError(`not well-formed XML (${summarise(error.details, isWholeDocument)})`);
      }
      throw error;
    }
    try {
      if (document.dtd !== null) throw new MalformedMessageError('a DOCTYPE is not allowed');
      this.schema.validate(document);
    } catch (error) {
      if (error instanceof XmlValidateError) {
        throw new XsdComplianceError(summarise(error.details, isWholeDocument));
      }
      throw error;
    } finally {
      document.dispose();
    }
  }
}

/**
 * Parser options for anything libxml2 reads here: no network, no external entities or DTDs, no entity
 * substitution (XML_PARSE_NOENT and XML_PARSE_DTDLOAD are deliberately absent), no system catalog.
 */
function safeParseOptions({ ParseOption }: Libxml2): number {
  return ParseOption.XML_PARSE_NONET | ParseOption.XML_PARSE_NO_XXE | ParseOption.XML_PARSE_NO_SYS_CATALOG;
}
