import type { Document, Element } from '@xmldom/xmldom';
import type { ClientContext } from './client-context';
import { ClientError } from './client-errors';
import { mtomPackage, type MtomFilePart } from './mtom-package';
import { readVerifiedAnswer } from './read-answer';
import { soapActionOf, type ServiceOperation } from './service-endpoint';
import { signRequest } from './sign-request';
import { postSoapRequest } from './soap-transport';

/** The service's answers are small (proofs are XML of a few KiB): a larger one is not the service's. */
const MAX_ANSWER_BYTES = 16 * 1024 * 1024;

/** One call of an operation. */
export interface ExchangeRequest {
  operation: ServiceOperation;
  /** The unsigned request envelope (see `createRequestEnvelope`); signed by the exchange. */
  envelope: Document;
  /** The binary parts its `xop:Include` elements name: sent as an XOP package; none: plain text/xml. */
  parts?: readonly MtomFilePart[];
}

/**
 * Signs a request with the sender's key at the clock's time, sends it (an XOP package when it has parts,
 * their bytes streamed from their files) and reads the answer, whose signature is verified.
 * @returns the answer's payload, `<operation>Response`
 * @throws ServiceFaultError for a fault; ClientError when the exchange fails or the answer cannot be read;
 *   UntrustedAnswerError when its signature does not verify
 */
export async function exchange(context: ClientContext, request: ExchangeRequest): Promise<Element> {
  const signed = await signRequest(request.envelope, context.signer, context.clock);
  const parts = request.parts ?? [];
  const xop = parts.length > 0 ? mtomPackage(signed, parts) : undefined;
  const answer = await postSoapRequest({
    url: context.endpoint,
    headers: {
      'Content-Type': xop?.contentType ?? 'text/xml; charset=utf-8',
      SOAPAction: soapActionOf(request.operation),
    },
    body: xop?.body ?? signed,
    timeoutMs: context.timeoutMs,
    maxAnswerBytes: MAX_ANSWER_BYTES,
  });
  return readVerifiedAnswer(answer, context.trust, context.clock, `${request.operation}Response`);
}

/**
 * Reads a verified payload with `read`; a required element missing (the reader's Error) is the answer's
 * fault, said as such.
 * @throws ClientError when `read` fails with anything but a ClientError
 */
export function readPayload<T>(payload: Element, read: (payload: Element) => T): T {
  try {
    return read(payload);
  } catch (error) {
    if (error instanceof ClientError) throw error;
    throw new ClientError(`the answer is not a valid ${payload.localName}: ${(error as Error).message}`);
  }
}
