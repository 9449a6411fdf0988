import { existsSync, mkdtempSync, readdirSync, rmSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { openDatabase, SQLITE_FILE_NAME } from '../../src/storage/data-source';
import { STORAGE_MIGRATIONS } from '../../src/storage/migrations';
import { CliRunner, hasStackTrace } from './cli-runner';

/*
 * `registered-mail migrate` as a user runs it, on a fresh data directory: --check says what is pending
 * without creating anything (exit 3), migrate applies and lists every migration (exit 0), a second run
 * has none to apply, and --check then exits 0.
 */

const MIGRATION_NAMES = STORAGE_MIGRATIONS.map((Migration) => new Migration().name);

describe('registered-mail migrate', () => {
  let cli: CliRunner;
  let dir: string;
  beforeAll(() => {
    cli = CliRunner.create();
  });
  afterAll(() => cli?.remove());
  beforeEach(() => {
    dir = mkdtempSync(path.join(os.tmpdir(), 'rm-cli-migrate-'));
  });
  afterEach(() => rmSync(dir, { recursive: true, force: true }));

  const env = () => ({ RM_DATA_DIR: path.join(dir, 'data') });
  const lines = (text: string, prefix: string) =>
    text
      .split('\n')
      .filter((line) => line.startsWith(prefix))
      .map((line) => line.slice(prefix.length));

  test('--check on a fresh data directory lists every migration as pending, exits 3 and creates nothing', async () => {
    const result = await cli.run(['migrate', '--check'], env());
    expect(result).toMatchObject({ status: 3, stderr: '' });
    expect(lines(result.stdout, 'pending: ')).toEqual(MIGRATION_NAMES);
    expect(result.stdout).toContain(`${MIGRATION_NAMES.length} pending migration(s), not applied`);
    expect(readdirSync(dir)).toEqual([]);
  });

  test('applies every migration once, lists them, then has none to apply; --check then exits 0', async () => {
    const first = await cli.run(['migrate'], env());
    expect(first).toMatchObject({ status: 0, stderr: '' });
    expect(lines(first.stdout, 'applied: ')).toEqual(MIGRATION_NAMES);
    const sqlitePath = path.join(dir, 'data', SQLITE_FILE_NAME);
    expect(first.stdout).toContain(`${sqlitePath}: ${MIGRATION_NAMES.length} migration(s) applied`);
    // Opened as the service opens it: nothing left to migrate, the migrations recorded in order.
    const database = await openDatabase(path.join(dir, 'data'));
    try {
      const recorded = (await database.query('SELECT name FROM schema_migrations ORDER BY id')) as {
        name: string;
      }[];
      expect(recorded.map((row) => row.name)).toEqual(MIGRATION_NAMES);
    } finally {
      await database.destroy();
    }

    const second = await cli.run(['migrate'], env());
    expect(second).toMatchObject({ status: 0, stderr: '' });
    expect(lines(second.stdout, 'applied: ')).toEqual([]);
    expect(second.stdout).toContain('up to date, no pending migration');

    const check = await cli.run(['migrate', '--check'], env());
    expect(check).toMatchObject({ status: 0, stderr: '' });
    expect(lines(check.stdout, 'pending: ')).toEqual([]);
    expect(check.stdout).toContain('up to date, no pending migration');
  });

  test('a database that cannot be opened fails with its reason, exit 1, no stack trace', async () => {
    // The data directory is a file: the database cannot be created under it.
    const notADirectory = path.join(dir, 'file');
    writeFileSync(notADirectory, 'x');
    const result = await cli.run(['migrate'], { RM_DATA_DIR: notADirectory });
    expect(result.status).toBe(1);
    expect(result.stderr).toMatch(/^registered-mail migrate: /);
    expect(hasStackTrace(result.stderr)).toBe(false);
    expect(existsSync(path.join(notADirectory, SQLITE_FILE_NAME))).toBe(false);
  });
});
