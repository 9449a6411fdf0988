import { createHash, randomBytes } from 'node:crypto';
import fs from 'node:fs';
import path from 'node:path';
import { buffer } from 'node:stream/consumers';
import type { DataSource } from 'typeorm';
import { BlobStore } from '../../src/storage/blob-store';
import { ContentStore } from '../../src/storage/content-store';
import { CONTENT_CHUNK_BYTES, ContentChunkEntity } from '../../src/storage/entities';
import { makeTempDir } from '../domain/storage-fixture';
import { openTestDatabase, removeTestDataDir } from '../support/test-database';

const sha256 = (bytes: Buffer) => createHash('sha256').update(bytes).digest();

describe('ContentStore', () => {
  let dataDir: string;
  let dataSource: DataSource;
  let blobs: BlobStore;
  let contents: ContentStore;

  beforeEach(async () => {
    dataDir = makeTempDir('rm-contents-');
    dataSource = await openTestDatabase(dataDir);
    blobs = new BlobStore(dataDir);
    contents = new ContentStore(dataSource, blobs, 3 * CONTENT_CHUNK_BYTES);
  });

  afterEach(async () => {
    await dataSource.destroy();
    await removeTestDataDir(dataDir);
  });

  const chunkRows = () =>
    dataSource.manager.find(ContentChunkEntity, { order: { sha256: 'ASC', chunkIndex: 'ASC' } });

  it('stores small content as rows of the transaction, in pieces, once per address', async () => {
    const bytes = randomBytes(2 * CONTENT_CHUNK_BYTES + 10);
    const content = await contents.prepare(bytes);
    expect(content.staged.kind).toBe('memory');
    await dataSource.transaction((manager) => contents.place(manager, content, new Set()));
    // The same bytes again (another item with the same document): kept as they are.
    await dataSource.transaction((manager) => contents.place(manager, content, new Set()));

    const rows = await chunkRows();
    expect(rows.map((row) => [row.chunkIndex, row.bytes.length])).toEqual([
      [0, CONTENT_CHUNK_BYTES],
      [1, CONTENT_CHUNK_BYTES],
      [2, 10],
    ]);
    expect(rows.every((row) => row.sha256 === sha256(bytes).toString('hex'))).toBe(true);
    expect(await contents.read(content.sha256)).toEqual(bytes);
    expect(await buffer(contents.openReadStream(content.sha256.toString('hex')))).toEqual(bytes);
    expect(await contents.has(content.sha256)).toBe(true);
    expect(fs.existsSync(blobs.root)).toBe(false);
  });

  it('empty content is one empty piece', async () => {
    const content = await contents.prepare(Buffer.alloc(0));
    await dataSource.transaction((manager) => contents.place(manager, content, new Set()));
    expect(await contents.read(sha256(Buffer.alloc(0)))).toEqual(Buffer.alloc(0));
    expect((await chunkRows()).length).toBe(1);
  });

  it('larger content goes through a fsynced temporary file into the blob directory', async () => {
    const small = new ContentStore(dataSource, blobs, 16);
    const bytes = Buffer.from('more than sixteen bytes of receipt');
    const content = await small.prepare(bytes);
    expect(content.staged.kind).toBe('file');
    const directories = new Set<string>();
    await dataSource.transaction((manager) => small.place(manager, content, directories));
    await blobs.syncDirectories(directories);
    await small.release(content);

    expect(await chunkRows()).toEqual([]);
    expect(fs.readFileSync(blobs.pathOf(content.sha256))).toEqual(bytes);
    expect(await small.read(content.sha256)).toEqual(bytes);
    expect(fs.readdirSync(`${blobs.root}/.incoming`)).toEqual([]);
  });

  it('a staged file within the database limit is read into rows piece by piece, and streamed back', async () => {
    const bytes = randomBytes(2 * CONTENT_CHUNK_BYTES + 1);
    const file = path.join(dataDir, 'staged.part');
    fs.writeFileSync(file, bytes);
    const content = {
      sha256: sha256(bytes),
      size: bytes.length,
      staged: { kind: 'file' as const, path: file },
    };
    await contents.syncContent(content);
    await dataSource.transaction((manager) => contents.place(manager, content, new Set()));

    expect((await chunkRows()).map((row) => row.bytes.length)).toEqual([
      CONTENT_CHUNK_BYTES,
      CONTENT_CHUNK_BYTES,
      1,
    ]);
    expect(fs.existsSync(blobs.root)).toBe(false);
    expect(await buffer(contents.openReadStream(content.sha256))).toEqual(bytes);
    // An empty staged file is one empty piece.
    const empty = path.join(dataDir, 'empty.part');
    fs.writeFileSync(empty, '');
    const nothing = {
      sha256: sha256(Buffer.alloc(0)),
      size: 0,
      staged: { kind: 'file' as const, path: empty },
    };
    await dataSource.transaction((manager) => contents.place(manager, nothing, new Set()));
    expect(await contents.read(nothing.sha256)).toEqual(Buffer.alloc(0));
  });

  it('content of a rolled-back transaction is not stored', async () => {
    const proof = Buffer.from('<Evidence/>');
    await expect(
      dataSource.transaction(async (manager) => {
        await contents.storeGenerated(manager, proof);
        throw new Error('the proof row is refused');
      }),
    ).rejects.toThrow('refused');
    expect(await contents.has(sha256(proof))).toBe(false);
    await expect(contents.read(sha256(proof))).rejects.toMatchObject({ code: 'ENOENT' });
  });

  it('reads content that earlier versions stored as blob files', async () => {
    const bytes = Buffer.from('a receipt stored before content_chunk existed');
    const address = await blobs.write(bytes);
    expect(await contents.read(address)).toEqual(bytes);
    expect(await contents.has(address)).toBe(true);
    expect(await buffer(contents.openReadStream(address))).toEqual(bytes);
  });

  it('reports stored rows whose bytes no longer match their address, and missing content', async () => {
    const bytes = Buffer.from('original');
    await dataSource.transaction((manager) => contents.storeGenerated(manager, bytes));
    await dataSource.manager.update(
      ContentChunkEntity,
      { sha256: sha256(bytes).toString('hex') },
      { bytes: Buffer.from('tampered') },
    );
    await expect(contents.read(sha256(bytes))).rejects.toThrow(/does not match/);

    const missing = sha256(Buffer.from('never stored')).toString('hex');
    await expect(buffer(contents.openReadStream(missing))).rejects.toMatchObject({ code: 'ENOENT' });
    expect(() => contents.openReadStream('../etc/passwd')).toThrow(RangeError);
  });
});
