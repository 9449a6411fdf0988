import type { IncomingMessage } from 'node:http';
import { Readable } from 'node:stream';
import * as Multipart from 'multipasta';
import { MalformedMessageError } from '../../errors/faults';

/** One part of a multipart body whose headers have arrived. */
export interface ReceivedPart {
  /** The part's headers, names in lower case. */
  headers: Readonly<Record<string, string | readonly string[]>>;
  /** The part's media type (multipasta's reading of its Content-Type). */
  contentType: string;
}

/** Limits of {@link MultipartBody}. */
export interface MultipartBodyLimits {
  maxRequestBytes: number;
  maxParts: number;
  /** The first part is collected into memory up to this many bytes; more fails reading. */
  maxFirstPartBytes: number;
  /** The failure when the first part is larger than {@link maxFirstPartBytes}. */
  firstPartTooLarge: () => MalformedMessageError;
}

/** A part waiting to be taken by {@link MultipartBody.nextPart}: its stream exists from its headers on. */
interface QueuedPart extends ReceivedPart {
  content: Readable;
}

function limitError(error: Multipart.MultipartError, limits: MultipartBodyLimits): MalformedMessageError {
  switch (error._tag) {
    case 'ReachedLimit':
      return error.limit === 'MaxParts'
        ? new MalformedMessageError(`more MIME parts than the limit of ${limits.maxParts}`)
        : new MalformedMessageError(`request larger than the limit of ${limits.maxRequestBytes} bytes`);
    case 'EndNotReached':
      return new MalformedMessageError('MIME multipart body is truncated');
    case 'BadHeaders':
      return new MalformedMessageError('malformed MIME part headers');
    case 'InvalidBoundary':
      return new MalformedMessageError('multipart Content-Type without boundary');
    default:
      return new MalformedMessageError('the request could not be read');
  }
}

/**
 * The parts of a `multipart/*` request body, parsed as the body arrives by multipasta's push parser
 * (no stream of streams between the socket and the parts: the request's `data` events go straight to
 * the parser). The first part is collected into one buffer, capped ({@link firstPartBytes}); every later
 * part is a Readable, the socket paused while the part being received holds a full buffer, resumed when
 * its reader asks for more. The first failure (a limit, bad part headers, a truncated body, the client
 * gone) is kept: it fails the part being read and every later call, and parsing stops.
 */
export class MultipartBody {
  private readonly parser: Multipart.Parser;
  private readonly queue: QueuedPart[] = [];
  /** The stream of the part receiving bytes now (undefined between parts and for the first part). */
  private receiving: Readable | undefined;
  private firstPart: { chunks: Buffer[]; size: number; complete: boolean; headers: ReceivedPart } | undefined;
  /** Told when a part is queued, the first part is complete, the body ends or reading fails. */
  private waiters: (() => void)[] = [];
  private ended = false;
  private failureReason: MalformedMessageError | undefined;
  private stopped = false;

  constructor(
    private readonly request: IncomingMessage,
    private readonly limits: MultipartBodyLimits,
  ) {
    this.parser = Multipart.make({
      headers: request.headers as Record<string, string>,
      isFile: () => true,
      maxParts: limits.maxParts,
      maxTotalSize: limits.maxRequestBytes,
      onFile: (info) => this.partArrived(info),
      onField: () => undefined,
      onError: (error) => this.fail(limitError(error, limits)),
      onDone: () => this.finish(),
    });
    request.on('data', this.onData);
    request.on('end', this.onEnd);
    // No 'end' comes when the client goes away mid-body: without this, whoever reads the part (staging
    // a document) would wait forever, holding its file.
    request.on('close', this.onClose);
  }

  /** The first failure, if reading failed. */
  failure(): MalformedMessageError | undefined {
    return this.failureReason;
  }

  /** The first part's headers, once they have arrived. Called once, before {@link firstPartBytes}. */
  async firstPartHeaders(): Promise<ReceivedPart> {
    await this.until(() => this.firstPart !== undefined || this.ended);
    if (this.firstPart === undefined) throw new MalformedMessageError('multipart request without parts');
    return this.firstPart.headers;
  }

  /**
   * The first part's bytes as one buffer, once it is complete (collected from its first byte on, up to
   * `maxFirstPartBytes`). Called once, after {@link firstPartHeaders} and before {@link nextPart}.
   */
  async firstPartBytes(): Promise<Buffer> {
    const first = this.firstPart;
    if (first === undefined) throw new Error('firstPartBytes() before firstPartHeaders()');
    await this.until(() => first.complete);
    const bytes = Buffer.concat(first.chunks, first.size);
    first.chunks = [];
    return bytes;
  }

  /** The next part after the first (undefined after the last), its content a stream to read to its end. */
  async nextPart(): Promise<QueuedPart | undefined> {
    await this.until(() => this.queue.length > 0 || this.ended);
    return this.queue.shift();
  }

  /**
   * Stops parsing: what is left of the body is not looked at any more (the answer is being written
   * before the body was read to its end; the caller drains or closes the connection).
   */
  stop(): void {
    if (this.stopped) return;
    this.stopped = true;
    this.request.off('data', this.onData);
    this.request.off('end', this.onEnd);
    this.request.off('close', this.onClose);
  }

  private readonly onData = (chunk: Buffer): void => {
    // After the closing delimiter comes at most an epilogue, which means nothing (RFC 2046 5.1.1).
    if (!this.ended) this.parser.write(chunk);
  };

  private readonly onEnd = (): void => {
    this.parser.end();
    // A body that ends without its closing delimiter and outside a part's content (multipasta reports
    // only the latter) is truncated as well.
    if (!this.ended) this.fail(new MalformedMessageError('MIME multipart body is truncated'));
  };

  private readonly onClose = (): void => {
    if (!this.request.complete) {
      this.fail(new MalformedMessageError('the connection closed before the end of the request'));
    }
  };

  /** Called by the parser with a part's headers; returns what takes the part's bytes (`null`: its end). */
  private partArrived(info: Multipart.PartInfo): (chunk: Uint8Array | null) => void {
    if (this.failureReason) return () => undefined;
    const headers: ReceivedPart = { headers: info.headers, contentType: info.contentType };
    // The first part is collected, not queued.
    if (this.firstPart === undefined) {
      const first = { chunks: [], size: 0, complete: false, headers };
      this.firstPart = first;
      this.notify();
      return (chunk) => {
        if (this.failureReason === undefined) this.collectFirst(first, chunk);
      };
    }
    const content: Readable = new Readable({
      read: () => {
        if (this.receiving === content && !this.stopped) this.request.resume();
      },
    });
    // Failures reach the reader through its read (and `failure()`); never as an unhandled 'error'.
    content.on('error', () => undefined);
    this.receiving = content;
    this.queue.push({ ...headers, content });
    this.notify();
    return (chunk) => {
      if (this.failureReason !== undefined) return;
      if (chunk === null) {
        this.receiving = undefined;
        content.push(null);
      } else if (!content.push(chunk)) {
        this.request.pause();
      }
    };
  }

  private collectFirst(first: NonNullable<MultipartBody['firstPart']>, chunk: Uint8Array | null): void {
    if (chunk === null) {
      first.complete = true;
      this.notify();
      return;
    }
    first.size += chunk.length;
    if (first.size > this.limits.maxFirstPartBytes) {
      this.fail(this.limits.firstPartTooLarge());
      return;
    }
    // A copy: the chunk is a view into the socket's buffer.
    first.chunks.push(Buffer.from(chunk));
  }

  private finish(): void {
    this.ended = true;
    this.notify();
  }

  private fail(error: MalformedMessageError): void {
    if (this.failureReason) return;
    this.failureReason = error;
    this.ended = true;
    this.receiving?.destroy(error);
    this.receiving = undefined;
    this.stop();
    this.notify();
  }

  private notify(): void {
    const waiters = this.waiters;
    if (waiters.length === 0) return;
    this.waiters = [];
    for (const wake of waiters) wake();
  }

  /** Waits until `condition` holds or reading failed (then throws the failure). */
  private async until(condition: () => boolean): Promise<void> {
    while (!condition() && this.failureReason === undefined) {
      await new Promise<void>((resolve) => this.waiters.push(resolve));
    }
    if (this.failureReason) throw this.failureReason;
  }
}
