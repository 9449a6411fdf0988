import { randomUUID } from 'node:crypto';
import type { IncomingMessage, ServerResponse } from 'node:http';
import type { Document, Element } from '@xmldom/xmldom';
import type { Clock } from '../clock/clock';
import type { Config } from '../config/config';
import type { OperationHandler } from '../contract/operation-handler';
import type { RenderedResponse } from '../contract/rendered-response';
import { MalformedMessageError } from '../errors/faults';
import { ServiceError } from '../errors/service-error';
import {
  multipartSoapResponse,
  plainSoapResponse,
  type EncodedResponse,
} from '../http/mime/multipart-response';
import { readSoapRequest, type IncomingSoapRequest } from '../http/mime/read-soap-request';
import type { Logger } from '../logging/logger';
import type { AuthenticatedRequest } from '../policy/enforce-v1-policy';
import { checkMustUnderstand } from '../soap/check-must-understand';
import { buildFaultDocument } from '../soap/fault-envelope';
import { selectOperation, type OperationBinding } from '../soap/operation-table';
import { parseEnvelope, type ParsedEnvelope } from '../soap/parse-envelope';
import { extractXopIncludes } from '../soap/xop-includes';
import { serialize } from '../xml/element-builder';
import type { EnvelopeSigner } from '../wssecurity/sign-envelope';

/** One SOAP port: its operations (from the WSDL), their handlers, and how requests are authenticated. */
export interface SoapPort {
  operations: readonly OperationBinding[];
  handlers: Record<string, OperationHandler>;
  authenticate(envelope: ParsedEnvelope): Promise<AuthenticatedRequest>;
  validatePayload(payload: Element): void;
  /**
   * Whether the port takes MTOM/XOP requests: their `xop:Include` elements are taken out of the accepted
   * payload before XSD validation and handed to the handler as `xopReferences`. Without it an XOP
   * request is refused (SOA-03001) as it always was.
   */
  mtom?: boolean;
}

const NO_XOP_REFERENCES: ReadonlyMap<Element, string> = new Map();

/** How far a request got, for its answer and its log line whatever the outcome. */
interface RequestProgress {
  /** The request's log; with the sender once authenticated. */
  log: Logger;
  /** The WSDL operation, once selected. */
  operationName: string | undefined;
}

/** Told of every answered SOAP request (metrics). */
export interface SoapRequestObserver {
  /**
   * @param facts.operation the WSDL operation, undefined when the request failed before it was known
   * @param facts.faultCode the fault's code (e.g. `SOA-01001`), undefined for a successful answer
   * @param facts.seconds from the request's arrival to its answer being ready to write
   */
  requestAnswered(facts: {
    operation: string | undefined;
    faultCode: string | undefined;
    seconds: number;
  }): void;
}

export interface SoapEndpointDependencies {
  config: Pick<Config, 'limits' | 'faultNamespace' | 'environment'>;
  clock: Clock;
  log: Logger;
  /**
   * Adds the service's signed WS-Security header (Timestamp, token, signature over Body and Timestamp)
   * to every response (`signPayload`) and fault envelope (`sign`, before it is serialised).
   */
  responseSigner: Pick<EnvelopeSigner, 'sign' | 'signPayload'>;
  /** Told of every answer (operation, outcome, latency). */
  requestObserver?: SoapRequestObserver;
}

/**
 * Wraps the payload in its signed envelope, written once as bytes: the bytes sent are the bytes signed
 * (see {@link EnvelopeSigner.signPayload}).
 */
async function encode(
  rendered: RenderedResponse,
  responseSigner: SoapEndpointDependencies['responseSigner'],
): Promise<EncodedResponse> {
  const { envelope } = await responseSigner.signPayload(rendered.payload);
  return rendered.attachments.length > 0
    ? multipartSoapResponse(envelope, rendered.attachments)
    : plainSoapResponse(envelope);
}

/**
 * Signs and serialises a fault envelope. A fault is the answer of last resort: when the signer itself
 * fails (an HSM out of reach), the fault goes out unsigned rather than not at all, and that is logged.
 */
export async function signedFaultBody(
  document: Document,
  responseSigner: Pick<EnvelopeSigner, 'sign'>,
  log: Logger,
): Promise<Buffer> {
  try {
    await responseSigner.sign(document);
  } catch (error) {
    log.error('response signing failed: the fault is sent unsigned', { error: describe(error) });
  }
  return serialize(document);
}

/**
 * The request pipeline of a SOAP port, one way through the layers: HTTP/MIME (envelope only), SOAP
 * envelope, WS-Security facts and policy (before any attachment is read), operation by payload element,
 * XSD validation of the accepted payload, then the operation's adapter over the domain. Every failure
 * becomes a fault through the one fault builder, with the request id as the fault's `Id`.
 */
export function createSoapEndpoint(port: SoapPort, dependencies: SoapEndpointDependencies) {
  const { config, clock, log: rootLog, responseSigner, requestObserver } = dependencies;
  const xmlLimits = {
    maxDepth: config.limits.maxXmlDepth,
    maxElements: config.limits.maxXmlElements,
    maxAttributes: config.limits.maxXmlAttributes,
    maxAttributesPerElement: config.limits.maxXmlAttributesPerElement,
  };

  /**
   * From the envelope to the operation under way: envelope parsed, sender authenticated, operation
   * selected, payload validated, handler called (it maps the payload before it waits). The request's DOM
   * is referenced from this frame only, which has ended when the caller waits for the operation: V8 keeps
   * every local of a suspended async function, so a DOM held there lives (and is copied by each
   * young-generation collection) for as long as the domain takes.
   * @param progress what the caller's fault path needs to know: the log with the sender, the operation
   */
  async function startOperation(
    incoming: IncomingSoapRequest,
    requestId: string,
    progress: RequestProgress,
  ): Promise<{ rendered: Promise<RenderedResponse> }> {
    const envelope = parseEnvelope(incoming.envelope, xmlLimits);
    checkMustUnderstand(envelope);
    const authenticated = await port.authenticate(envelope);
    const log = progress.log.child({
      sender: `${authenticated.sender.cbe}/${authenticated.sender.applicationId}`,
    });
    progress.log = log;
    const operation = selectOperation(port.operations, authenticated.payload, incoming.soapAction);
    progress.operationName = operation.name;
    // The signature covered the Includes as sent; what is validated and mapped is the payload without them.
    const xopReferences = incoming.xop ? extractXopIncludes(authenticated.payload) : NO_XOP_REFERENCES;
    port.validatePayload(authenticated.payload);
    const handler = port.handlers[operation.name];
    // In an object: returned as it is, the operation's promise would be awaited here.
    return {
      rendered: handler({
        payload: authenticated.payload,
        sender: authenticated.sender,
        attachments: incoming,
        xopReferences,
        requestId,
        log,
      }),
    };
  }

  return async function handleSoapRequest(request: IncomingMessage, response: ServerResponse): Promise<void> {
    const requestId = randomUUID();
    const started = performance.now();
    const progress: RequestProgress = { log: rootLog.child({ requestId }), operationName: undefined };
    let answer: { status: number; encoded: EncodedResponse; code?: string };
    let incoming: IncomingSoapRequest | undefined;
    try {
      incoming = await readSoapRequest(request, config.limits);
      if (incoming.xop && !port.mtom) {
        // The fault and message a port without MTOM has always answered to an XOP package.
        throw new MalformedMessageError('multipart/related root type application/xop+xml is not supported');
      }
      const operation = await startOperation(incoming, requestId, progress);
      const rendered = await operation.rendered;
      answer = { status: 200, encoded: await encode(rendered, responseSigner) };
    } catch (error) {
      const fault = buildFaultDocument(error, {
        requestId,
        faultNamespace: config.faultNamespace,
        environment: config.environment,
        now: clock.now(),
      });
      if (!(error instanceof ServiceError))
        progress.log.error('unexpected failure', { error: describe(error) });
      else if (error.cause !== undefined)
        progress.log.warn('failure cause', { code: error.code, cause: describe(error.cause) });
      // Authentication failures carry an internal reason: logged, never sent.
      const reason = (error as { reason?: unknown }).reason;
      if (typeof reason === 'string') progress.log = progress.log.child({ reason });
      const body = await signedFaultBody(fault.document, responseSigner, progress.log);
      answer = { status: fault.status, encoded: plainSoapResponse(body), code: fault.error.code };
    }
    const elapsedMs = performance.now() - started;
    progress.log.info('soap request', {
      operation: progress.operationName,
      outcome: answer.code ?? 'OK',
      durationMs: Math.round(elapsedMs),
    });
    requestObserver?.requestAnswered({
      operation: progress.operationName,
      faultCode: answer.code,
      seconds: elapsedMs / 1000,
    });
    writeResponse(request, response, answer.status, answer.encoded, incoming);
  };
}

function describe(error: unknown): { name?: string; message: string; stack?: string } {
  return error instanceof Error
    ? { name: error.name, message: error.message, stack: error.stack }
    : { message: String(error) };
}

/**
 * Writes the answer. When the request body was not read to its end (a refusal before the attachments),
 * the connection is closed after the answer rather than reading what is left.
 */
function writeResponse(
  request: IncomingMessage,
  response: ServerResponse,
  status: number,
  encoded: EncodedResponse,
  incoming: IncomingSoapRequest | undefined,
): void {
  const complete = request.readableEnded;
  const headers: Record<string, string | number> = {
    'Content-Type': encoded.contentType,
    'Content-Length': encoded.body.length,
  };
  if (!complete) headers.Connection = 'close';
  response.writeHead(status, headers).end(encoded.body);
  if (!complete) {
    incoming?.stopReading();
    request.resume();
  }
}
