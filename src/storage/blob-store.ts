import { createHash, randomUUID } from 'node:crypto';
import { createReadStream, linkSync, mkdirSync, type ReadStream } from 'node:fs';
import fs from 'node:fs/promises';
import path from 'node:path';

/** A blob's address: its SHA-256, as bytes or as 64 lowercase hex digits. */
export type BlobAddress = Buffer | string;

/** Error codes of `link()` that mean "hard links are not possible here": fall back to copying. */
const NO_HARD_LINK_CODES = new Set(['EXDEV', 'EPERM', 'ENOTSUP', 'EOPNOTSUPP', 'EMLINK', 'ENOSYS']);

function errorCode(error: unknown): string | undefined {
  return typeof error === 'object' && error !== null && 'code' in error
    ? String((error as { code: unknown }).code)
    : undefined;
}

/** The hex form of a content address (a SHA-256); throws RangeError for anything else. */
export function toHex(address: BlobAddress): string {
  const hex = typeof address === 'string' ? address.toLowerCase() : address.toString('hex');
  if (!/^[0-9a-f]{64}$/.test(hex)) throw new RangeError('A blob address is a SHA-256 (32 bytes)');
  return hex;
}

/** fsync of a file's content (its data reaches the disk before a durable name points at it). */
export async function fsyncFile(target: string): Promise<void> {
  const handle = await fs.open(target, 'r');
  try {
    await handle.sync();
  } finally {
    await handle.close();
  }
}

/** fsync of a directory makes a new entry in it durable; some platforms refuse it (then best effort). */
async function fsyncDirectory(directory: string): Promise<void> {
  try {
    await fsyncFile(directory);
  } catch (error) {
    if (!['EISDIR', 'EPERM', 'EINVAL', 'EBADF'].includes(errorCode(error) ?? '')) throw error;
  }
}

/** fsyncs every directory (in parallel): the names placed in them become durable. */
export async function fsyncDirectories(directories: Iterable<string>): Promise<void> {
  await Promise.all([...new Set(directories)].map((directory) => fsyncDirectory(directory)));
}

/** A complete file (a staged upload) and the SHA-256 of its bytes. */
export interface StagedFile {
  path: string;
  sha256: Buffer;
}

/** A complete, fsynced file in the blob store's temporary directory, about to become a blob. */
export interface PreparedBlob {
  /** The temporary file (remove it with {@link BlobStore.removePrepared} once placed or abandoned). */
  path: string;
  sha256: Buffer;
  size: number;
}

/**
 * Content-addressed storage of the byte arrays too large for the database (see `content-store.ts`):
 * `<blob directory>/ab/cd/<sha256 hex>`. A blob appears atomically (hard link or rename of a complete,
 * fsynced file) and is never modified, so an existing blob is always complete and is kept as it is.
 *
 * Making a blob durable takes three steps, in this order: the content is fsynced (before any durable
 * name points at it), the name is linked, and the directory holding the name is fsynced (with every
 * directory level created for it). {@link promote} and {@link write} do all three. A caller that places
 * several blobs inside a database transaction uses {@link prepare} / {@link syncContent} first (the
 * slow data fsyncs, outside the transaction), then {@link place} (a link, normally no disk wait) and
 * {@link syncDirectories} once for all of them before its commit.
 */
export class BlobStore {
  /** The blob directory: `<dataDir>/blobs` unless given (RM_BLOB_DIR, e.g. a directory several nodes share). */
  readonly root: string;
  private readonly incoming: string;
  /** The temporary directory is created once per store (and again if someone removed it). */
  private incomingReady: Promise<unknown> | undefined;
  private readonly pid = process.pid;

  /**
   * @param dataDir the service's data directory
   * @param root the blob directory, when not `<dataDir>/blobs`
   */
  constructor(dataDir: string, root: string = path.join(dataDir, 'blobs')) {
    this.root = root;
    // Temporary files of write() and check(): on the same file system as the blobs, so link() works.
    this.incoming = path.join(this.root, '.incoming');
  }

  /** Where the blob with this SHA-256 lives (whether it exists or not). */
  pathOf(sha256: BlobAddress): string {
    const hex = toHex(sha256);
    return path.join(this.root, hex.slice(0, 2), hex.slice(2, 4), hex);
  }

  /** Whether the blob exists. */
  async has(sha256: BlobAddress): Promise<boolean> {
    try {
      await fs.access(this.pathOf(sha256));
      return true;
    } catch (error) {
      if (errorCode(error) === 'ENOENT') return false;
      throw error;
    }
  }

  /**
   * Makes staged content a blob under its SHA-256. The staged file is hard-linked into place (copied
   * and renamed where hard links are impossible), so the staging session may be discarded afterwards.
   * When the blob already exists it is kept: same address, same bytes. Idempotent.
   */
  async promote(staged: StagedFile): Promise<void> {
    await this.syncContent(staged.path);
    const directories = new Set<string>();
    await this.place(staged.path, staged.sha256, directories);
    await this.syncDirectories(directories);
  }

  /**
   * Stores small generated content (a receipt, a proof) and returns its SHA-256. Written to a temporary
   * file, fsynced, then linked into place; an existing blob with the same address is kept.
   */
  async write(bytes: Buffer): Promise<Buffer> {
    const prepared = await this.prepare(bytes);
    try {
      const directories = new Set<string>();
      await this.place(prepared.path, prepared.sha256, directories);
      await this.syncDirectories(directories);
    } finally {
      await this.removePrepared(prepared);
    }
    return prepared.sha256;
  }

  /**
   * First step of a {@link write} done in two: the bytes in a new temporary file, fsynced. Not a blob
   * yet; {@link place} makes it one, {@link removePrepared} removes the temporary file either way.
   */
  async prepare(bytes: Buffer): Promise<PreparedBlob> {
    const sha256 = createHash('sha256').update(bytes).digest();
    const temporary = await this.writeTemporary(bytes);
    return { path: temporary, sha256, size: bytes.length };
  }

  /** Removes the temporary file of {@link prepare} (a no-op once gone). */
  async removePrepared(prepared: PreparedBlob): Promise<void> {
    await fs.unlink(prepared.path).catch((error: unknown) => {
      if (errorCode(error) !== 'ENOENT') throw error;
    });
  }

  /** First step of a promotion done in two: fsyncs a staged file's content. */
  async syncContent(file: string): Promise<void> {
    await fsyncFile(file);
  }

  /**
   * Gives the complete, fsynced `source` the blob name of `sha256` (kept as it is when the blob exists)
   * and adds to `directoriesToSync` every directory whose fsync makes that name durable: the blob's
   * directory always (also when the blob existed: another process may have linked it a moment ago and
   * not synced yet), and the parent of every directory level created for it.
   *
   * The usual case is one synchronous `link()`: a metadata update in the page cache, no wait for the
   * disk, and no trip through the thread pool while the caller holds the database. Only a missing
   * directory (`mkdir`) or a file system without hard links (copy) takes longer.
   */
  async place(source: string, sha256: BlobAddress, directoriesToSync: Set<string>): Promise<void> {
    const target = this.pathOf(sha256);
    const directory = path.dirname(target);
    try {
      this.linkOnce(source, target, directoriesToSync);
    } catch (error) {
      const code = errorCode(error);
      if (!NO_HARD_LINK_CODES.has(code ?? '')) throw error;
      await this.copyIntoPlace(source, target, directoriesToSync);
    }
    directoriesToSync.add(directory);
  }

  /** fsyncs every directory (in parallel): the names placed in them become durable. */
  async syncDirectories(directories: Iterable<string>): Promise<void> {
    await fsyncDirectories(directories);
  }

  /** A stream of the blob's bytes; it fails with `ENOENT` when the blob does not exist. */
  openReadStream(sha256: BlobAddress): ReadStream {
    return createReadStream(this.pathOf(sha256));
  }

  /**
   * The whole blob, for small ones (receipts). Its SHA-256 is checked against the address, so a
   * damaged file is reported instead of being served as evidence.
   */
  async read(sha256: BlobAddress): Promise<Buffer> {
    const bytes = await fs.readFile(this.pathOf(sha256));
    if (
      !createHash('sha256')
        .update(bytes)
        .digest()
        .equals(Buffer.from(toHex(sha256), 'hex'))
    ) {
      throw new Error(`Blob ${toHex(sha256)} does not match its address`);
    }
    return bytes;
  }

  /** Health: the store's directory exists and a file can be written, synced and removed. Throws if not. */
  async check(): Promise<void> {
    const probe = await this.writeTemporary(Buffer.from('health probe\n'));
    await fs.rm(probe, { force: true });
  }

  /** link(); when the blob's directory is missing, creates it (noting what to sync) and links again. */
  private linkOnce(source: string, target: string, directoriesToSync: Set<string>): void {
    try {
      linkSync(source, target);
      return;
    } catch (error) {
      const code = errorCode(error);
      if (code === 'EEXIST') return;
      if (code !== 'ENOENT') throw error;
    }
    // ENOENT: the blob's directory is missing (or the source is, and the second link says so).
    this.createDirectory(path.dirname(target), directoriesToSync);
    try {
      linkSync(source, target);
    } catch (error) {
      if (errorCode(error) !== 'EEXIST') throw error;
    }
  }

  private async writeTemporary(bytes: Buffer): Promise<string> {
    const temporary = path.join(this.incoming, `${this.pid}-${randomUUID()}`);
    this.incomingReady ??= fs.mkdir(this.incoming, { recursive: true });
    await this.incomingReady;
    let handle: fs.FileHandle;
    try {
      handle = await fs.open(temporary, 'wx', 0o444);
    } catch (error) {
      if (errorCode(error) !== 'ENOENT') throw error;
      this.incomingReady = fs.mkdir(this.incoming, { recursive: true });
      await this.incomingReady;
      handle = await fs.open(temporary, 'wx', 0o444);
    }
    try {
      await handle.writeFile(bytes);
      await handle.sync();
    } finally {
      await handle.close();
    }
    return temporary;
  }

  private async copyIntoPlace(source: string, target: string, directoriesToSync: Set<string>): Promise<void> {
    const temporary = path.join(this.incoming, `${this.pid}-${randomUUID()}`);
    await fs.mkdir(this.incoming, { recursive: true });
    this.createDirectory(path.dirname(target), directoriesToSync);
    try {
      await fs.copyFile(source, temporary, fs.constants.COPYFILE_EXCL);
      await fsyncFile(temporary);
      // rename() replaces an existing target atomically; its bytes would be identical anyway.
      await fs.rename(temporary, target);
    } finally {
      await fs.rm(temporary, { force: true });
    }
  }

  /**
   * Creates the directory (synchronously: rare, and a metadata update) and notes the parent of every
   * level it had to create, whose fsync makes that level durable.
   */
  private createDirectory(directory: string, directoriesToSync: Set<string>): void {
    const firstCreated = mkdirSync(directory, { recursive: true });
    if (firstCreated === undefined) return;
    for (let level = directory; level.length >= firstCreated.length; level = path.dirname(level)) {
      directoriesToSync.add(path.dirname(level));
    }
  }
}
