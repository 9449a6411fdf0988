import { spawn, spawnSync } from 'node:child_process';
import fs from 'node:fs';
import net from 'node:net';
import os from 'node:os';
import path from 'node:path';

/*
 * A throw-away PostgreSQL server for one test run: a new cluster (initdb) in a temp directory, started
 * with pg_ctl on a free port of 127.0.0.1, trust authentication, stopped and removed afterwards. Nothing
 * of a system installation is used but its binaries: no service, no existing cluster, no password.
 *
 * PostgreSQL refuses to run as root: as root, initdb and pg_ctl run as the `postgres` user (which the
 * Debian package creates), in a directory handed over to it.
 */

/** A running server of {@link startPostgresServer}. */
export interface PostgresServer {
  /** The superuser's URL of the `postgres` database (to create and drop the tests' databases). */
  adminUrl: string;
  /** The temp directory holding the cluster, its socket and its log. */
  root: string;
  binDir: string;
}

/** The name of the environment variable that tells where the PostgreSQL binaries are. */
export const POSTGRES_BIN_DIR_VARIABLE = 'RM_TEST_POSTGRES_BIN_DIR';

/**
 * The directory of `initdb`, `pg_ctl` and `postgres`: $RM_TEST_POSTGRES_BIN_DIR, else `pg_config
 * --bindir`, else the highest version under /usr/lib/postgresql (Debian's layout); undefined when none
 * has them.
 */
export function findPostgresBinDir(): string | undefined {
  const candidates: string[] = [];
  const configured = process.env[POSTGRES_BIN_DIR_VARIABLE];
  if (configured) candidates.push(configured);
  const pgConfig = spawnSync('pg_config', ['--bindir'], { encoding: 'utf8' });
  if (pgConfig.status === 0) candidates.push(pgConfig.stdout.trim());
  const debianRoot = '/usr/lib/postgresql';
  if (fs.existsSync(debianRoot)) {
    const versions = fs
      .readdirSync(debianRoot)
      .filter((name) => /^\d+(\.\d+)?$/.test(name))
      .sort((a, b) => Number(b) - Number(a));
    candidates.push(...versions.map((version) => path.join(debianRoot, version, 'bin')));
  }
  return candidates.find((dir) =>
    ['initdb', 'pg_ctl', 'postgres'].every((tool) => fs.existsSync(path.join(dir, tool))),
  );
}

/** What a missing PostgreSQL means for the run, in one sentence for the console. */
export const POSTGRES_MISSING_MESSAGE =
  'PostgreSQL binaries (initdb, pg_ctl, postgres) were not found (pg_config --bindir, ' +
  `/usr/lib/postgresql/*/bin, or ${POSTGRES_BIN_DIR_VARIABLE}): the tests on PostgreSQL cannot run ` +
  '(Debian: apt-get install postgresql)';

const SERVER_USER = 'postgres';

function runningAsRoot(): boolean {
  return typeof process.getuid === 'function' && process.getuid() === 0;
}

/** `tool args` as the server's user: through runuser when we are root, directly otherwise. */
function asServerUser(tool: string, args: string[]): [string, string[]] {
  return runningAsRoot() ? ['runuser', ['-u', SERVER_USER, '--', tool, ...args]] : [tool, args];
}

function runChecked(tool: string, args: string[], what: string): void {
  const [command, commandArgs] = asServerUser(tool, args);
  const result = spawnSync(command, commandArgs, { encoding: 'utf8', cwd: os.tmpdir() });
  if (result.error) throw new Error(`${what}: ${result.error.message}`);
  if (result.status !== 0) {
    throw new Error(`${what} exited ${result.status}: ${result.stdout}${result.stderr}`.trim());
  }
}

function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const server = net.createServer();
    server.once('error', reject);
    server.listen(0, '127.0.0.1', () => {
      const address = server.address();
      server.close(() => {
        if (address !== null && typeof address === 'object') resolve(address.port);
        else reject(new Error('no port'));
      });
    });
  });
}

/**
 * Settings for a server whose data is thrown away after the run: no fsync (a crash of the machine is
 * not what the tests are about; the processes the tests kill are clients, never the server), enough
 * connections for every pool of two jest workers and the child processes some tests start.
 */
const SERVER_SETTINGS = [
  'fsync=off',
  'synchronous_commit=off',
  'full_page_writes=off',
  'max_connections=300',
  'listen_addresses=127.0.0.1',
];

/**
 * Creates and starts a server (a few seconds: initdb is most of it). Also starts a watchdog that stops
 * the server and removes its directory when `ownerPid` ends without {@link stopPostgresServer} (a run
 * interrupted with Ctrl-C, a killed jest).
 * @throws Error with the tool's output when initdb or the start fails
 */
export async function startPostgresServer(binDir: string, ownerPid = process.pid): Promise<PostgresServer> {
  const root = fs.mkdtempSync(path.join(os.tmpdir(), 'rm-test-postgres-'));
  try {
    if (runningAsRoot()) {
      const { uid, gid } = serverUserIds();
      fs.chownSync(root, uid, gid);
    }
    const dataDir = path.join(root, 'data');
    runChecked(
      path.join(binDir, 'initdb'),
      ['-D', dataDir, '-U', 'postgres', '--auth=trust', '--encoding=UTF8', '--locale=C.UTF-8', '--no-sync'],
      'initdb',
    );
    // A port found free may be taken before the server binds it: try again with another one.
    for (let attempt = 1; ; attempt += 1) {
      const port = await freePort();
      const options = [`-p ${port}`, `-k ${root}`, ...SERVER_SETTINGS.map((setting) => `-c ${setting}`)];
      try {
        runChecked(
          path.join(binDir, 'pg_ctl'),
          [
            '-D',
            dataDir,
            '-l',
            path.join(root, 'server.log'),
            '-w',
            '-t',
            '60',
            '-o',
            options.join(' '),
            'start',
          ],
          'pg_ctl start',
        );
        startWatchdog(binDir, root, ownerPid);
        return { adminUrl: `postgres://postgres@127.0.0.1:${port}/postgres`, root, binDir };
      } catch (error) {
        if (attempt >= 3) throw withServerLog(error, root);
      }
    }
  } catch (error) {
    fs.rmSync(root, { recursive: true, force: true });
    throw error;
  }
}

/** Stops the server at once (its data is thrown away) and removes its directory. */
export function stopPostgresServer(server: PostgresServer): void {
  try {
    runChecked(
      path.join(server.binDir, 'pg_ctl'),
      ['-D', path.join(server.root, 'data'), '-m', 'immediate', '-w', 'stop'],
      'pg_ctl stop',
    );
  } finally {
    fs.rmSync(server.root, { recursive: true, force: true });
  }
}

function serverUserIds(): { uid: number; gid: number } {
  const id = (flag: string) =>
    Number(spawnSync('id', [flag, SERVER_USER], { encoding: 'utf8' }).stdout.trim());
  const uid = id('-u');
  const gid = id('-g');
  if (!Number.isInteger(uid) || !Number.isInteger(gid) || uid <= 0) {
    throw new Error(`running as root, PostgreSQL needs the user "${SERVER_USER}", which does not exist`);
  }
  return { uid, gid };
}

function withServerLog(error: unknown, root: string): Error {
  const logFile = path.join(root, 'server.log');
  const log = fs.existsSync(logFile)
    ? fs.readFileSync(logFile, 'utf8').split('\n').slice(-20).join('\n')
    : '';
  return new Error(`${(error as Error).message}\n${log}`.trim());
}

/** A detached shell that outlives an interrupted run just long enough to stop its server. */
function startWatchdog(binDir: string, root: string, ownerPid: number): void {
  const [stopCommand, stopArgs] = asServerUser(path.join(binDir, 'pg_ctl'), [
    '-D',
    path.join(root, 'data'),
    '-m',
    'immediate',
    'stop',
  ]);
  const quote = (word: string) => `'${word.replace(/'/g, `'\\''`)}'`;
  const script =
    `while kill -0 ${ownerPid} 2>/dev/null && [ -d ${quote(root)} ]; do sleep 2; done; ` +
    `if [ -d ${quote(root)} ]; then ${[stopCommand, ...stopArgs].map(quote).join(' ')} >/dev/null 2>&1; ` +
    `rm -rf ${quote(root)}; fi`;
  const watchdog = spawn('sh', ['-c', script], { detached: true, stdio: 'ignore' });
  watchdog.unref();
}
