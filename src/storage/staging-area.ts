import { createHash, randomUUID, type Hash } from 'node:crypto';
import fs from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { systemClock, type Clock } from '../clock/clock';
import type { StagedContent } from '../domain/model';
import { MalformedMessageError } from '../errors/faults';
import { StagedFileWriter } from './staged-file-writer';

/** Options of {@link StagingSession.stage}. */
export interface StageOptions {
  /** Also compute SHA-512 (when the sender declared it). SHA-256 is always computed. */
  sha512: boolean;
  /** Refuse content longer than this many bytes (SOA-03001); the request-level cap is enforced upstream. */
  maxBytes?: number;
}

/**
 * How much staged content a request may hold in memory instead of a file: small content is kept as one
 * buffer and stored with the item's rows (see `content-store.ts`), which spares the file system a
 * directory, a file, its fsync and their removal for every request.
 */
export interface InMemoryStagingLimits {
  /** Content up to this many bytes stays in memory (0: every content goes to a file). */
  contentBytes: number;
  /** At most this many bytes in memory per request, all its contents together. */
  sessionBytes: number;
}

/** Nothing in memory: every content is staged as a file. */
export const FILES_ONLY: InMemoryStagingLimits = { contentBytes: 0, sessionBytes: 0 };

/** The largest content a request keeps in memory; larger content is staged as a file. */
const IN_MEMORY_CONTENT_MAX_BYTES = 64 * 1024;

/**
 * A request holds in memory at most this many contents of the largest size kept in memory (its other
 * contents are staged as files), which bounds the memory of a request with many small parts.
 */
const IN_MEMORY_CONTENTS_PER_REQUEST = 4;

/**
 * What a request keeps in memory when content up to `databaseContentMaxBytes` is stored in the database
 * (RM_DATABASE_CONTENT_MAX_BYTES): that content up to {@link IN_MEMORY_CONTENT_MAX_BYTES} (larger content
 * bound for the database is staged as a file and read into the database from there), at most
 * {@link IN_MEMORY_CONTENTS_PER_REQUEST} of that size per request.
 */
export function inMemoryStagingLimits(databaseContentMaxBytes: number): InMemoryStagingLimits {
  const contentBytes = Math.min(databaseContentMaxBytes, IN_MEMORY_CONTENT_MAX_BYTES);
  return { contentBytes, sessionBytes: IN_MEMORY_CONTENTS_PER_REQUEST * contentBytes };
}

/** Staged session directories of other hosts are removed at startup once they are this old. */
const FOREIGN_SESSION_MAX_AGE_MS = 24 * 60 * 60 * 1000;

/**
 * `<host>~<pid>~<uuid>`: who owns a session directory, so startup only removes dead processes' ones.
 * The host name and the pid are read once per staging area (each read is a system call).
 */
function sessionDirectoryName(owner: string): string {
  return `${owner}~${randomUUID()}`;
}

function parseSessionDirectoryName(name: string): { host: string; pid: number } | undefined {
  const match = /^([^~]+)~(\d+)~[0-9a-f-]{36}$/.exec(name);
  if (!match) return undefined;
  try {
    return { host: decodeURIComponent(match[1]), pid: Number(match[2]) };
  } catch {
    return undefined;
  }
}

function ignoreMissing(error: unknown): void {
  if ((error as NodeJS.ErrnoException).code !== 'ENOENT') throw error;
}

function isProcessAlive(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch (error) {
    // EPERM: it exists but belongs to someone else.
    return (error as NodeJS.ErrnoException).code === 'EPERM';
  }
}

/**
 * The request-scoped place where attachment bytes land while they arrive: small ones in memory (within
 * {@link InMemoryStagingLimits}), the others in `<dataDir>/staging/`. Each request opens a
 * {@link StagingSession}; what the request keeps is stored by the content store (files by hard link into
 * the blob store), and the session is discarded whatever the outcome.
 */
export class StagingArea {
  /** `<dataDir>/staging` */
  readonly root: string;

  /**
   * @param memory what a request may keep in memory instead of files (default: nothing)
   */
  constructor(
    dataDir: string,
    private readonly clock: Clock = systemClock,
    private readonly memory: InMemoryStagingLimits = FILES_ONLY,
  ) {
    this.root = path.join(dataDir, 'staging');
    this.owner = `${encodeURIComponent(os.hostname())}~${process.pid}`;
  }

  /** `<host>~<pid>` of this process. */
  private readonly owner: string;

  /** A new, empty session; its directory is created on the first {@link StagingSession.stage}. */
  openSession(): StagingSession {
    return new StagingSession(path.join(this.root, sessionDirectoryName(this.owner)), this.memory);
  }

  /**
   * Removes what crashed processes left behind: sessions of this host whose process is gone (or whose
   * pid is ours: a previous life of this process, e.g. pid 1 in a restarted container), sessions of
   * other hosts sharing the directory once older than a day, and anything unrecognised. Call it once at
   * startup, before serving. Returns how many entries were removed.
   */
  async cleanOnStartup(): Promise<number> {
    await fs.mkdir(this.root, { recursive: true });
    const host = os.hostname();
    let removed = 0;
    for (const entry of await fs.readdir(this.root)) {
      const entryPath = path.join(this.root, entry);
      const owner = parseSessionDirectoryName(entry);
      let stale: boolean;
      if (owner === undefined) {
        stale = true;
      } else if (owner.host === host) {
        stale = owner.pid === process.pid || !isProcessAlive(owner.pid);
      } else {
        const stat = await fs.stat(entryPath).catch(() => undefined);
        stale = stat !== undefined && this.clock.now().getTime() - stat.mtimeMs > FOREIGN_SESSION_MAX_AGE_MS;
      }
      if (stale) {
        await fs.rm(entryPath, { recursive: true, force: true });
        removed += 1;
      }
    }
    return removed;
  }
}

/** A file a content spilled into once it outgrew the memory allowed for it. */
interface SpillFile {
  path: string;
  handle: fs.FileHandle;
  writer: StagedFileWriter;
}

/** The bytes staged for one request. Not shared between requests. */
export class StagingSession {
  private sequence = 0;
  private discarded = false;
  /** The directory, once created (by the first content that needs a file). */
  private created: Promise<unknown> | undefined;
  /** Every file stage() created: discard() removes exactly these, then the directory. */
  private readonly files: string[] = [];
  /** Bytes of the contents held in memory so far. */
  private heldBytes = 0;

  /**
   * @param directory the session's own directory (created lazily)
   * @param memory what may stay in memory (default: nothing)
   */
  constructor(
    readonly directory: string,
    private readonly memory: InMemoryStagingLimits = FILES_ONLY,
  ) {}

  /**
   * Streams `source` into the session while hashing it (SHA-256 always, SHA-512 when asked). Content
   * that fits the memory limits is kept as one buffer; anything larger is written to a new file of the
   * session as it arrives, and is never held in memory as a whole. With `maxBytes`, content beyond the
   * limit aborts the copy with {@link MalformedMessageError}. On failure the partial file is removed.
   */
  async stage(
    source: NodeJS.ReadableStream | AsyncIterable<Buffer | Uint8Array | string>,
    options: StageOptions,
  ): Promise<StagedContent> {
    if (this.discarded) throw new Error('Staging session already discarded');
    const sha256 = createHash('sha256');
    const sha512: Hash | undefined = options.sha512 ? createHash('sha512') : undefined;
    const maxBytes = options.maxBytes;
    const memoryRoom = Math.min(this.memory.contentBytes, this.memory.sessionBytes - this.heldBytes);
    const held: Uint8Array[] = [];
    let size = 0;
    // No room in memory: the file from the start.
    let spill: SpillFile | undefined = memoryRoom > 0 ? undefined : await this.openSpillFile();
    try {
      for await (const chunk of source as AsyncIterable<Buffer | Uint8Array | string>) {
        const bytes = typeof chunk === 'string' ? Buffer.from(chunk) : chunk;
        size += bytes.byteLength;
        if (maxBytes !== undefined && size > maxBytes) {
          throw new MalformedMessageError(`attachment exceeds the size limit of ${maxBytes} bytes`);
        }
        sha256.update(bytes);
        sha512?.update(bytes);
        if (spill === undefined && size <= memoryRoom) {
          held.push(bytes);
          continue;
        }
        if (spill === undefined) {
          spill = await this.openSpillFile();
          for (const earlier of held.splice(0)) await spill.writer.write(earlier);
        }
        // Each chunk is hashed on the event loop while the writer has the previous ones written on the
        // thread pool: the two overlap instead of taking turns.
        await spill.writer.write(bytes);
      }
      if (spill !== undefined) {
        await spill.writer.finish();
        await spill.handle.close();
      }
    } catch (error) {
      if (spill !== undefined) {
        await spill.writer.settle();
        await spill.handle.close().catch(() => undefined);
        await fs.rm(spill.path, { force: true });
      }
      throw error;
    }
    const digests = { size, sha256: sha256.digest(), sha512: sha512?.digest() };
    if (spill !== undefined) return { staged: { kind: 'file', path: spill.path }, ...digests };
    this.heldBytes += size;
    // A copy of its own: the chunks may be views into larger buffers of the request's parser.
    return { staged: { kind: 'memory', bytes: Buffer.concat(held, size) }, ...digests };
  }

  /**
   * A new file of the session, opened before anything is written to it so that a failing source cannot
   * race the open: its removal always comes after the file exists and its handle is closed.
   */
  private async openSpillFile(): Promise<SpillFile> {
    this.created ??= fs.mkdir(this.directory, { recursive: true });
    await this.created;
    this.sequence += 1;
    const file = path.join(this.directory, `${this.sequence}.part`);
    // 0o444: the file becomes an immutable blob by hard link, and a blob is never written again.
    const handle = await fs.open(file, 'wx', 0o444);
    this.files.push(file);
    return { path: file, handle, writer: new StagedFileWriter(handle) };
  }

  /**
   * Removes everything the session staged. Safe after promotion: blobs are separate links to the same
   * bytes. Idempotent; call it on every outcome of the request.
   */
  async discard(): Promise<void> {
    this.discarded = true;
    if (this.created === undefined) return;
    // The files it knows, then the directory: a few system calls instead of a recursive walk.
    const files = this.files.splice(0);
    await Promise.all(files.map((file) => fs.unlink(file).catch(ignoreMissing)));
    try {
      await fs.rmdir(this.directory);
    } catch (error) {
      const code = (error as NodeJS.ErrnoException).code;
      if (code === 'ENOENT') return;
      // Something else in the directory (not expected): remove it all, as before.
      await fs.rm(this.directory, { recursive: true, force: true });
    }
  }
}
