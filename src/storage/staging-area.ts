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
 * The request-scoped place where attachment bytes land while they arrive: `<dataDir>/staging/`. Each
 * request opens a {@link StagingSession}; what the request keeps is promoted into the blob store (by
 * hard link), and the session is discarded whatever the outcome.
 */
export class StagingArea {
  /** `<dataDir>/staging` */
  readonly root: string;

  constructor(
    dataDir: string,
    private readonly clock: Clock = systemClock,
  ) {
    this.root = path.join(dataDir, 'staging');
    this.owner = `${encodeURIComponent(os.hostname())}~${process.pid}`;
  }

  /** `<host>~<pid>` of this process. */
  private readonly owner: string;

  /** A new, empty session; its directory is created on the first {@link StagingSession.stage}. */
  openSession(): StagingSession {
    return new StagingSession(path.join(this.root, sessionDirectoryName(this.owner)));
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

/** The bytes staged for one request. Not shared between requests. */
export class StagingSession {
  private sequence = 0;
  private discarded = false;
  /** The directory, once created (by the first stage()). */
  private created: Promise<unknown> | undefined;
  /** Every file stage() created: discard() removes exactly these, then the directory. */
  private readonly files: string[] = [];

  /** @param directory the session's own directory (created lazily) */
  constructor(readonly directory: string) {}

  /**
   * Streams `source` into a new file of the session while hashing it (SHA-256 always, SHA-512 when
   * asked); the content is never held in memory as a whole. With `maxBytes`, content beyond the limit
   * aborts the copy with {@link MalformedMessageError}. On failure the partial file is removed.
   */
  async stage(
    source: NodeJS.ReadableStream | AsyncIterable<Buffer | Uint8Array | string>,
    options: StageOptions,
  ): Promise<StagedContent> {
    if (this.discarded) throw new Error('Staging session already discarded');
    this.created ??= fs.mkdir(this.directory, { recursive: true });
    await this.created;
    this.sequence += 1;
    const file = path.join(this.directory, `${this.sequence}.part`);
    const sha256 = createHash('sha256');
    const sha512: Hash | undefined = options.sha512 ? createHash('sha512') : undefined;
    const maxBytes = options.maxBytes;
    let size = 0;

    // 0o444: the file becomes an immutable blob by hard link, and a blob is never written again. It is
    // opened before the copy so that a failing source cannot race the open: the removal below always
    // comes after the file exists and its handle is closed.
    const handle = await fs.open(file, 'wx', 0o444);
    this.files.push(file);
    // Each chunk is hashed on the event loop while the writer has the previous ones written on the
    // thread pool: the two overlap instead of taking turns, as they did through a 16 KiB write stream.
    const writer = new StagedFileWriter(handle);
    try {
      for await (const chunk of source as AsyncIterable<Buffer | Uint8Array | string>) {
        const bytes = typeof chunk === 'string' ? Buffer.from(chunk) : chunk;
        size += bytes.byteLength;
        if (maxBytes !== undefined && size > maxBytes) {
          throw new MalformedMessageError(`attachment exceeds the size limit of ${maxBytes} bytes`);
        }
        sha256.update(bytes);
        sha512?.update(bytes);
        await writer.write(bytes);
      }
      await writer.finish();
      await handle.close();
    } catch (error) {
      await writer.settle();
      await handle.close().catch(() => undefined);
      await fs.rm(file, { force: true });
      throw error;
    }
    return { path: file, size, sha256: sha256.digest(), sha512: sha512?.digest() };
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
