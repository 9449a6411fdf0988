import path from 'node:path';
import { ConfigError, loadConfig } from '../../src/config/config';
import { databaseOptionsOf } from '../../src/cli/migration-runner';
import {
  createDataSource,
  databaseOptionsIn,
  DEFAULT_POSTGRES_POOL_SIZE,
  describeDatabase,
  SQLITE_FILE_NAME,
} from '../../src/storage/data-source';
import { binaryColumnTypeOf } from '../../src/storage/binary-column-type';

/*
 * Which database the configuration selects (RM_DATABASE_URL), without opening one: the same options
 * for `serve` and `registered-mail migrate`. Database-free, so it runs once (the "sqlite" project).
 */

describe('the database of the configuration', () => {
  const dataDir = path.resolve('/srv/registered-mail');

  it('nothing set: the SQLite file in the data directory', () => {
    const config = loadConfig({ RM_DATA_DIR: dataDir });
    expect(config.databaseUrl).toBeUndefined();
    expect(databaseOptionsOf(config)).toEqual({
      sqlitePath: path.join(dataDir, SQLITE_FILE_NAME),
      busyTimeoutMs: undefined,
    });
  });

  it('RM_DATABASE_URL: that PostgreSQL database, whatever the data directory', () => {
    const url = 'postgres://rm:secret@db.example:5432/registered_mail';
    const config = loadConfig({ RM_DATA_DIR: dataDir, RM_DATABASE_URL: url });
    expect(config.databaseUrl).toBe(url);
    expect(databaseOptionsOf(config)).toEqual({ url });
    expect(databaseOptionsIn(dataDir, { databaseUrl: url, busyTimeoutMs: 50 })).toEqual({ url });
    expect(loadConfig({ RM_DATABASE_URL: 'postgresql://db/rm' }).databaseUrl).toBe('postgresql://db/rm');
  });

  it('RM_DATABASE_POOL_SIZE: the connections of each PostgreSQL pool; nothing on SQLite', () => {
    const url = 'postgres://rm@127.0.0.1:1/rm';
    const config = loadConfig({ RM_DATABASE_URL: url, RM_DATABASE_POOL_SIZE: '24' });
    expect(config.databasePoolSize).toBe(24);
    expect(databaseOptionsOf(config)).toEqual({ url, poolSize: 24 });
    const dataSource = createDataSource(databaseOptionsOf(config));
    expect((dataSource.options as { poolSize?: number }).poolSize).toBe(24);
    // Unset: the storage's default.
    const unset = createDataSource(databaseOptionsOf(loadConfig({ RM_DATABASE_URL: url })));
    expect((unset.options as { poolSize?: number }).poolSize).toBe(DEFAULT_POSTGRES_POOL_SIZE);

    const sqlite = loadConfig({ RM_DATA_DIR: dataDir, RM_DATABASE_POOL_SIZE: '24' });
    expect(databaseOptionsOf(sqlite)).toEqual({ sqlitePath: path.join(dataDir, SQLITE_FILE_NAME) });
    for (const value of ['1', '0', '-3', '2.5', 'ten']) {
      expect(() => loadConfig({ RM_DATABASE_URL: url, RM_DATABASE_POOL_SIZE: value })).toThrow(ConfigError);
    }
  });

  it('refuses another kind of URL, without repeating it (it may hold a password)', () => {
    for (const value of ['mysql://rm:secret@db/rm', 'not a url', '/var/lib/rm.sqlite']) {
      let error: unknown;
      try {
        loadConfig({ RM_DATABASE_URL: value });
      } catch (caught) {
        error = caught;
      }
      expect(error).toBeInstanceOf(ConfigError);
      expect((error as Error).message).toMatch(/^RM_DATABASE_URL must be a postgres:\/\/ URL/);
      expect((error as Error).message).not.toContain('secret');
    }
  });

  it('describes a database for messages without its password', () => {
    expect(describeDatabase({ sqlitePath: '/data/registered-mail.sqlite' })).toBe(
      '/data/registered-mail.sqlite',
    );
    expect(describeDatabase({ url: 'postgres://rm:secret@db.example:5432/rm' })).toBe(
      'postgres://rm:***@db.example:5432/rm',
    );
    expect(describeDatabase({ url: 'postgres://db.example/rm' })).toBe('postgres://db.example/rm');
  });

  it('a PostgreSQL DataSource: the pg driver, bytea for content, a pool of at least two', () => {
    const dataSource = createDataSource({ url: 'postgres://rm@127.0.0.1:1/rm' });
    expect(dataSource.options.type).toBe('postgres');
    expect(dataSource.options.migrationsRun).toBe(true);
    expect(binaryColumnTypeOf(dataSource.options.type)).toBe('bytea');
    expect(() => createDataSource({ url: 'postgres://rm@127.0.0.1:1/rm', poolSize: 1 })).toThrow(RangeError);
  });
});
