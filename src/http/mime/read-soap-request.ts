import type { IncomingMessage } from 'node:http';
import type { Readable } from 'node:stream';
import { MalformedMessageError, NotSoapError } from '../../errors/faults';
import { contentIdFromHeader } from './content-id';
import { parseContentType } from './content-type';
import { MultipartBody, type ReceivedPart } from './multipart-body';
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
  /**
   * Stops reading the body: what is left of it is not parsed (the answer is written before the body was
   * read to its end; the caller then drains or closes the connection).
   */
  stopReading(): void;
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

function envelopeTooLarge(maxBytes: number): MalformedMessageError {
  return new MalformedMessageError(`envelope larger than the limit of ${maxBytes} bytes`);
}

/** Reads a stream to a buffer, refusing to hold more than `maxBytes`. */
async function readCapped(stream: AsyncIterable<Buffer | Uint8Array>, maxBytes: number): Promise<Buffer> {
  const chunks: Buffer[] = [];
  let size = 0;
  for await (const chunk of stream) {
    size += chunk.length;
    if (size > maxBytes) throw envelopeTooLarge(maxBytes);
    chunks.push(Buffer.from(chunk));
  }
  return Buffer.concat(chunks, size);
}

function header(part: ReceivedPart, name: string): string {
  const value = part.headers[name];
  return (Array.isArray(value) ? value[0] : value) ?? '';
}

function checkEncoding(part: ReceivedPart): void {
  const encoding = header(part, 'content-transfer-encoding').trim().toLowerCase();
  if (!IDENTITY_ENCODINGS.has(encoding)) {
    throw new MalformedMessageError(`Content-Transfer-Encoding ${encoding} is not supported: send binary`);
  }
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
    const envelope = await readCapped(request, Math.min(limits.maxEnvelopeBytes, limits.maxRequestBytes));
    return {
      envelope,
      soapAction,
      multipart: false,
      xop: false,
      nextAttachment: async () => undefined,
      failure: () => undefined,
      stopReading: () => undefined,
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

  const body = new MultipartBody(request, {
    maxRequestBytes: limits.maxRequestBytes,
    maxParts: limits.maxParts,
    maxFirstPartBytes: limits.maxEnvelopeBytes,
    firstPartTooLarge: () => envelopeTooLarge(limits.maxEnvelopeBytes),
  });
  let envelope: Buffer;
  let packaging: ReturnType<typeof rootPartPackaging>;
  try {
    const root = await body.firstPartHeaders();
    const start = contentType.parameters.start;
    if (
      start !== undefined &&
      contentIdFromHeader(start) !== contentIdFromHeader(header(root, 'content-id'))
    ) {
      throw new MalformedMessageError('the root part (start) must be the first MIME part');
    }
    packaging = rootPartPackaging(header(root, 'content-type'), contentType.parameters.type);
    checkEncoding(root);
    envelope = await body.firstPartBytes();
  } catch (error) {
    // Answered now: what is left of the body is not parsed.
    body.stop();
    throw error;
  }

  return {
    envelope,
    soapAction,
    multipart: true,
    xop: packaging === 'xop',
    failure: () => body.failure(),
    stopReading: () => body.stop(),
    async nextAttachment() {
      const part = await body.nextPart();
      if (!part) return undefined;
      checkEncoding(part);
      return {
        contentId: contentIdFromHeader(header(part, 'content-id')),
        contentType: part.contentType,
        content: part.content,
      };
    },
  };
}
