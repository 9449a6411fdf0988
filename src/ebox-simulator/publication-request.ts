import { createHash } from 'node:crypto';
import type { IncomingMessage } from 'node:http';
import * as Multipart from 'multipasta/node';

/** A request the simulator refuses, with the HTTP status and e-Box error code to answer. */
export class EboxRequestError extends Error {
  constructor(
    readonly status: number,
    readonly code: string,
    message: string,
  ) {
    super(message);
  }
}

/** Size limits of one publication. */
export interface PublicationLimits {
  /** The whole multipart body. */
  maxTotalBytes: number;
  /** The `messageToPublish` JSON part. */
  maxMessageJsonBytes: number;
  maxParts: number;
}

/** A received part other than `messageToPublish`: its hash and size (its bytes are not kept). */
export interface ReceivedPart {
  name: string;
  contentType: string;
  size: number;
  sha256: Buffer;
}

/** The parts of a publication: the JSON and the attachments' facts. */
export interface ReceivedPublication {
  messageToPublish: unknown;
  parts: Map<string, ReceivedPart>;
}

function tooLarge(limits: PublicationLimits): EboxRequestError {
  return new EboxRequestError(
    413,
    'PAYLOAD_TOO_LARGE',
    `the publication exceeds ${limits.maxTotalBytes} bytes`,
  );
}

function parserError(error: unknown, limits: PublicationLimits): EboxRequestError {
  if (error instanceof EboxRequestError) return error;
  const { _tag: tag, limit } = (error ?? {}) as { _tag?: string; limit?: string };
  if (tag === 'ReachedLimit' && limit === 'MaxParts')
    return new EboxRequestError(400, 'INVALID_INPUT', `more than ${limits.maxParts} parts`);
  if (tag === 'ReachedLimit') return tooLarge(limits);
  return new EboxRequestError(400, 'INVALID_INPUT', 'the multipart/form-data body could not be read');
}

/**
 * Streams a `multipart/form-data` publication: `messageToPublish` is read (capped) and parsed, every other
 * part is hashed as it passes and only its SHA-256 and size are kept.
 */
export async function readPublication(
  request: IncomingMessage,
  limits: PublicationLimits,
): Promise<ReceivedPublication> {
  const declaredLength = Number(request.headers['content-length'] ?? Number.NaN);
  if (declaredLength > limits.maxTotalBytes) throw tooLarge(limits);
  if (!/^multipart\/form-data\s*;/i.test(request.headers['content-type'] ?? ''))
    throw new EboxRequestError(400, 'INVALID_INPUT', 'the publication must be multipart/form-data');

  const parser = Multipart.make({
    headers: request.headers,
    isFile: () => true,
    maxParts: limits.maxParts,
    maxTotalSize: limits.maxTotalBytes,
  });
  let failure: EboxRequestError | undefined;
  parser.on('error', (error: unknown) => {
    failure ??= parserError(error, limits);
  });
  request.pipe(parser);

  let messageJson: Buffer | undefined;
  const parts = new Map<string, ReceivedPart>();
  try {
    for await (const item of parser) {
      const part = item as Multipart.FileStream;
      const name = part.info.name;
      if (name === '' || parts.has(name) || (name === 'messageToPublish' && messageJson !== undefined))
        throw new EboxRequestError(400, 'INVALID_INPUT', `part name "${name}" is missing or repeated`);
      if (name === 'messageToPublish') {
        const chunks: Buffer[] = [];
        let size = 0;
        for await (const chunk of part as AsyncIterable<Buffer>) {
          size += chunk.length;
          if (size > limits.maxMessageJsonBytes)
            throw new EboxRequestError(413, 'PAYLOAD_TOO_LARGE', 'messageToPublish is too large');
          chunks.push(chunk);
        }
        messageJson = Buffer.concat(chunks, size);
      } else {
        const hash = createHash('sha256');
        let size = 0;
        for await (const chunk of part as AsyncIterable<Buffer>) {
          size += chunk.length;
          hash.update(chunk);
        }
        parts.set(name, { name, contentType: part.info.contentType, size, sha256: hash.digest() });
      }
    }
  } catch (error) {
    throw failure ?? parserError(error, limits);
  }
  if (failure) throw failure;
  if (messageJson === undefined)
    throw new EboxRequestError(400, 'INVALID_INPUT', 'the part messageToPublish is missing');
  try {
    return { messageToPublish: JSON.parse(messageJson.toString('utf8')) as unknown, parts };
  } catch {
    throw new EboxRequestError(400, 'INVALID_INPUT', 'messageToPublish is not valid JSON');
  }
}
