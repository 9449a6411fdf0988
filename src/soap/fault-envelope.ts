import type { Document, Element } from '@xmldom/xmldom';
import type { FaultNamespace } from '../config/config';
import { UnexpectedError } from '../errors/faults';
import { ServiceError } from '../errors/service-error';
import { appendElement, createDocument } from '../xml/element-builder';
import { NS } from '../xml/namespaces';

/** What a fault needs besides the error: who answers, in which form, and under which request id. */
export interface FaultContext {
  requestId: string;
  faultNamespace: FaultNamespace;
  /** RM_ENVIRONMENT (PRD, ACC, ...), stated in consumer faults when set. */
  environment: string | undefined;
  now: Date;
}

/** A SOAP fault as a DOM, before it is signed and serialised. */
export interface SoapFaultDocument {
  status: 500;
  document: Document;
  error: ServiceError;
}

const ENVIRONMENTS: Record<string, string> = {
  PRD: 'Production',
  ACC: 'Acceptation',
  INT: 'Integration',
  TST: 'Test',
  SIM: 'Simulation',
  DEV: 'Development',
  LOCAL: 'Development',
};

/** Anything that is not a {@link ServiceError} is `SOA-00001`; its details stay in the log. */
export function asServiceError(error: unknown): ServiceError {
  return error instanceof ServiceError ? error : new UnexpectedError({ cause: error });
}

/**
 * The one place where errors become SOAP 1.1 faults: `faultcode` Client or Server by origin,
 * `faultstring` = the code, and the contract's `BusinessError`/`SystemError` in `detail`, in the consumer
 * form (`errors/v1`) or, with `RM_FAULT_NAMESPACE=provider`, the provider form (with Actor and DateTime).
 * Never a stack trace. Returned as a DOM, for the endpoint to sign before it serialises it once.
 */
export function buildFaultDocument(thrown: unknown, context: FaultContext): SoapFaultDocument {
  const error = asServiceError(thrown);
  const document = createDocument(NS.soap11, 'soapenv:Envelope');
  const envelope = document.documentElement as Element;
  const body = appendElement(envelope, NS.soap11, 'soapenv:Body');
  appendElement(body, NS.soap11, 'soapenv:Fault', (fault) => {
    const faultcode = error.soapFaultCode ?? (error.origin === 'Consumer' ? 'Client' : 'Server');
    appendElement(fault, '', 'faultcode', `soapenv:${faultcode}`);
    appendElement(fault, '', 'faultstring', error.code);
    appendElement(fault, '', 'detail', (detail) => appendErrorDetail(detail, error, context));
  });
  return { status: 500, document, error };
}

function appendErrorDetail(detail: Element, error: ServiceError, context: FaultContext): void {
  const provider = context.faultNamespace === 'provider';
  const ns = provider ? NS.providerErrors : NS.errors;
  const errorElement = appendElement(detail, ns, `err:${error.kind}`, undefined, { Id: context.requestId });
  errorElement.setAttributeNS(NS.xmlns, 'xmlns:err', ns);
  appendElement(errorElement, ns, 'err:Origin', error.origin);
  appendElement(errorElement, ns, 'err:Code', error.code);
  const message = appendElement(errorElement, ns, 'err:Message', error.message);
  message.setAttributeNS(NS.xml, 'xml:lang', 'en');
  if (error.retry !== undefined) appendElement(errorElement, ns, 'err:Retry', String(error.retry));
  if (provider) {
    appendElement(errorElement, ns, 'err:Actor', 'RegisteredMail');
    appendElement(errorElement, ns, 'err:DateTime', context.now.toISOString());
  } else {
    const environment = context.environment && ENVIRONMENTS[context.environment];
    if (environment) appendElement(errorElement, ns, 'err:Environment', environment);
  }
}
