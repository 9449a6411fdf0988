import type { DataSource } from 'typeorm';
import { RegisteredMailItemEntity } from '../../src/storage/entities';
import { RowFinder } from '../../src/storage/row-finder';
import { RowInserter } from '../../src/storage/row-inserter';
import { makeTempDir } from '../domain/storage-fixture';
import { itemRow } from '../support/item-rows';
import { openTestDatabase, removeTestDataDir } from '../support/test-database';

describe('RowFinder', () => {
  let dataDir: string;
  let dataSource: DataSource;
  let inserter: RowInserter<RegisteredMailItemEntity>;

  beforeEach(async () => {
    dataDir = makeTempDir('rm-row-finder-');
    dataSource = await openTestDatabase(dataDir);
    inserter = new RowInserter(dataSource, RegisteredMailItemEntity);
    const sent = { ...itemRow('T000000000002', 'token-2'), status: 'SENT' as const };
    await inserter.insert(dataSource.manager, [itemRow('T000000000001', 'token-1'), sent]);
  });

  afterEach(async () => {
    await dataSource.destroy();
    await removeTestDataDir(dataDir);
  });

  const byToken = () =>
    new RowFinder(dataSource, RegisteredMailItemEntity, {
      select: ['ticket', 'status', 'acceptedAt'],
      where: ['senderCbe', 'senderApplicationId', 'idempotencyToken'],
    });

  it('reads the selected properties of the row whose key matches, as findOne does', async () => {
    const key = { senderCbe: '0123456749', senderApplicationId: 'sender-app', idempotencyToken: 'token-2' };
    const found = await byToken().findOne(dataSource.manager, key);
    const expected = await dataSource.manager.findOne(RegisteredMailItemEntity, {
      select: { ticket: true, status: true, acceptedAt: true },
      where: key,
    });
    expect(found).toEqual({ ...expected });
    expect(found).toEqual({
      ticket: 'T000000000002',
      status: 'SENT',
      acceptedAt: itemRow('', null).acceptedAt,
    });
    // The time column is read through its transformer, as TypeORM reads it.
    expect(found?.acceptedAt).toBeInstanceOf(Date);
  });

  it('answers undefined when a single key column differs', async () => {
    const finder = byToken();
    const key = { senderCbe: '0123456749', senderApplicationId: 'sender-app', idempotencyToken: 'token-1' };
    expect(await finder.findOne(dataSource.manager, key)).toMatchObject({ ticket: 'T000000000001' });
    for (const differing of [
      { ...key, senderCbe: '0123456750' },
      { ...key, senderApplicationId: 'other-app' },
      { ...key, idempotencyToken: 'token-3' },
    ]) {
      expect(await finder.findOne(dataSource.manager, differing)).toBeUndefined();
    }
  });

  it("runs in the manager's transaction: it sees that transaction's own rows", async () => {
    const finder = new RowFinder(dataSource, RegisteredMailItemEntity, {
      select: ['token'],
      where: ['ticket'],
    });
    await dataSource.transaction(async (manager) => {
      await inserter.insert(manager, itemRow('T000000000003', 'token-3'));
      expect(await finder.findOne(manager, { ticket: 'T000000000003' })).toEqual({ token: 'token-3' });
    });
  });

  it('quotes names and uses the driver placeholders, with one row at most', () => {
    const escape = (name: string) => dataSource.driver.escape(name);
    const placeholder = (index: number) => dataSource.driver.createParameter('ticket', index);
    const finder = new RowFinder(dataSource, RegisteredMailItemEntity, {
      select: ['ticket', 'token'],
      where: ['ticket'],
    });
    expect(finder.statement).toBe(
      `SELECT ${escape('ticket')} AS ${escape('c0')}, ${escape('token')} AS ${escape('c1')} ` +
        `FROM ${escape('registered_mail_item')} WHERE ${escape('ticket')} = ${placeholder(0)} LIMIT 1`,
    );
  });

  it('refuses a key without a value, and properties that are not plain columns', async () => {
    const finder = byToken();
    await expect(
      finder.findOne(dataSource.manager, {
        senderCbe: '0123456749',
        senderApplicationId: 'sender-app',
        idempotencyToken: null,
      }),
    ).rejects.toThrow(/no value for idempotency_token/);
    expect(
      () =>
        new RowFinder(dataSource, RegisteredMailItemEntity, {
          select: ['ticket'],
          where: ['nothing' as keyof RegisteredMailItemEntity],
        }),
    ).toThrow(/no plain column for nothing/);
    expect(
      () => new RowFinder(dataSource, RegisteredMailItemEntity, { select: [], where: ['ticket'] }),
    ).toThrow(/needs columns/);
  });
});
