import { createHash } from 'node:crypto';
import { createReadStream } from 'node:fs';
import { ClientUsageError } from './client-errors';

/** A file's SHA-256 and size, as read once from start to end. */
export interface FileDigest {
  sha256: Buffer;
  size: number;
}

/**
 * Computes a file's SHA-256 by streaming it (whatever its size, a few chunks in memory).
 * @throws ClientUsageError when the file cannot be read
 */
export async function sha256OfFile(path: string): Promise<FileDigest> {
  const hash = createHash('sha256');
  let size = 0;
  try {
    for await (const chunk of createReadStream(path)) {
      hash.update(chunk as Buffer);
      size += (chunk as Buffer).length;
    }
  } catch (error) {
    const reason = (error as NodeJS.ErrnoException).code ?? (error as Error).message;
    throw new ClientUsageError(`${path} cannot be read (${reason})`, { cause: error });
  }
  return { sha256: hash.digest(), size };
}
