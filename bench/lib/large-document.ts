import { createHash, randomBytes } from 'node:crypto';
import { createReadStream, createWriteStream } from 'node:fs';
import { open } from 'node:fs/promises';
import http from 'node:http';
import { performance } from 'node:perf_hooks';
import { pipeline } from 'node:stream/promises';
import { processTreeMemory, resetTreePeakRss, treePeakGrowthBytes } from './process-stats';
import { SOAP_ACTION, type StreamedSendDocument } from './signed-requests';

/*
 * One sendDocument with a large document, streamed from a file (never held in memory here), while the
 * server's resident memory is watched.
 */

/** Bytes generated per write. */
const CHUNK_BYTES = 1024 * 1024;
/** How often the server's RSS is sampled during the upload. */
const RSS_SAMPLE_MS = 20;

/**
 * Writes `size` pseudo-random bytes to `file` (a PDF header first), fsynced, and returns their SHA-256
 * (base64), computed while writing.
 */
export async function writeLargeDocument(file: string, size: number): Promise<string> {
  const hash = createHash('sha256');
  const out = createWriteStream(file);
  let written = 0;
  const header = Buffer.from('%PDF-1.4\n% RegisteredMail benchmark large document\n');
  async function* chunks() {
    while (written < size) {
      const length = Math.min(CHUNK_BYTES, size - written);
      const chunk =
        written === 0
          ? Buffer.concat([header, randomBytes(length)]).subarray(0, length)
          : randomBytes(length);
      written += length;
      hash.update(chunk);
      yield chunk;
    }
  }
  await pipeline(chunks(), out);
  // On the disk before the upload starts, so that its write-back does not compete with the upload's.
  const handle = await open(file, 'r');
  try {
    await handle.sync();
  } finally {
    await handle.close();
  }
  return hash.digest('base64');
}

/** What the upload measured. */
export interface LargeUploadResult {
  status: number;
  /** From the first byte sent to the last byte of the answer. */
  durationMs: number;
  mibPerSecond: number;
  /** The server's RSS just before the upload (its processes' VmRSS summed: primary and workers). */
  idleRssBytes: number;
  /** Idle plus growth. */
  peakRssBytes: number;
  /**
   * Per process, its VmHWM after the upload minus its VmRSS before (the VmHWMs reset just before), summed
   * over the server's processes; or the highest sampled sum minus the idle one.
   */
  peakRssGrowthBytes: number;
  /** How the peak was read: `vmhwm` (kernel high-water mark, reset before) or `sampled` (every 20 ms). */
  peakSource: 'vmhwm' | 'sampled';
  /** The answer's body (the receipt, or a fault) for the caller to check. */
  responseBody: Buffer;
}

/** POSTs `head`, the file, `tail` to `url` and watches the server process `serverPid`. */
export async function uploadLargeDocument(options: {
  url: string;
  request: StreamedSendDocument;
  file: string;
  size: number;
  serverPid: number;
}): Promise<LargeUploadResult> {
  const { request } = options;
  const contentLength = request.head.length + options.size + request.tail.length;
  const idle = processTreeMemory(options.serverPid);
  const idleRssBytes = idle.rssBytes;
  const hwmReset = resetTreePeakRss(idle);
  let sampledPeak = idleRssBytes;
  // Sampling (it walks /proc) only when the kernel's high-water marks cannot be used.
  const sampler = hwmReset
    ? undefined
    : setInterval(() => {
        try {
          sampledPeak = Math.max(sampledPeak, processTreeMemory(options.serverPid).rssBytes);
        } catch {
          // the server ended: the request fails and says so
        }
      }, RSS_SAMPLE_MS);

  const started = performance.now();
  try {
    const { status, body } = await new Promise<{ status: number; body: Buffer }>((resolve, reject) => {
      const outgoing = http.request(options.url, {
        method: 'POST',
        headers: {
          'Content-Type': request.contentType,
          'Content-Length': contentLength,
          SOAPAction: SOAP_ACTION,
        },
      });
      outgoing.on('error', reject);
      outgoing.on('response', (response) => {
        const chunks: Buffer[] = [];
        response.on('data', (chunk: Buffer) => chunks.push(chunk));
        response.on('end', () => resolve({ status: response.statusCode ?? 0, body: Buffer.concat(chunks) }));
        response.on('error', reject);
      });
      outgoing.write(request.head);
      const document = createReadStream(options.file, { highWaterMark: CHUNK_BYTES });
      document.on('error', reject);
      document.on('end', () => outgoing.end(request.tail));
      document.pipe(outgoing, { end: false });
    });
    const durationMs = performance.now() - started;
    const after = processTreeMemory(options.serverPid);
    const peakRssBytes = hwmReset
      ? idleRssBytes + treePeakGrowthBytes(idle, after)
      : Math.max(sampledPeak, after.rssBytes);
    return {
      status,
      durationMs,
      mibPerSecond: options.size / (1024 * 1024) / (durationMs / 1000),
      idleRssBytes,
      peakRssBytes,
      peakRssGrowthBytes: peakRssBytes - idleRssBytes,
      peakSource: hwmReset ? 'vmhwm' : 'sampled',
      responseBody: body,
    };
  } finally {
    clearInterval(sampler);
  }
}
