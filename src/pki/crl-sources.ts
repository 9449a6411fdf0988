import { createHash } from 'node:crypto';
import { mkdir, readFile, rename, writeFile } from 'node:fs/promises';
import http from 'node:http';
import https from 'node:https';
import path from 'node:path';

/*
 * Where CRLs come from (RM_CRL): local files, and http(s) URLs whose last good CRL is also kept on disk,
 * so that a restart without network still has it.
 */

/** A configured CRL location. */
export type CrlSource = { kind: 'file'; path: string } | { kind: 'url'; url: string };

/** A CRL location that cannot be read now (network, HTTP status, timeout, size, missing file). */
export class CrlUnavailableError extends Error {}

/** Limits of one download. */
export interface CrlDownloadLimits {
  /** Socket inactivity after which the download fails. */
  timeoutMs: number;
  /** Largest CRL accepted. */
  maxBytes: number;
}

/** Download limits unless configured otherwise: 10 s of inactivity, 32 MiB. */
export const DEFAULT_CRL_DOWNLOAD_LIMITS: CrlDownloadLimits = {
  timeoutMs: 10_000,
  maxBytes: 32 * 1024 * 1024,
};

/** Classifies an RM_CRL entry: an http(s) URL, or else a file path (resolved against the working directory). */
export function crlSource(entry: string): CrlSource {
  return /^https?:\/\//i.test(entry)
    ? { kind: 'url', url: entry }
    : { kind: 'file', path: path.resolve(entry) };
}

/** The text naming a source in messages: its path or URL. */
export function describeCrlSource(source: CrlSource): string {
  return source.kind === 'file' ? source.path : source.url;
}

/**
 * The bytes at a source: a file read, or an HTTP GET answered 200 (redirects are not followed).
 * @throws CrlUnavailableError when they cannot be had now
 */
export async function readCrlSource(
  source: CrlSource,
  limits: CrlDownloadLimits = DEFAULT_CRL_DOWNLOAD_LIMITS,
): Promise<Buffer> {
  if (source.kind === 'url') return download(source.url, limits);
  try {
    return await readFile(source.path);
  } catch (error) {
    throw new CrlUnavailableError(`CRL ${source.path}: ${(error as Error).message}`);
  }
}

function download(url: string, limits: CrlDownloadLimits): Promise<Buffer> {
  const client = url.toLowerCase().startsWith('https:') ? https : http;
  return new Promise<Buffer>((resolve, reject) => {
    const fail = (reason: string) => reject(new CrlUnavailableError(`CRL ${url}: ${reason}`));
    const request = client.get(url, { headers: { Accept: 'application/pkix-crl, */*' } }, (response) => {
      if (response.statusCode !== 200) {
        response.resume();
        fail(`HTTP ${response.statusCode ?? '?'}`);
        return;
      }
      const declared = Number(response.headers['content-length']);
      if (Number.isFinite(declared) && declared > limits.maxBytes) {
        response.destroy();
        fail(`larger than ${limits.maxBytes} bytes`);
        return;
      }
      const chunks: Buffer[] = [];
      let size = 0;
      response.on('data', (chunk: Buffer) => {
        size += chunk.length;
        if (size > limits.maxBytes) {
          response.destroy();
          fail(`larger than ${limits.maxBytes} bytes`);
          return;
        }
        chunks.push(chunk);
      });
      response.on('end', () => resolve(Buffer.concat(chunks)));
      response.on('error', (error) => fail(error.message));
    });
    request.setTimeout(limits.timeoutMs, () =>
      request.destroy(new Error(`no data for ${limits.timeoutMs} ms`)),
    );
    request.on('error', (error) => fail(error.message));
  });
}

/**
 * The last good CRL of each URL, as DER files named by the SHA-256 of the URL in one directory (under the
 * data directory). Written through a temporary file and a rename, so a crash never leaves half a CRL.
 */
export class CrlDiskCache {
  constructor(private readonly directory: string) {}

  /** The cached DER of `url`, or undefined when there is none. */
  async read(url: string): Promise<Buffer | undefined> {
    try {
      return await readFile(this.fileOf(url));
    } catch {
      return undefined;
    }
  }

  /** Replaces the cached DER of `url`. */
  async write(url: string, der: Buffer): Promise<void> {
    await mkdir(this.directory, { recursive: true });
    const target = this.fileOf(url);
    const temporary = `${target}.${process.pid}.tmp`;
    await writeFile(temporary, der);
    await rename(temporary, target);
  }

  private fileOf(url: string): string {
    return path.join(this.directory, `${createHash('sha256').update(url).digest('hex')}.crl`);
  }
}
