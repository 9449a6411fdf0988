import { httpExchange, type HttpExchangeFailure } from '../transport/http-exchange';
import { ClientError } from './client-errors';

/** One SOAP request over HTTP(S). */
export interface SoapHttpRequest {
  url: URL;
  headers: Record<string, string>;
  /** A small body sent whole, or a large one produced chunk by chunk (sent chunked, back-pressured). */
  body: Buffer | (() => AsyncIterable<Buffer>);
  /** The exchange fails when it makes no progress (connecting, sending, answering) for this long. */
  timeoutMs: number;
  /** Longer answers are refused (the service's answers are small: proofs are small XML). */
  maxAnswerBytes: number;
}

/** The service's answer, whatever its HTTP status. */
export interface SoapHttpAnswer {
  status: number;
  /** The Content-Type header ('' when absent). */
  contentType: string;
  body: Buffer;
}

function clientErrorOf(url: URL, failure: HttpExchangeFailure): ClientError {
  switch (failure.kind) {
    case 'timeout':
      return new ClientError(`${url.origin} made no progress for ${failure.timeoutMs} ms`);
    case 'unreachable':
      return new ClientError(`${url.origin} cannot be reached: ${failure.error.message}`, {
        cause: failure.error,
      });
    case 'answer-too-large':
      return new ClientError(`the answer is larger than ${failure.maxResponseBytes} bytes`);
    case 'answer-broke-off':
      return new ClientError(
        failure.error ? `the answer broke off: ${failure.error.message}` : 'the answer broke off',
      );
    case 'body-unreadable':
      return new ClientError(`the request could not be read: ${failure.error.message}`, {
        cause: failure.error,
      });
  }
}

/**
 * POSTs a request and reads the whole answer. An answer that arrives before the body was sent completely
 * (the service refusing early, e.g. an authentication fault) is the answer: the rest is not sent. https
 * URLs use Node's trusted CAs (and NODE_EXTRA_CA_CERTS).
 * @throws ClientError when there is no complete answer (network, timeout, the body's source failed)
 */
export async function postSoapRequest(request: SoapHttpRequest): Promise<SoapHttpAnswer> {
  const answer = await httpExchange(
    {
      method: 'POST',
      url: request.url,
      headers: request.headers,
      body: request.body,
      timeoutMs: request.timeoutMs,
      maxResponseBytes: request.maxAnswerBytes,
    },
    (failure) => clientErrorOf(request.url, failure),
  );
  return {
    status: answer.status,
    contentType: String(answer.headers['content-type'] ?? ''),
    body: answer.body,
  };
}
