import type { Readable } from 'node:stream';
import type { Element } from '@xmldom/xmldom';
import type { Sender } from '../domain/model';
import type { ServiceError } from '../errors/service-error';
import type { Logger } from '../logging/logger';
import type { RenderedResponse } from './rendered-response';

/** Attachment parts of the request, read one by one and only when an operation asks for them. */
export interface AttachmentSource {
  nextAttachment(): Promise<{ contentId: string; contentType: string; content: Readable } | undefined>;
  /** Why reading failed, when it did (a limit, a truncated body). */
  failure(): ServiceError | undefined;
}

/** What an operation handler gets: only the payload that the security policy accepted. */
export interface OperationContext {
  /** The signed Body's payload element, the very node the policy accepted. */
  payload: Element;
  sender: Sender;
  attachments: AttachmentSource;
  /**
   * Under MTOM, each element whose `xop:Include` was taken out of the payload → the Content-ID of the
   * attachment part it referred to (the element is left empty); an empty map for any other request.
   */
  xopReferences: ReadonlyMap<Element, string>;
  requestId: string;
  log: Logger;
}

/** A port's adapter for one operation: maps the payload to the domain and the result back. */
export type OperationHandler = (context: OperationContext) => Promise<RenderedResponse>;
