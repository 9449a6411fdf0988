import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import type { DataSource } from 'typeorm';
import { createDataSource, openDatabase } from '../../src/storage/data-source';
import { ReplayCacheEntryEntity } from '../../src/storage/entities';
import { runSerialized, runSerializedWrite, useCrossProcessWriteLock } from '../../src/storage/serial-access';
import { ManualWriteLock, settle } from '../support/manual-write-lock';

function entry(key: string): ReplayCacheEntryEntity {
  return { messageKey: key.padEnd(64, '0'), expiresAt: new Date(3_600_000), seenAt: new Date(0) };
}

describe('writes take the cross-process write lock, reads do not', () => {
  let dataDir: string;
  let dataSource: DataSource;
  let lock: ManualWriteLock;

  beforeEach(async () => {
    dataDir = fs.mkdtempSync(path.join(os.tmpdir(), 'rm-serial-lock-'));
    dataSource = await openDatabase(dataDir);
    lock = new ManualWriteLock();
    useCrossProcessWriteLock(lock);
  });

  afterEach(async () => {
    useCrossProcessWriteLock(undefined);
    await dataSource.destroy();
    fs.rmSync(dataDir, { recursive: true, force: true });
  });

  it('a write waits for the lock, gives it back after its COMMIT, and a read meanwhile is not held up', async () => {
    const write = runSerializedWrite(dataSource, () =>
      dataSource.transaction(async (manager) => {
        lock.events.push('writing');
        await manager.insert(ReplayCacheEntryEntity, entry('a'));
      }),
    );
    await settle();
    expect(lock.events).toEqual(['requested 1']);

    // The read is queued after the write was asked for, and is answered while the write still waits.
    const count = await runSerialized(dataSource, () =>
      dataSource.getRepository(ReplayCacheEntryEntity).count(),
    );
    expect(count).toBe(0);
    expect(lock.waitingCount).toBe(1);

    lock.grantNext();
    await write;
    expect(lock.events).toEqual(['requested 1', 'granted 1', 'writing', 'released 1']);
    expect(await dataSource.getRepository(ReplayCacheEntryEntity).count()).toBe(1);
  });

  it('two writes of one process each take their own turn, and a failed write gives the lock back', async () => {
    const failing = runSerializedWrite(dataSource, async () => {
      lock.events.push('failing');
      throw new Error('this write fails');
    });
    const succeeding = runSerializedWrite(dataSource, async () => {
      lock.events.push('succeeding');
      await dataSource.getRepository(ReplayCacheEntryEntity).insert(entry('b'));
    });
    await settle();
    expect(lock.events).toEqual(['requested 1', 'requested 2']);

    lock.grantNext();
    await expect(failing).rejects.toThrow('this write fails');
    lock.grantNext();
    await succeeding;
    expect(lock.events).toEqual([
      'requested 1',
      'requested 2',
      'granted 1',
      'failing',
      'released 1',
      'granted 2',
      'succeeding',
      'released 2',
    ]);
  });

  it('an in-memory database belongs to this process alone: no lock', async () => {
    const memory = createDataSource({ sqlitePath: ':memory:' });
    await memory.initialize();
    try {
      await runSerializedWrite(memory, () => memory.getRepository(ReplayCacheEntryEntity).insert(entry('c')));
      expect(lock.events).toEqual([]);
    } finally {
      await memory.destroy();
    }
  });
});
