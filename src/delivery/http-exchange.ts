import {
  httpExchange as exchange,
  type HttpExchangeFailure,
  type HttpExchangeRequest,
  type HttpExchangeResponse,
} from '../transport/http-exchange';
import { TransientPublicationError } from './publication-errors';

export type { HttpExchangeRequest, HttpExchangeResponse };

function transientErrorOf(failure: HttpExchangeFailure): TransientPublicationError {
  switch (failure.kind) {
    case 'timeout':
      return new TransientPublicationError(`the e-Box made no progress for ${failure.timeoutMs} ms`);
    case 'unreachable':
      return new TransientPublicationError(
        `the e-Box call failed: ${failure.error.message}`,
        undefined,
        undefined,
        {
          cause: failure.error,
        },
      );
    case 'answer-too-large':
      return new TransientPublicationError(
        `the e-Box answer is larger than ${failure.maxResponseBytes} bytes`,
      );
    case 'answer-broke-off':
      return new TransientPublicationError(
        failure.error ? `the e-Box answer broke off: ${failure.error.message}` : 'the e-Box answer broke off',
      );
    case 'body-unreadable':
      return new TransientPublicationError(
        `the content to publish could not be read: ${failure.error.message}`,
        undefined,
        undefined,
        { cause: failure.error },
      );
  }
}

/**
 * One HTTP call to the e-Box, its whole answer read (see `src/transport/http-exchange.ts`).
 * @throws TransientPublicationError when there is no complete answer (network, timeout, body source failed)
 */
export function httpExchange(request: HttpExchangeRequest): Promise<HttpExchangeResponse> {
  return exchange(request, transientErrorOf);
}
