import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import type { DataSource, EntityManager } from 'typeorm';
import { openDatabase } from '../../src/storage/data-source';
import { RegisteredMailItemEntity } from '../../src/storage/entities';
import { runSerialized } from '../../src/storage/serial-access';

function item(ticket: string): RegisteredMailItemEntity {
  return {
    ticket,
    token: ticket,
    idempotencyToken: ticket,
    senderCbe: '0861023666',
    senderApplicationId: 'app',
    recipientKind: 'citizen',
    recipientId: '85073003328',
    recipientQualityCode: 'CITIZEN',
    checkEboxStatus: 'ACTIVATED',
    meta: '[]',
    status: 'PENDING',
    requestFingerprint: '0'.repeat(64),
    acceptedAt: new Date(0),
    updatedAt: new Date(0),
  };
}

/** Lets other queued work run, as real I/O inside a transaction would. */
const yieldToOthers = () => new Promise<void>((resolve) => setImmediate(resolve));

describe('serialised access to a single-connection database', () => {
  let dataDir: string;
  let dataSource: DataSource;

  beforeEach(async () => {
    dataDir = fs.mkdtempSync(path.join(os.tmpdir(), 'rm-serial-'));
    dataSource = await openDatabase(dataDir);
  });

  afterEach(async () => {
    await dataSource.destroy();
    fs.rmSync(dataDir, { recursive: true, force: true });
  });

  it('overlapping transactions stay separate: one rolls back, the other commits', async () => {
    const failing = runSerialized(dataSource, () =>
      dataSource.transaction(async (manager: EntityManager) => {
        await manager.insert(RegisteredMailItemEntity, item('AAAAAAAAAAAA1'));
        await yieldToOthers();
        throw new Error('this request fails');
      }),
    );
    const succeeding = runSerialized(dataSource, () =>
      dataSource.transaction(async (manager: EntityManager) => {
        await manager.insert(RegisteredMailItemEntity, item('AAAAAAAAAAAA2'));
        await yieldToOthers();
      }),
    );
    const outcomes = await Promise.allSettled([failing, succeeding]);

    expect(outcomes.map((outcome) => outcome.status)).toEqual(['rejected', 'fulfilled']);
    const tickets = (await dataSource.getRepository(RegisteredMailItemEntity).find()).map(
      (row) => row.ticket,
    );
    expect(tickets).toEqual(['AAAAAAAAAAAA2']);
  });

  it('two DataSources on one file in one process take turns instead of blocking each other', async () => {
    const other = await openDatabase(dataDir, { busyTimeoutMs: 50 });
    try {
      const writes = [dataSource, other, dataSource, other].map((source, index) =>
        runSerialized(source, () =>
          source.transaction(async (manager: EntityManager) => {
            await manager.insert(RegisteredMailItemEntity, item(`BBBBBBBBBBBB${index}`));
            await yieldToOthers();
          }),
        ),
      );
      await Promise.all(writes);
      expect(await other.getRepository(RegisteredMailItemEntity).count()).toBe(4);
    } finally {
      await other.destroy();
    }
  });

  it('a failure does not stop the queue', async () => {
    await expect(runSerialized(dataSource, () => Promise.reject(new Error('boom')))).rejects.toThrow('boom');
    await expect(runSerialized(dataSource, () => Promise.resolve(42))).resolves.toBe(42);
  });
});
