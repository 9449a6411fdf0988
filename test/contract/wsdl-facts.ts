import type { Document, Element } from '@xmldom/xmldom';
import { NS, all, childElements } from './contract-test-support';

/** The facts of a WSDL that generated clients depend on, extracted for comparison. */

export interface PartFacts {
  name: string;
  /** `{namespace}local` */
  element: string;
}

export interface MessageRefFacts {
  name: string | null;
  message: string;
  parts: PartFacts[];
}

export interface OperationFacts {
  name: string;
  input: MessageRefFacts;
  output: MessageRefFacts;
  faults: MessageRefFacts[];
  soapAction: string | null;
  inputUse: string | null;
  outputUse: string | null;
  soapFaults: Array<{ name: string | null; soapName: string | null; use: string | null }>;
  inputPolicies: string[];
  outputPolicies: string[];
}

export interface WsdlFacts {
  name: string | null;
  targetNamespace: string | null;
  portType: string | null;
  binding: { name: string | null; type: string; style: string | null; transport: string | null };
  service: { name: string | null; port: string | null; binding: string };
  operations: OperationFacts[];
}

function resolve(element: Element, qualifiedName: string): string {
  const colon = qualifiedName.indexOf(':');
  // xmldom finds the default namespace under the prefix ''.
  const prefix = colon < 0 ? '' : qualifiedName.slice(0, colon);
  return `{${element.lookupNamespaceURI(prefix) ?? ''}}${qualifiedName.slice(colon + 1)}`;
}

function only(parent: Element | Document, namespace: string, localName: string): Element {
  const found = all(parent, namespace, localName);
  if (found.length !== 1) throw new Error(`expected one {${namespace}}${localName}, found ${found.length}`);
  return found[0];
}

function children(parent: Element, namespace: string, localName: string): Element[] {
  return childElements(parent).filter((c) => c.namespaceURI === namespace && c.localName === localName);
}

export function wsdlFacts(document: Document): WsdlFacts {
  const definitions = only(document, NS.wsdl, 'definitions');
  const targetNamespace = definitions.getAttribute('targetNamespace');
  const messages = new Map(
    children(definitions, NS.wsdl, 'message').map((m) => [
      `{${targetNamespace}}${m.getAttribute('name')}`,
      m,
    ]),
  );

  const messageRef = (reference: Element): MessageRefFacts => {
    const message = resolve(reference, reference.getAttribute('message') ?? '');
    const definition = messages.get(message);
    if (definition === undefined) throw new Error(`unknown message ${message}`);
    return {
      name: reference.getAttribute('name'),
      message,
      parts: children(definition, NS.wsdl, 'part').map((part) => ({
        name: part.getAttribute('name') ?? '',
        element: resolve(part, part.getAttribute('element') ?? ''),
      })),
    };
  };

  const portType = only(definitions, NS.wsdl, 'portType');
  const binding = only(definitions, NS.wsdl, 'binding');
  const soapBinding = only(binding, NS.soap, 'binding');
  const bindingOperations = new Map(
    children(binding, NS.wsdl, 'operation').map((o) => [o.getAttribute('name'), o]),
  );
  const port = only(definitions, NS.wsdl, 'port');

  const policyUris = (element: Element | undefined) =>
    element ? all(element, NS.wsp, 'PolicyReference').map((r) => r.getAttribute('URI') ?? '') : [];

  const operations = children(portType, NS.wsdl, 'operation').map((operation): OperationFacts => {
    const name = operation.getAttribute('name') ?? '';
    const bound = bindingOperations.get(name);
    if (bound === undefined) throw new Error(`operation ${name} is not bound`);
    const [boundInput] = children(bound, NS.wsdl, 'input');
    const [boundOutput] = children(bound, NS.wsdl, 'output');
    const soapOperation = children(bound, NS.soap, 'operation')[0];
    return {
      name,
      input: messageRef(children(operation, NS.wsdl, 'input')[0]),
      output: messageRef(children(operation, NS.wsdl, 'output')[0]),
      faults: children(operation, NS.wsdl, 'fault').map(messageRef),
      soapAction: soapOperation?.getAttribute('soapAction') ?? null,
      inputUse: children(boundInput, NS.soap, 'body')[0]?.getAttribute('use') ?? null,
      outputUse: children(boundOutput, NS.soap, 'body')[0]?.getAttribute('use') ?? null,
      soapFaults: children(bound, NS.wsdl, 'fault').map((fault) => {
        const soapFault = children(fault, NS.soap, 'fault')[0];
        return {
          name: fault.getAttribute('name'),
          soapName: soapFault?.getAttribute('name') ?? null,
          use: soapFault?.getAttribute('use') ?? null,
        };
      }),
      inputPolicies: policyUris(boundInput),
      outputPolicies: policyUris(boundOutput),
    };
  });

  return {
    name: definitions.getAttribute('name'),
    targetNamespace,
    portType: portType.getAttribute('name'),
    binding: {
      name: binding.getAttribute('name'),
      type: resolve(binding, binding.getAttribute('type') ?? ''),
      style: soapBinding.getAttribute('style'),
      transport: soapBinding.getAttribute('transport'),
    },
    service: {
      name: only(definitions, NS.wsdl, 'service').getAttribute('name'),
      port: port.getAttribute('name'),
      binding: resolve(port, port.getAttribute('binding') ?? ''),
    },
    operations,
  };
}

/** The X509 policy as a tree of assertion names (with IncludeToken), for comparison. */
export interface PolicyTree {
  name: string;
  includeToken?: string;
  children: PolicyTree[];
}

export function policyTree(element: Element): PolicyTree {
  const includeToken = element.getAttributeNS(NS.sp, 'IncludeToken');
  return {
    name: `{${element.namespaceURI}}${element.localName}`,
    ...(includeToken ? { includeToken } : {}),
    children: childElements(element).map(policyTree),
  };
}

/** The wsp:Policy with wsu:Id="X509". */
export function x509Policy(document: Document): Element {
  const policy = all(document, NS.wsp, 'Policy').find((p) => p.getAttributeNS(NS.wsu, 'Id') === 'X509');
  if (policy === undefined) throw new Error('no wsp:Policy wsu:Id="X509"');
  return policy;
}

/** The facts table of the contract (docs: esb-contract-v1.md, "Operations"), for a given fault namespace. */
export function expectedFacts(faultNamespace: string): WsdlFacts {
  const rm = (local: string) => `{${NS.rm}}${local}`;
  const message = (name: string, partName: string, element: string, refName: string | null = null) => ({
    name: refName,
    message: rm(name),
    parts: [{ name: partName, element }],
  });
  const businessError = message(
    'BusinessError',
    'businessError',
    `{${faultNamespace}}BusinessError`,
    'businessError',
  );
  const systemError = message('SystemError', 'systemError', `{${faultNamespace}}SystemError`, 'systemError');
  const literalFaults = [
    { name: 'businessError', soapName: 'businessError', use: 'literal' },
    { name: 'systemError', soapName: 'systemError', use: 'literal' },
  ];
  return {
    name: 'RegisteredMail',
    targetNamespace: NS.rm,
    portType: 'RegisteredMailPortType',
    binding: {
      name: 'RegisteredMailSOAPBinding',
      type: rm('RegisteredMailPortType'),
      style: 'document',
      transport: 'http://schemas.xmlsoap.org/soap/http',
    },
    service: {
      name: 'RegisteredMailService',
      port: 'RegisteredMailSOAP11',
      binding: rm('RegisteredMailSOAPBinding'),
    },
    operations: [
      {
        name: 'sendDocument',
        input: message('SendDocumentRequest', 'SendDocumentRequest', rm('SendDocumentRequest')),
        output: message('SendDocumentResponse', 'SendDocumentResponse', rm('SendDocumentResponse')),
        faults: [businessError, systemError],
        soapAction: '',
        inputUse: 'literal',
        outputUse: 'literal',
        soapFaults: literalFaults,
        inputPolicies: ['#X509'],
        outputPolicies: [],
      },
      {
        name: 'getStatus',
        input: message('GetStatusRequest', 'GetStatusRequest', rm('GetStatusRequest')),
        output: message('GetStatusResponse', 'GetStatusResponse', rm('GetStatusResponse')),
        faults: [businessError, systemError],
        soapAction: '',
        inputUse: 'literal',
        outputUse: 'literal',
        soapFaults: literalFaults,
        inputPolicies: ['#X509'],
        outputPolicies: [],
      },
      {
        name: 'healthCheck',
        input: message(
          'HealthCheckRequest',
          'HealthCheckRequest',
          `{${NS.mon}}HealthCheckRequest`,
          'HealthCheckRequest',
        ),
        output: message(
          'HealthCheckResponse',
          'HealthCheckResponse',
          `{${NS.mon}}HealthCheckResponse`,
          'HealthCheckResponse',
        ),
        faults: [{ ...systemError, name: 'SystemError' }],
        soapAction: 'http://socialsecurity.be/registeredmail/v1/healthCheck',
        inputUse: 'literal',
        outputUse: 'literal',
        soapFaults: [{ name: 'SystemError', soapName: 'SystemError', use: 'literal' }],
        inputPolicies: ['#X509'],
        outputPolicies: [],
      },
    ],
  };
}
