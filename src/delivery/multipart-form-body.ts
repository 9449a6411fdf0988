import { randomBytes } from 'node:crypto';

/** One part of a `multipart/form-data` body. */
export interface FormPart {
  name: string;
  fileName?: string;
  contentType: string;
  /** The bytes, whole (small parts) or opened only when the part is written (files). */
  content: Buffer | (() => NodeJS.ReadableStream);
}

/** A streamed `multipart/form-data` body and its Content-Type. */
export interface FormBody {
  contentType: string;
  /** Produces the body chunk by chunk; each call starts over (opening the files again). */
  chunks(): AsyncIterable<Buffer>;
}

/** Quotes a Content-Disposition parameter as RFC 7578 says browsers do: `"`, CR and LF percent-encoded. */
function quoted(value: string): string {
  return `"${value.replace(/"/g, '%22').replace(/\r/g, '%0D').replace(/\n/g, '%0A')}"`;
}

function partHeader(boundary: string, part: FormPart): Buffer {
  const fileName = part.fileName === undefined ? '' : `; filename=${quoted(part.fileName)}`;
  return Buffer.from(
    `--${boundary}\r\nContent-Disposition: form-data; name=${quoted(part.name)}${fileName}\r\n` +
      `Content-Type: ${part.contentType}\r\n\r\n`,
    'utf8',
  );
}

/**
 * A `multipart/form-data` body whose file parts are read from their streams while it is sent, so a
 * document is never held whole in memory. The boundary is random, so it cannot occur in the content
 * except by a 2^-192 chance.
 */
export function multipartFormBody(parts: readonly FormPart[]): FormBody {
  const boundary = `----RegisteredMail${randomBytes(24).toString('hex')}`;
  return {
    contentType: `multipart/form-data; boundary=${boundary}`,
    async *chunks() {
      for (const part of parts) {
        yield partHeader(boundary, part);
        if (Buffer.isBuffer(part.content)) yield part.content;
        else {
          // for-await destroys the stream if the consumer stops early (an early answer, a failure).
          for await (const chunk of part.content() as AsyncIterable<Buffer | string>) {
            yield typeof chunk === 'string' ? Buffer.from(chunk) : chunk;
          }
        }
        yield Buffer.from('\r\n');
      }
      yield Buffer.from(`--${boundary}--\r\n`);
    },
  };
}
