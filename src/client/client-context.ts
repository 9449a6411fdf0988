import type { Clock } from '../clock/clock';
import type { DocumentSigner } from '../evidence/document-signer';
import type { ResponseTrust } from './response-trust';

/** Everything an operation needs to talk to one RegisteredMailService as one sender. */
export interface ClientContext {
  /** The own port's URL (see `serviceEndpointUrl`). */
  endpoint: URL;
  /** The sender's key and certificate: signs every request (WS-Security). */
  signer: DocumentSigner;
  /** Who may sign the answers. */
  trust: ResponseTrust;
  /** The time of the requests' Timestamps and of the answers' checks. */
  clock: Clock;
  /** An exchange fails when it makes no progress (connecting, sending, answering) for this long. */
  timeoutMs: number;
}
