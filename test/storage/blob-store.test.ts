import { createHash } from 'node:crypto';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { Readable } from 'node:stream';
import { buffer } from 'node:stream/consumers';
import { BlobStore } from '../../src/storage/blob-store';
import { StagingArea } from '../../src/storage/staging-area';
import type { StagedContent } from '../../src/domain/model';
import { stagedFileOf } from '../support/staged-bytes';

const sha256 = (bytes: Buffer) => createHash('sha256').update(bytes).digest();

/** The staged file of content (the staging area of these tests keeps everything in files). */
const fileOf = (staged: StagedContent) => ({ path: stagedFileOf(staged), sha256: staged.sha256 });

describe('BlobStore', () => {
  let dataDir: string;
  let blobs: BlobStore;
  let staging: StagingArea;

  beforeEach(() => {
    dataDir = fs.mkdtempSync(path.join(os.tmpdir(), 'rm-blobs-'));
    blobs = new BlobStore(dataDir);
    staging = new StagingArea(dataDir);
  });

  afterEach(() => {
    fs.rmSync(dataDir, { recursive: true, force: true });
  });

  it('addresses blobs as blobs/ab/cd/<sha256 hex>', () => {
    const hex = sha256(Buffer.from('x')).toString('hex');
    expect(blobs.pathOf(hex)).toBe(path.join(dataDir, 'blobs', hex.slice(0, 2), hex.slice(2, 4), hex));
    expect(blobs.pathOf(Buffer.from(hex, 'hex'))).toBe(blobs.pathOf(hex));
    expect(() => blobs.pathOf('../../etc/passwd')).toThrow(RangeError);
  });

  it('promotes staged content; the blob survives the discard of its session', async () => {
    const bytes = Buffer.from('document bytes '.repeat(100));
    const session = staging.openSession();
    const staged = await session.stage(Readable.from([bytes]), { sha512: false });

    expect(await blobs.has(staged.sha256)).toBe(false);
    await blobs.promote(fileOf(staged));
    await session.discard();

    expect(await blobs.has(staged.sha256)).toBe(true);
    expect(fs.existsSync(stagedFileOf(staged))).toBe(false);
    expect(await blobs.read(staged.sha256)).toEqual(bytes);
    expect(await buffer(blobs.openReadStream(staged.sha256))).toEqual(bytes);
    // Blobs are evidence: read-only.
    expect(fs.statSync(blobs.pathOf(staged.sha256)).mode & 0o222).toBe(0);
  });

  it('promotion is idempotent: the existing blob is kept', async () => {
    const bytes = Buffer.from('same bytes, twice');
    const first = staging.openSession();
    const second = staging.openSession();
    const a = await first.stage(Readable.from([bytes]), { sha512: false });
    const b = await second.stage(Readable.from([bytes]), { sha512: false });

    await blobs.promote(fileOf(a));
    const inode = fs.statSync(blobs.pathOf(a.sha256)).ino;
    await blobs.promote(fileOf(a));
    await blobs.promote(fileOf(b));
    await Promise.all([blobs.promote(fileOf(b)), blobs.promote(fileOf(a))]);

    expect(fs.statSync(blobs.pathOf(a.sha256)).ino).toBe(inode);
    expect(await blobs.read(a.sha256)).toEqual(bytes);
    await first.discard();
    await second.discard();
    expect(await blobs.read(a.sha256)).toEqual(bytes);
  });

  it('writes small content and returns its SHA-256; writing it again keeps the blob', async () => {
    const receipt = Buffer.from('<ReceiptContent/>');
    const address = await blobs.write(receipt);
    expect(address).toEqual(sha256(receipt));
    expect(await blobs.write(receipt)).toEqual(address);
    expect(await blobs.read(address)).toEqual(receipt);
    expect(fs.readdirSync(path.join(dataDir, 'blobs', '.incoming'))).toEqual([]);
  });

  it('read() reports a blob whose bytes no longer match its address', async () => {
    const address = await blobs.write(Buffer.from('original'));
    const file = blobs.pathOf(address);
    fs.chmodSync(file, 0o644);
    fs.writeFileSync(file, 'tampered');
    await expect(blobs.read(address)).rejects.toThrow(/does not match/);
  });

  it('a missing blob: has() is false, read() and the stream fail with ENOENT', async () => {
    const address = sha256(Buffer.from('never stored'));
    expect(await blobs.has(address)).toBe(false);
    await expect(blobs.read(address)).rejects.toMatchObject({ code: 'ENOENT' });
    await expect(buffer(blobs.openReadStream(address))).rejects.toMatchObject({ code: 'ENOENT' });
  });

  it('check() passes on a writable directory and leaves nothing behind', async () => {
    await blobs.check();
    expect(fs.readdirSync(path.join(dataDir, 'blobs', '.incoming'))).toEqual([]);
  });
});
