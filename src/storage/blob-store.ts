import { createHash, randomUUID } from 'node:crypto';
import { createReadStream, type ReadStream } from 'node:fs';
import fs from 'node:fs/promises';
import path from 'node:path';
import type { StagedContent } from '../domain/model';

/** A blob's address: its SHA-256, as bytes or as 64 lowercase hex digits. */
export type BlobAddress = Buffer | string;

/** Error codes of `link()` that mean "hard links are not possible here": fall back to copying. */
const NO_HARD_LINK_CODES = new Set(['EXDEV', 'EPERM', 'ENOTSUP', 'EOPNOTSUPP', 'EMLINK', 'ENOSYS']);

function errorCode(error: unknown): string | undefined {
  return typeof error === 'object' && error !== null && 'code' in error
    ? String((error as { code: unknown }).code)
    : undefined;
}

function toHex(address: BlobAddress): string {
  const hex = typeof address === 'string' ? address.toLowerCase() : address.toString('hex');
  if (!/^[0-9a-f]{64}$/.test(hex)) throw new RangeError('A blob address is a SHA-256 (32 bytes)');
  return hex;
}

async function fsyncPath(target: string): Promise<void> {
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
    await fsyncPath(directory);
  } catch (error) {
    if (!['EISDIR', 'EPERM', 'EINVAL', 'EBADF'].includes(errorCode(error) ?? '')) throw error;
  }
}

/**
 * Content-addressed storage of every byte array the service keeps (documents, annexes, receipts):
 * `<dataDir>/blobs/ab/cd/<sha256 hex>`. A blob appears atomically (hard link or rename of a complete,
 * fsynced file) and is never modified, so an existing blob is always complete and is kept as it is.
 */
export class BlobStore {
  /** `<dataDir>/blobs` */
  readonly root: string;
  private readonly incoming: string;

  constructor(dataDir: string) {
    this.root = path.join(dataDir, 'blobs');
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
  async promote(staged: StagedContent): Promise<void> {
    const target = this.pathOf(staged.sha256);
    if (await this.has(staged.sha256)) return;
    await this.ensureDirectory(path.dirname(target));
    // The content must be on disk before a durable name points at it.
    await fsyncPath(staged.path);
    try {
      await fs.link(staged.path, target);
    } catch (error) {
      const code = errorCode(error);
      if (code === 'EEXIST') return;
      if (!NO_HARD_LINK_CODES.has(code ?? '')) throw error;
      await this.copyIntoPlace(staged.path, target);
    }
    await fsyncDirectory(path.dirname(target));
  }

  /**
   * Stores small generated content (a receipt) and returns its SHA-256. Written to a temporary file,
   * fsynced, then linked into place; an existing blob with the same address is kept.
   */
  async write(bytes: Buffer): Promise<Buffer> {
    const sha256 = createHash('sha256').update(bytes).digest();
    const target = this.pathOf(sha256);
    if (await this.has(sha256)) return sha256;
    const temporary = await this.writeTemporary(bytes);
    try {
      await this.ensureDirectory(path.dirname(target));
      await fs.link(temporary, target).catch(async (error: unknown) => {
        const code = errorCode(error);
        if (code === 'EEXIST') return;
        if (!NO_HARD_LINK_CODES.has(code ?? '')) throw error;
        await fs.rename(temporary, target);
      });
      await fsyncDirectory(path.dirname(target));
    } finally {
      await fs.rm(temporary, { force: true });
    }
    return sha256;
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

  private async writeTemporary(bytes: Buffer): Promise<string> {
    await fs.mkdir(this.incoming, { recursive: true });
    const temporary = path.join(this.incoming, `${process.pid}-${randomUUID()}`);
    const handle = await fs.open(temporary, 'wx', 0o444);
    try {
      await handle.writeFile(bytes);
      await handle.sync();
    } finally {
      await handle.close();
    }
    return temporary;
  }

  private async copyIntoPlace(source: string, target: string): Promise<void> {
    const temporary = path.join(this.incoming, `${process.pid}-${randomUUID()}`);
    await fs.mkdir(this.incoming, { recursive: true });
    try {
      await fs.copyFile(source, temporary, fs.constants.COPYFILE_EXCL);
      await fsyncPath(temporary);
      // rename() replaces an existing target atomically; its bytes would be identical anyway.
      await fs.rename(temporary, target);
    } finally {
      await fs.rm(temporary, { force: true });
    }
  }

  /** Creates the directory and makes every level it had to create durable in its parent. */
  private async ensureDirectory(directory: string): Promise<void> {
    const firstCreated = await fs.mkdir(directory, { recursive: true });
    if (firstCreated === undefined) return;
    let level = directory;
    const created: string[] = [];
    while (level.length >= firstCreated.length) {
      created.push(level);
      level = path.dirname(level);
    }
    for (const each of created) await fsyncDirectory(path.dirname(each));
  }
}
