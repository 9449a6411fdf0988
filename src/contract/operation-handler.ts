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

/**
 * A port's adapter for one operation: maps the payload to the domain and the result back. It reads what
 * it needs from `payload` and `xopReferences` before it first waits, and keeps neither afterwards: the
 * request's DOM (some 50 KB for a sendDocument) would otherwise live as long as the request waits on the
 * domain, to be copied by the garbage collector at each of its young-generation collections meanwhile.
 * (V8 keeps every local of a suspended async function, used again or not: the mapping is done in a
 * plain function, which then hands the mapped request to an async one.)
 */
export type OperationHandler = (context: OperationContext) => Promise<RenderedResponse>;

/** What an {@link OperationHandler} still has once the payload is mapped. */
export type MappedOperationContext = Omit<OperationContext, 'payload' | 'xopReferences'>;

/**
 * The body of an {@link OperationHandler}: `map` reads the payload, then `run` gets what it mapped and
 * nothing of the DOM. A mapping failure is a rejected promise, as from an async function.
 */
export function mapThenRun<Mapped>(
  map: () => Mapped,
  run: (mapped: Mapped) => Promise<RenderedResponse>,
): Promise<RenderedResponse> {
  let mapped: Mapped;
  try {
    mapped = map();
  } catch (error) {
    return Promise.reject(error as Error);
  }
  return run(mapped);
}

/** The context without the payload and the map that points into it (see {@link OperationHandler}). */
export function mappedContext({
  sender,
  attachments,
  requestId,
  log,
}: OperationContext): MappedOperationContext {
  return { sender, attachments, requestId, log };
}
