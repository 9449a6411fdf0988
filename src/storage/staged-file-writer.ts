import type { FileHandle } from 'node:fs/promises';

/** Bytes handed to the kernel in one `pwritev` at most (chunks queued meanwhile are gathered up to this). */
const MAX_BATCH_BYTES = 4 * 1024 * 1024;
/**
 * Bytes accepted but not yet written after which {@link StagedFileWriter.write} makes its caller wait:
 * what a slow disk may cost in memory per staged part.
 */
const MAX_PENDING_BYTES = 8 * 1024 * 1024;
/**
 * Every this many bytes written, the written range is flushed to the disk in the background (one
 * `fdatasync` at a time). The kernel would otherwise keep a large part dirty in the page cache until the
 * final fsync of the promotion, which would then write it all while the client waits; flushing as the
 * bytes arrive overlaps the disk with the upload.
 */
const WRITE_BEHIND_BYTES = 64 * 1024 * 1024;

/**
 * Appends chunks to an open file without waiting for each write: while one write is in the kernel (on
 * libuv's thread pool), the next chunks are queued and later written together with one `pwritev`, so
 * hashing the next chunks on the event loop overlaps with writing the previous ones. Memory stays bounded
 * by {@link MAX_PENDING_BYTES}: past it, {@link write} resolves only once the disk caught up. Not safe
 * for concurrent callers: await each {@link write} before the next.
 */
export class StagedFileWriter {
  private queued: Uint8Array[] = [];
  private queuedBytes = 0;
  /** The write in the kernel now, if any. */
  private inFlight: Promise<void> | undefined;
  private inFlightBytes = 0;
  /** Where the next write starts (explicit positions: writes never depend on the file offset). */
  private position = 0;
  private failure: unknown;
  private unflushedBytes = 0;
  /** The background fdatasync, if one runs. */
  private flushing: Promise<void> | undefined;

  /** @param handle a file opened for writing, empty */
  constructor(private readonly handle: FileHandle) {}

  /**
   * Queues `chunk` (kept by reference: the caller must not modify it afterwards) and starts a write when
   * none runs. Resolves at once unless too much is pending.
   * @throws the error of an earlier write
   */
  async write(chunk: Uint8Array): Promise<void> {
    if (this.failure !== undefined) throw this.failure;
    if (chunk.byteLength === 0) return;
    this.queued.push(chunk);
    this.queuedBytes += chunk.byteLength;
    this.startWrite();
    while (this.queuedBytes + this.inFlightBytes > MAX_PENDING_BYTES && this.inFlight) {
      await this.inFlight;
      if (this.failure !== undefined) throw this.failure;
    }
  }

  /**
   * Writes what is queued and waits for every write and background flush to end. The data is then in
   * the file (not necessarily on the disk: the caller fsyncs when it must be durable).
   * @throws the error of any write
   */
  async finish(): Promise<void> {
    while (this.inFlight) await this.inFlight;
    await this.flushing;
    if (this.failure !== undefined) throw this.failure;
  }

  /** Waits for what runs, ignoring failures (before the caller closes the handle after an error). */
  async settle(): Promise<void> {
    while (this.inFlight) await this.inFlight.catch(() => undefined);
    await this.flushing?.catch(() => undefined);
  }

  private startWrite(): void {
    if (this.inFlight || this.queued.length === 0 || this.failure !== undefined) return;
    const batch: Uint8Array[] = [];
    let batchBytes = 0;
    while (this.queued.length > 0 && (batch.length === 0 || batchBytes < MAX_BATCH_BYTES)) {
      const chunk = this.queued.shift() as Uint8Array;
      batch.push(chunk);
      batchBytes += chunk.byteLength;
    }
    this.queuedBytes -= batchBytes;
    this.inFlightBytes = batchBytes;
    const position = this.position;
    this.position += batchBytes;
    this.inFlight = this.writeFully(batch, batchBytes, position).then(
      () => {
        this.inFlight = undefined;
        this.inFlightBytes = 0;
        this.unflushedBytes += batchBytes;
        this.startFlushIfDue();
        this.startWrite();
      },
      (error: unknown) => {
        this.inFlight = undefined;
        this.inFlightBytes = 0;
        this.failure ??= error;
      },
    );
  }

  /** `pwritev` until every byte of `batch` is written (the kernel may write fewer than asked). */
  private async writeFully(batch: Uint8Array[], batchBytes: number, position: number): Promise<void> {
    let remaining = batch;
    let written = 0;
    while (written < batchBytes) {
      const { bytesWritten } = await this.handle.writev(remaining, position + written);
      if (bytesWritten === 0) throw new Error('the staged file could not be written (no progress)');
      written += bytesWritten;
      if (written < batchBytes) remaining = dropLeading(remaining, bytesWritten);
    }
  }

  private startFlushIfDue(): void {
    if (this.flushing || this.unflushedBytes < WRITE_BEHIND_BYTES) return;
    this.unflushedBytes = 0;
    this.flushing = this.handle.datasync().then(
      () => {
        this.flushing = undefined;
      },
      (error: unknown) => {
        this.flushing = undefined;
        this.failure ??= error;
      },
    );
  }
}

/** `buffers` without their first `count` bytes (views, no copy). */
function dropLeading(buffers: Uint8Array[], count: number): Uint8Array[] {
  const rest: Uint8Array[] = [];
  let skip = count;
  for (const buffer of buffers) {
    if (skip >= buffer.byteLength) {
      skip -= buffer.byteLength;
      continue;
    }
    rest.push(skip > 0 ? buffer.subarray(skip) : buffer);
    skip = 0;
  }
  return rest;
}
