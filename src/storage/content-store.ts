import { hash } from 'node:crypto';
import fs from 'node:fs/promises';
import { Readable } from 'node:stream';
import type { DataSource, EntityManager } from 'typeorm';
import type { StagedBytes } from '../domain/model';
import { toHex, type BlobAddress, type BlobStore } from './blob-store';
import { CONTENT_CHUNK_BYTES, ContentChunkEntity } from './entities/content-chunk.schema';
import { RowFinder } from './row-finder';
import { RowInserter } from './row-inserter';
import { runSerialized } from './serial-access';

/** Content about to be stored: its address, its size, and where its bytes are now. */
export interface ContentToStore {
  sha256: Buffer;
  size: number;
  staged: StagedBytes;
}

/** The pieces of content in memory: at least one (empty content is one empty piece). */
function* piecesOf(bytes: Buffer): Generator<Buffer> {
  let offset = 0;
  do {
    yield bytes.subarray(offset, offset + CONTENT_CHUNK_BYTES);
    offset += CONTENT_CHUNK_BYTES;
  } while (offset < bytes.length);
}

/** The pieces of a staged file, read one at a time (at least one). */
async function* piecesOfFile(file: string): AsyncGenerator<Buffer> {
  const handle = await fs.open(file, 'r');
  try {
    for (let first = true; ; first = false) {
      const piece = Buffer.allocUnsafe(CONTENT_CHUNK_BYTES);
      const { bytesRead } = await handle.read(piece, 0, CONTENT_CHUNK_BYTES, null);
      if (bytesRead === 0 && !first) return;
      yield piece.subarray(0, bytesRead);
      if (bytesRead < CONTENT_CHUNK_BYTES) return;
    }
  } finally {
    await handle.close();
  }
}

function assertAddress(bytes: Buffer, sha256Hex: string): Buffer {
  if (hash('sha256', bytes, 'hex') !== sha256Hex) {
    throw new Error(`Content ${sha256Hex} does not match its address`);
  }
  return bytes;
}

/**
 * Every byte array the service keeps (documents, annexes, receipts, proofs), content-addressed by its
 * SHA-256, in one of two places:
 * - content up to `databaseMaxBytes` in the database (`content_chunk`, in pieces of 256 KiB), written by
 *   the transaction that stores the item or the proof naming it: one durable commit covers both. Small
 *   content arrives in memory and never touches the file system (no file, no fsync of a file and of its
 *   directories per request); content staged in a file is read into the rows piece by piece. Setting
 *   the limit above the request size keeps every content in the database (several nodes on one
 *   PostgreSQL database then need no shared directory);
 * - larger content in the {@link BlobStore}'s directory (RM_BLOB_DIR, which several nodes may share),
 *   streamed there as it arrived and linked into place inside the same transaction (see blob-store.ts
 *   for the order that keeps it durable).
 * Readers ask the database first, then the directory, so content stored by any earlier version (all in
 * the directory) is found too.
 */
export class ContentStore {
  /**
   * The INSERT of a piece, kept as it is when its address and index are there already (same address,
   * same bytes). Built at first use: the DataSource may not be initialised at construction.
   */
  private chunkInserter: RowInserter<ContentChunkEntity> | undefined;
  /** The look-up of one piece by address and index (a stream reads piece after piece); built at first use. */
  private chunkFinder: RowFinder<ContentChunkEntity, 'bytes', 'sha256' | 'chunkIndex'> | undefined;

  /**
   * @param databaseMaxBytes content up to this size goes to the database (RM_DATABASE_CONTENT_MAX_BYTES),
   *   larger content to the blob directory
   */
  constructor(
    private readonly dataSource: DataSource,
    readonly blobs: BlobStore,
    readonly databaseMaxBytes: number,
  ) {}

  /**
   * Generated content (a receipt) made ready for {@link place}: small content stays in memory; larger
   * content is written to a temporary file and fsynced (release it with {@link release} either way).
   */
  async prepare(bytes: Buffer): Promise<ContentToStore> {
    if (bytes.length <= this.databaseMaxBytes) {
      return {
        sha256: hash('sha256', bytes, 'buffer'),
        size: bytes.length,
        staged: { kind: 'memory', bytes },
      };
    }
    const prepared = await this.blobs.prepare(bytes);
    return { sha256: prepared.sha256, size: prepared.size, staged: { kind: 'file', path: prepared.path } };
  }

  /** Removes the temporary file of {@link prepare} (nothing to do for content in memory). */
  async release(content: ContentToStore): Promise<void> {
    if (content.staged.kind === 'file') {
      await this.blobs.removePrepared({
        path: content.staged.path,
        sha256: content.sha256,
        size: content.size,
      });
    }
  }

  /**
   * The slow part of storing staged content, done before the transaction and in parallel with other
   * requests: the bytes of a staged file bound for the blob directory fsynced. Content bound for the
   * database needs nothing (its commit makes it durable).
   */
  async syncContent(content: ContentToStore): Promise<void> {
    if (this.goesToBlobDirectory(content)) await this.blobs.syncContent(content.staged.path);
  }

  /**
   * Inside the caller's transaction: stores the content under its address (kept as it is when it is
   * there already: same address, same bytes). Content up to `databaseMaxBytes` becomes rows of this
   * transaction (a staged file is read into them piece by piece); a larger file is linked into the blob
   * directory, whose directories to fsync before the COMMIT are added to `directoriesToSync`.
   */
  async place(
    manager: EntityManager,
    content: ContentToStore,
    directoriesToSync: Set<string>,
  ): Promise<void> {
    if (this.goesToBlobDirectory(content)) {
      await this.blobs.place(content.staged.path, content.sha256, directoriesToSync);
      return;
    }
    const sha256 = content.sha256.toString('hex');
    const pieces =
      content.staged.kind === 'memory' ? piecesOf(content.staged.bytes) : piecesOfFile(content.staged.path);
    const chunks = (this.chunkInserter ??= new RowInserter(this.dataSource, ContentChunkEntity, {
      onConflict: 'do-nothing',
    }));
    let chunkIndex = 0;
    for await (const bytes of pieces) {
      await chunks.insert(manager, { sha256, chunkIndex, bytes });
      chunkIndex += 1;
    }
  }

  /** Whether the content is a staged file too large for the database (it goes to the blob directory). */
  private goesToBlobDirectory(
    content: ContentToStore,
  ): content is ContentToStore & { staged: { kind: 'file'; path: string } } {
    return content.staged.kind === 'file' && content.size > this.databaseMaxBytes;
  }

  /**
   * Stores generated content (a proof) inside the caller's transaction and returns its SHA-256: small
   * content as rows of the transaction; larger content as a blob made durable before this returns.
   */
  async storeGenerated(manager: EntityManager, bytes: Buffer): Promise<Buffer> {
    if (bytes.length > this.databaseMaxBytes) return this.blobs.write(bytes);
    const content = await this.prepare(bytes);
    await this.place(manager, content, new Set());
    return content.sha256;
  }

  /** The whole content (for small ones: receipts, proofs), checked against its address. */
  async read(address: BlobAddress): Promise<Buffer> {
    const sha256 = toHex(address);
    const chunks = await runSerialized(this.dataSource, () => this.chunksIn(this.dataSource.manager, sha256));
    if (chunks.length === 0) return this.blobs.read(sha256);
    return assertAddress(Buffer.concat(chunks.map((chunk) => chunk.bytes)), sha256);
  }

  /** Whether the content is stored (in either place). */
  async has(address: BlobAddress): Promise<boolean> {
    const sha256 = toHex(address);
    const stored = await runSerialized(this.dataSource, () =>
      this.dataSource.manager.exists(ContentChunkEntity, { where: { sha256 } }),
    );
    return stored || this.blobs.has(sha256);
  }

  /**
   * A stream of the content's bytes (for documents being published); it fails with `ENOENT` when the
   * content is stored nowhere. The database is asked when the stream is first read.
   */
  openReadStream(address: BlobAddress): NodeJS.ReadableStream {
    const sha256 = toHex(address);
    // One piece at a time: a large content in the database is never read whole into memory.
    const pieces = async function* (store: ContentStore): AsyncGenerator<Buffer> {
      const finder = (store.chunkFinder ??= new RowFinder(store.dataSource, ContentChunkEntity, {
        select: ['bytes'],
        where: ['sha256', 'chunkIndex'],
      }));
      for (let chunkIndex = 0; ; chunkIndex += 1) {
        const row = await runSerialized(store.dataSource, () =>
          finder.findOne(store.dataSource.manager, { sha256, chunkIndex }),
        );
        if (row === undefined && chunkIndex === 0) {
          yield* store.blobs.openReadStream(sha256) as AsyncIterable<Buffer>;
          return;
        }
        if (row === undefined) return;
        yield row.bytes;
      }
    };
    return Readable.from(pieces(this), { objectMode: false });
  }

  private chunksIn(manager: EntityManager, sha256: string): Promise<ContentChunkEntity[]> {
    return manager.find(ContentChunkEntity, { where: { sha256 }, order: { chunkIndex: 'ASC' } });
  }
}
