import type { IncomingMessage } from 'node:http';
import type { Readable } from 'node:stream';
import * as Multipart from 'multipasta/node';
import { MalformedMessageError, NotSoapError } from '../../errors/faults';
import { contentIdFromHeader } from './content-id';
import { parseContentType } from './content-type';
import { checkMultipartType, rootPartPackaging, SOAP11_MEDIA_TYPE } from './root-part-type';

/** Limits on one request, each answered by a SOA-03001 fault before memory grows. */
export interface SoapRequestLimits {
  maxRequestBytes: number;
  maxParts: number;
  maxEnvelopeBytes: number;
}

/** One attachment part, to be consumed as a stream. */
export interface AttachmentPart {
  /** The Content-ID without angle brackets ('' when the part has none). */
  contentId: string;
  contentType: string;
  content: Readable;
}

/**
 * A SOAP request whose envelope has been read and whose attachments have not: they are read one by one,
 * only when the caller asks (after the envelope was authenticated).
 */
export interface IncomingSoapRequest {
  envelope: Buffer;
  /** The SOAPAction HTTP header without its quotes; undefined when absent. */
  soapAction: string | undefined;
  /** Whether the request is multipart (SOAP with Attachments, or MTOM when {@link xop}). */
  multipart: boolean;
  /**
   * Whether the request is an XOP package (MTOM): `multipart/related; type="application/xop+xml"` whose
   * root part is `application/xop+xml; type="text/xml"`. Its envelope may then hold `xop:Include`
   * elements that refer to the attachment parts; those parts are read exactly as SwA parts.
   */
  xop: boolean;
  /** The next attachment part, or undefined after the last one. */
  nextAttachment(): Promise<AttachmentPart | undefined>;
  /**
   * The reason reading failed (a limit, a truncated body), if it did: a part's stream fails with the MIME
   * parser's raw error, and this gives the fault to answer.
   */
  failure(): MalformedMessageError | undefined;
}

const IDENTITY_ENCODINGS = new Set(['', '7bit', '8bit', 'binary']);

function soapActionOf(request: IncomingMessage): string | undefined {
  const header = request.headers.soapaction;
  const value = Array.isArray(header) ? header[0] : header;
  if (value === undefined) return undefined;
  const trimmed = value.trim();
  return trimmed.startsWith('"') && trimmed.endsWith('"') && trimmed.length >= 2
    ? trimmed.slice(1, -1)
    : trimmed;
}

function limitError(error: unknown, limits: SoapRequestLimits): MalformedMessageError {
  if (error instanceof MalformedMessageError) return error;
  const tag = (error as { _tag?: string; limit?: string } | undefined)?._tag;
  const limit = (error as { limit?: string } | undefined)?.limit;
  if (tag === 'ReachedLimit' && limit === 'MaxParts') {
    return new MalformedMessageError(`more MIME parts than the limit of ${limits.maxParts}`);
  }
  if (tag === 'ReachedLimit') {
    return new MalformedMessageError(`request larger than the limit of ${limits.maxRequestBytes} bytes`);
  }
  if (tag === 'EndNotReached') return new MalformedMessageError('MIME multipart body is truncated');
  if (tag === 'BadHeaders') return new MalformedMessageError('malformed MIME part headers');
  if (tag === 'InvalidBoundary') return new MalformedMessageError('multipart Content-Type without boundary');
  return new MalformedMessageError('the request could not be read');
}

/** Reads a stream to a buffer, refusing to hold more than `maxBytes`. */
async function readCapped(
  stream: AsyncIterable<Buffer | Uint8Array>,
  maxBytes: number,
  what: string,
): Promise<Buffer> {
  const chunks: Buffer[] = [];
  let size = 0;
  for await (const chunk of stream) {
    size += chunk.length;
    if (size > maxBytes)
      throw new MalformedMessageError(`${what} larger than the limit of ${maxBytes} bytes`);
    chunks.push(Buffer.from(chunk));
  }
  return Buffer.concat(chunks, size);
}

function header(part: Multipart.FileStream, name: string): string {
  const value = part.info.headers[name];
  return (Array.isArray(value) ? value[0] : value) ?? '';
}

/**
 * Reads the SOAP envelope of an HTTP request: a single-part `text/xml` body, or the root part of a
 * `multipart/related; type="text/xml"` request (SOAP with Attachments) or of a
 * `multipart/related; type="application/xop+xml"; start-info="text/xml"` one (MTOM, SOAP 1.1 binding),
 * parsed as a stream. Attachment parts are left unread (the socket is back-pressured) until
 * {@link IncomingSoapRequest.nextAttachment}.
 */
export async function readSoapRequest(
  request: IncomingMessage,
  limits: SoapRequestLimits,
): Promise<IncomingSoapRequest> {
  const declaredLength = Number(request.headers['content-length'] ?? Number.NaN);
  if (declaredLength > limits.maxRequestBytes) {
    throw new MalformedMessageError(`request larger than the limit of ${limits.maxRequestBytes} bytes`);
  }
  const contentType = parseContentType(request.headers['content-type']);
  const soapAction = soapActionOf(request);

  if (contentType?.mediaType === SOAP11_MEDIA_TYPE) {
    const envelope = await readCapped(
      request,
      Math.min(limits.maxEnvelopeBytes, limits.maxRequestBytes),
      'envelope',
    );
    return {
      envelope,
      soapAction,
      multipart: false,
      xop: false,
      nextAttachment: async () => undefined,
      failure: () => undefined,
    };
  }
  if (contentType?.mediaType === 'application/soap+xml')
    throw new NotSoapError('SOAP 1.2 is not supported: use SOAP 1.1');
  if (contentType?.mediaType !== 'multipart/related') {
    throw new NotSoapError(
      `Content-Type ${contentType?.mediaType ?? '(none)'} is not text/xml or multipart/related`,
    );
  }
  checkMultipartType(contentType);

  const parser = Multipart.make({
    headers: request.headers,
    isFile: () => true,
    maxParts: limits.maxParts,
    maxTotalSize: limits.maxRequestBytes,
  });
  // The first error wins; later reads report it instead of hanging.
  let failure: MalformedMessageError | undefined;
  parser.on('error', (error: unknown) => {
    failure ??= limitError(error, limits);
  });
  request.pipe(parser);
  const parts = parser[Symbol.asyncIterator]();
  /** The part being read (its stream is what a consumer waits on). */
  let currentPart: Multipart.FileStream | undefined;
  // pipe() forwards no end when the client goes away mid-body: without this, whoever reads the part
  // (staging a document) would wait forever, holding its file.
  request.on('close', () => {
    if (request.complete) return;
    const error = new MalformedMessageError('the connection closed before the end of the request');
    failure ??= error;
    currentPart?.destroy(failure);
    parser.destroy(failure);
  });

  async function nextPart(): Promise<Multipart.FileStream | undefined> {
    if (failure) throw failure;
    try {
      const result = await parts.next();
      if (failure) throw failure;
      currentPart = result.done ? undefined : (result.value as Multipart.FileStream);
      // Failures reach the consumer through its read and `failure`; never as an unhandled 'error'.
      currentPart?.on('error', () => undefined);
      return currentPart;
    } catch (error) {
      throw failure ?? limitError(error, limits);
    }
  }

  function checkEncoding(part: Multipart.FileStream): void {
    const encoding = header(part, 'content-transfer-encoding').trim().toLowerCase();
    if (!IDENTITY_ENCODINGS.has(encoding)) {
      throw new MalformedMessageError(`Content-Transfer-Encoding ${encoding} is not supported: send binary`);
    }
  }

  const root = await nextPart();
  if (!root) throw new MalformedMessageError('multipart request without parts');
  const start = contentType.parameters.start;
  if (start !== undefined && contentIdFromHeader(start) !== contentIdFromHeader(header(root, 'content-id'))) {
    throw new MalformedMessageError('the root part (start) must be the first MIME part');
  }
  const packaging = rootPartPackaging(header(root, 'content-type'), contentType.parameters.type);
  checkEncoding(root);
  let envelope: Buffer;
  try {
    envelope = await readCapped(root, limits.maxEnvelopeBytes, 'envelope');
  } catch (error) {
    throw failure ?? limitError(error, limits);
  }

  return {
    envelope,
    soapAction,
    multipart: true,
    xop: packaging === 'xop',
    failure: () => failure,
    async nextAttachment() {
      const part = await nextPart();
      if (!part) return undefined;
      checkEncoding(part);
      return {
        contentId: contentIdFromHeader(header(part, 'content-id')),
        contentType: part.info.contentType,
        content: part,
      };
    },
  };
}
