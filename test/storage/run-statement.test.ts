import type { DataSource, EntitySubscriberInterface } from 'typeorm';
import { RegisteredMailItemEntity } from '../../src/storage/entities';
import { RowInserter } from '../../src/storage/row-inserter';
import { runStatement, type CommitListener } from '../../src/storage/run-statement';
import { isDatabaseUnavailable, isUniqueViolation } from '../../src/storage/storage-errors';
import { makeTempDir } from '../domain/storage-fixture';
import { itemRow } from '../support/item-rows';
import { openTestDatabase, removeTestDataDir, testOnSqlite } from '../support/test-database';

const ticketOf = (n: number) => `R${String(n).padStart(12, '0')}`;

describe('runStatement', () => {
  let dataDir: string;
  let dataSource: DataSource;
  /** The SQL of the running database: placeholders `?` on SQLite, `$n` on PostgreSQL. */
  let parameter: (index: number) => string;

  beforeEach(async () => {
    dataDir = makeTempDir('rm-run-statement-');
    dataSource = await openTestDatabase(dataDir);
    parameter = (index) => dataSource.driver.createParameter(`p${index}`, index);
  });

  afterEach(async () => {
    if (dataSource.isInitialized) await dataSource.destroy();
    await removeTestDataDir(dataDir);
  });

  const countItems = () => dataSource.manager.count(RegisteredMailItemEntity);

  it('answers the rows of a SELECT and of a RETURNING, none for a plain INSERT', async () => {
    const items = new RowInserter(dataSource, RegisteredMailItemEntity);
    await dataSource.transaction((manager) => items.insert(manager, itemRow(ticketOf(1), 'token-1')));
    const select = `SELECT ticket, token FROM registered_mail_item WHERE ticket = ${parameter(0)}`;
    expect(await runStatement(dataSource.manager, select, [ticketOf(1)])).toEqual([
      { ticket: ticketOf(1), token: 'token-1' },
    ]);
    expect(await runStatement(dataSource.manager, select, [ticketOf(2)])).toEqual([]);
    const update =
      `UPDATE registered_mail_item SET status = ${parameter(0)} WHERE ticket = ${parameter(1)} ` +
      'RETURNING ticket, status';
    expect(await runStatement(dataSource.manager, update, ['SENT', ticketOf(1)])).toEqual([
      { ticket: ticketOf(1), status: 'SENT' },
    ]);
    const remove = `DELETE FROM registered_mail_item WHERE ticket = ${parameter(0)}`;
    expect(await runStatement(dataSource.manager, remove, [ticketOf(1)])).toEqual([]);
    expect(await countItems()).toBe(0);
  });

  it("joins the caller's transaction and its savepoints", async () => {
    const items = new RowInserter(dataSource, RegisteredMailItemEntity);
    const remove = `DELETE FROM registered_mail_item WHERE ticket = ${parameter(0)}`;
    await dataSource.transaction((manager) => items.insert(manager, itemRow(ticketOf(1), 'token-1')));
    await expect(
      dataSource.transaction(async (manager) => {
        await runStatement(manager, remove, [ticketOf(1)]);
        expect(await manager.count(RegisteredMailItemEntity)).toBe(0);
        throw new Error('rolled back');
      }),
    ).rejects.toThrow('rolled back');
    expect(await countItems()).toBe(1);

    await dataSource.transaction(async (manager) => {
      await runStatement(manager, 'SAVEPOINT kept');
      await runStatement(manager, remove, [ticketOf(1)]);
      await runStatement(manager, 'ROLLBACK TO kept');
      await runStatement(manager, 'RELEASE kept');
      await items.insert(manager, itemRow(ticketOf(2), 'token-2'));
    });
    expect(await countItems()).toBe(2);
  });

  it('fails with the unique violation, and as unavailable once the database is closed', async () => {
    const items = new RowInserter(dataSource, RegisteredMailItemEntity);
    await dataSource.transaction((manager) => items.insert(manager, itemRow(ticketOf(1), 'token-1')));
    const taken = await dataSource
      .transaction((manager) => items.insert(manager, itemRow(ticketOf(1), 'token-2')))
      .then(
        () => undefined,
        (error: unknown) => error,
      );
    expect(isUniqueViolation(taken)).toBe(true);
    expect(isDatabaseUnavailable(taken)).toBe(false);

    const manager = dataSource.manager;
    await dataSource.destroy();
    const closed = await runStatement(manager, 'SELECT 1').then(
      () => undefined,
      (error: unknown) => error,
    );
    expect(closed).toHaveProperty('message');
    expect(isDatabaseUnavailable(closed)).toBe(true);
  });

  testOnSqlite('the statements run on the one better-sqlite3 connection of the DataSource')(
    "prepares each SQL text once on SQLite, runs it there without TypeORM's query runner, binds booleans as 1 and 0",
    async () => {
      const connection = (dataSource.driver as unknown as { databaseConnection: { prepare: () => unknown } })
        .databaseConnection;
      const prepare = jest.spyOn(connection, 'prepare');
      const runners = jest.spyOn(dataSource, 'createQueryRunner');
      const select = 'SELECT ? AS flag, ? AS other';
      for (let i = 0; i < 3; i += 1) {
        expect(await runStatement(dataSource.manager, select, [true, false])).toEqual([
          { flag: 1, other: 0 },
        ]);
      }
      expect(prepare).toHaveBeenCalledTimes(1);
      expect(runners).not.toHaveBeenCalled();
      // The same through TypeORM makes a query runner each time.
      await dataSource.manager.query(select, [true, false]);
      expect(runners).toHaveBeenCalledTimes(1);
      prepare.mockRestore();
      runners.mockRestore();
    },
  );

  it("goes through TypeORM's query runner while a subscriber listens to the queries", async () => {
    const seen: string[] = [];
    const subscriber: EntitySubscriberInterface = { beforeQuery: (event) => void seen.push(event.query) };
    dataSource.subscribers.push(subscriber);
    const select = `SELECT CAST(${parameter(0)} AS INTEGER) AS answer`;
    expect(await runStatement(dataSource.manager, select, [42])).toEqual([{ answer: 42 }]);
    expect(seen).toEqual([select]);
    dataSource.subscribers.splice(dataSource.subscribers.indexOf(subscriber), 1);
  });

  testOnSqlite('the commit listener is the WAL checkpointer of the SQLite DataSource')(
    'a commit listener sees the commits of transactions and the writes outside one, not the statements inside',
    async () => {
      const seen: string[] = [];
      const listener: EntitySubscriberInterface & CommitListener = {
        listensForCommitsOnly: true,
        afterQuery: (event) => void seen.push(event.query),
        afterTransactionCommit: () => void seen.push('commit'),
      };
      dataSource.subscribers.push(listener);
      const items = new RowInserter(dataSource, RegisteredMailItemEntity);
      await dataSource.transaction(async (manager) => {
        await runStatement(manager, 'SAVEPOINT listened');
        await items.insert(manager, itemRow(ticketOf(1), 'token-1'));
        await runStatement(manager, 'RELEASE listened');
      });
      expect(seen.filter((query) => !/^(BEGIN|COMMIT)/.test(query))).toEqual(['commit']);
      seen.length = 0;
      await runStatement(dataSource.manager, 'SELECT ticket FROM registered_mail_item');
      expect(seen).toEqual([]);
      const remove = 'DELETE FROM registered_mail_item WHERE ticket = ?';
      await runStatement(dataSource.manager, remove, [ticketOf(1)]);
      expect(seen).toEqual([remove]);
      dataSource.subscribers.splice(dataSource.subscribers.indexOf(listener), 1);
    },
  );
});
