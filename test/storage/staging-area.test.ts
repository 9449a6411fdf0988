import { createHash, randomBytes } from 'node:crypto';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { Readable } from 'node:stream';
import { ManualClock } from '../../src/clock/clock';
import { MalformedMessageError } from '../../src/errors/faults';
import { inMemoryStagingLimits, StagingArea } from '../../src/storage/staging-area';
import { stagedBytesOf, stagedFileOf } from '../support/staged-bytes';

function chunksOf(bytes: Buffer, size: number): Buffer[] {
  const chunks: Buffer[] = [];
  for (let offset = 0; offset < bytes.length; offset += size)
    chunks.push(bytes.subarray(offset, offset + size));
  return chunks;
}

async function* generate(chunks: Buffer[]): AsyncGenerator<Buffer> {
  for (const chunk of chunks) yield chunk;
}

describe('StagingArea', () => {
  let dataDir: string;
  let clock: ManualClock;
  let staging: StagingArea;

  beforeEach(() => {
    dataDir = fs.mkdtempSync(path.join(os.tmpdir(), 'rm-staging-'));
    clock = new ManualClock('2025-03-01T10:00:00.000Z');
    staging = new StagingArea(dataDir, clock);
  });

  afterEach(() => {
    fs.rmSync(dataDir, { recursive: true, force: true });
  });

  it('hashes a multi-chunk stream as crypto.createHash does over the whole content', async () => {
    const bytes = randomBytes(1024 * 1024 + 17);
    const session = staging.openSession();
    const staged = await session.stage(Readable.from(chunksOf(bytes, 65_531)), { sha512: true });

    expect(staged.size).toBe(bytes.length);
    expect(staged.sha256).toEqual(createHash('sha256').update(bytes).digest());
    expect(staged.sha512).toEqual(createHash('sha512').update(bytes).digest());
    expect(fs.readFileSync(stagedFileOf(staged)).equals(bytes)).toBe(true);
    expect(path.dirname(stagedFileOf(staged))).toBe(session.directory);
    expect(session.directory.startsWith(path.join(dataDir, 'staging'))).toBe(true);
    await session.discard();
  });

  it('accepts an async iterable, computes SHA-512 only when asked, and stages empty content', async () => {
    const bytes = Buffer.from('an annex in three pieces');
    const session = staging.openSession();
    const staged = await session.stage(generate(chunksOf(bytes, 9)), { sha512: false });
    expect(staged.sha256).toEqual(createHash('sha256').update(bytes).digest());
    expect(staged.sha512).toBeUndefined();

    const empty = await session.stage(generate([]), { sha512: true });
    expect(empty.size).toBe(0);
    expect(empty.sha256).toEqual(createHash('sha256').digest());
    expect(stagedFileOf(empty)).not.toBe(stagedFileOf(staged));
    await session.discard();
  });

  it('aborts beyond maxBytes with SOA-03001 and removes the partial file', async () => {
    const session = staging.openSession();
    const staged = session.stage(Readable.from(chunksOf(Buffer.alloc(100, 1), 30)), {
      sha512: false,
      maxBytes: 64,
    });
    await expect(staged).rejects.toBeInstanceOf(MalformedMessageError);
    await expect(staged).rejects.toThrow(/limit/);
    expect(fs.readdirSync(session.directory)).toEqual([]);
    // Exactly at the limit is fine.
    await expect(
      session.stage(Readable.from([Buffer.alloc(64)]), { sha512: false, maxBytes: 64 }),
    ).resolves.toMatchObject({ size: 64 });
    await session.discard();
  });

  it('a failing source leaves no file behind', async () => {
    const session = staging.openSession();
    async function* broken(): AsyncGenerator<Buffer> {
      yield Buffer.from('first part');
      throw new Error('connection reset');
    }
    await expect(session.stage(broken(), { sha512: false })).rejects.toThrow('connection reset');
    expect(fs.readdirSync(session.directory)).toEqual([]);
    await session.discard();
  });

  it('discard removes everything the session staged, and only that', async () => {
    const mine = staging.openSession();
    const other = staging.openSession();
    const a = await mine.stage(generate([Buffer.from('a')]), { sha512: false });
    const b = await mine.stage(generate([Buffer.from('b')]), { sha512: false });
    const c = await other.stage(generate([Buffer.from('c')]), { sha512: false });

    await mine.discard();
    expect(fs.existsSync(stagedFileOf(a))).toBe(false);
    expect(fs.existsSync(stagedFileOf(b))).toBe(false);
    expect(fs.existsSync(mine.directory)).toBe(false);
    expect(fs.existsSync(stagedFileOf(c))).toBe(true);
    await mine.discard(); // idempotent
    await expect(mine.stage(generate([]), { sha512: false })).rejects.toThrow(/discarded/);
    await other.discard();
  });

  it('a session that staged nothing discards cleanly', async () => {
    await staging.openSession().discard();
  });

  describe('with room in memory (content stored in the database)', () => {
    const limits = { contentBytes: 64, sessionBytes: 100 };
    let memory: StagingArea;

    beforeEach(() => {
      memory = new StagingArea(dataDir, clock, limits);
    });

    it('keeps small content as one buffer of its own, creating no file or directory', async () => {
      const session = memory.openSession();
      const source = [Buffer.from('small '), Buffer.from('content')];
      const staged = await session.stage(generate(source), { sha512: true });
      source[0].fill(0); // the parser's buffers may be reused: the staged bytes are a copy

      expect(staged.staged.kind).toBe('memory');
      expect(stagedBytesOf(staged).toString()).toBe('small content');
      expect(staged.size).toBe(13);
      expect(staged.sha256).toEqual(createHash('sha256').update('small content').digest());
      expect(staged.sha512).toEqual(createHash('sha512').update('small content').digest());
      expect(fs.existsSync(session.directory)).toBe(false);
      await session.discard();
    });

    it('content larger than the limit spills into a file holding every byte, the first chunks included', async () => {
      const bytes = randomBytes(200);
      const session = memory.openSession();
      const staged = await session.stage(generate(chunksOf(bytes, 30)), { sha512: false });

      expect(staged.staged.kind).toBe('file');
      expect(fs.readFileSync(stagedFileOf(staged)).equals(bytes)).toBe(true);
      expect(staged.sha256).toEqual(createHash('sha256').update(bytes).digest());
      await session.discard();
      expect(fs.existsSync(session.directory)).toBe(false);
    });

    it('exactly the limit stays in memory; the session budget sends later contents to files', async () => {
      const session = memory.openSession();
      const first = await session.stage(generate([Buffer.alloc(64, 1)]), { sha512: false });
      const second = await session.stage(generate([Buffer.alloc(30, 2)]), { sha512: false });
      // 94 of the 100 bytes are held: 10 more bytes would exceed the budget.
      const third = await session.stage(generate([Buffer.alloc(10, 3)]), { sha512: false });

      expect([first, second, third].map((content) => content.staged.kind)).toEqual([
        'memory',
        'memory',
        'file',
      ]);
      expect(stagedBytesOf(third)).toEqual(Buffer.alloc(10, 3));
      await session.discard();
    });

    it('maxBytes still refuses content held in memory, and a failing source leaves nothing', async () => {
      const session = memory.openSession();
      await expect(
        session.stage(generate([Buffer.alloc(20), Buffer.alloc(20)]), { sha512: false, maxBytes: 32 }),
      ).rejects.toBeInstanceOf(MalformedMessageError);
      async function* broken(): AsyncGenerator<Buffer> {
        yield Buffer.alloc(50);
        yield Buffer.alloc(50); // spills to a file, then fails
        throw new Error('connection reset');
      }
      await expect(session.stage(broken(), { sha512: false })).rejects.toThrow('connection reset');
      expect(fs.readdirSync(session.directory)).toEqual([]);
      await session.discard();
    });

    it('the service default keeps 4 contents of RM_DATABASE_CONTENT_MAX_BYTES per request', () => {
      expect(inMemoryStagingLimits(65536)).toEqual({ contentBytes: 65536, sessionBytes: 262144 });
      expect(inMemoryStagingLimits(0)).toEqual({ contentBytes: 0, sessionBytes: 0 });
      // Everything in the database: still at most 64 KiB per content in memory.
      expect(inMemoryStagingLimits(2 ** 40)).toEqual({ contentBytes: 65536, sessionBytes: 262144 });
    });
  });

  it('cleanOnStartup removes leftovers of dead processes and unknown entries, keeps live sessions', async () => {
    const root = path.join(dataDir, 'staging');
    const host = encodeURIComponent(os.hostname());
    const uuid = '123e4567-e89b-42d3-a456-426614174000';
    const make = (name: string) => {
      fs.mkdirSync(path.join(root, name), { recursive: true });
      fs.writeFileSync(path.join(root, name, '1.part'), 'leftover');
    };
    // A pid above the kernel's maximum (2^22) cannot be alive.
    make(`${host}~99999999~${uuid}`);
    // Our own pid: a previous life of this process (e.g. pid 1 in a restarted container).
    make(`${host}~${process.pid}~${uuid}`);
    // The parent of this test process is alive: a concurrent process sharing the directory.
    const live = `${host}~${process.ppid}~${uuid}`;
    make(live);
    make('garbage');
    fs.writeFileSync(path.join(root, 'stray-file'), 'x');
    // Another host's sessions: removed once older than a day.
    make(`other-host~42~${uuid.replace('0000', '0001')}`);
    const young = `other-host~43~${uuid.replace('0000', '0002')}`;
    make(young);
    const dayAndMore = new Date(clock.now().getTime() - 25 * 60 * 60 * 1000);
    fs.utimesSync(path.join(root, `other-host~42~${uuid.replace('0000', '0001')}`), dayAndMore, dayAndMore);

    const removed = await staging.cleanOnStartup();

    expect(removed).toBe(5);
    expect(fs.readdirSync(root).sort()).toEqual([live, young].sort());
  });

  it('cleanOnStartup on a missing directory creates it and removes nothing', async () => {
    expect(await staging.cleanOnStartup()).toBe(0);
    expect(fs.readdirSync(path.join(dataDir, 'staging'))).toEqual([]);
  });
});
