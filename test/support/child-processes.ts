import { spawn, type ChildProcessWithoutNullStreams } from 'node:child_process';
import { mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import net from 'node:net';
import path from 'node:path';
import ts from 'typescript';
import { get } from './soap-client';

/*
 * The service and the e-Box simulator as separate processes, run from the TypeScript sources: the same
 * entry points `npm start` (src/cli/main.ts serve) and `npm run ebox` (src/ebox-simulator/main.ts) run
 * once built. Either through ts-node (transpile only), or from {@link TranspiledSources} when a test starts
 * them many times. Tests that kill a process with SIGKILL or stop it with SIGTERM need them as real
 * processes; everything else uses the in-process fixtures.
 *
 * These tests run on the real clock, so waiting for a process is polling with a bound: every wait here
 * names what it waits for and fails with the process output when the bound is reached.
 */

const ROOT = path.join(__dirname, '..', '..');
const SERVICE_ENTRY = 'src/cli/main.ts';
const SIMULATOR_ENTRY = 'src/ebox-simulator/main.ts';
/** How much of a child's output is kept for failure messages. */
const OUTPUT_KEPT = 20_000;
/** How long a process may take to start (ts-node compiles the sources on each start). */
const START_TIMEOUT_MS = 60_000;

/** How a child process ended. */
export interface ChildExit {
  code: number | null;
  signal: NodeJS.Signals | null;
}

/** Every child started here and not yet ended, so that a failing test can still end them. */
const running = new Set<TypeScriptProcess>();

/**
 * The environment of a child: this process's, without any RM_*, PORT or HOST setting a developer may
 * have exported (the test decides the configuration), plus `env`.
 */
function childEnvironment(env: Record<string, string>): NodeJS.ProcessEnv {
  const inherited = Object.fromEntries(
    Object.entries(process.env).filter(([name]) => !/^(RM_|PORT$|HOST$)/.test(name)),
  );
  return { ...inherited, TS_NODE_TRANSPILE_ONLY: '1', ...env };
}

/** Resolves after `milliseconds` of real time. */
export function delay(milliseconds: number): Promise<void> {
  return new Promise((resolve) => setTimeout(resolve, milliseconds));
}

/**
 * Polls `probe` every `intervalMs` until it gives a value other than undefined, and resolves with it.
 * @throws Error naming `what` (and `details()` when given) once `timeoutMs` has passed
 */
export async function waitFor<T>(
  what: string,
  probe: () => Promise<T | undefined>,
  options: { timeoutMs: number; intervalMs?: number; details?: () => string },
): Promise<T> {
  const deadline = Date.now() + options.timeoutMs;
  for (;;) {
    const value = await probe();
    if (value !== undefined) return value;
    if (Date.now() > deadline) {
      const details = options.details ? `\n${options.details()}` : '';
      throw new Error(`gave up after ${options.timeoutMs} ms waiting for ${what}${details}`);
    }
    await delay(options.intervalMs ?? 100);
  }
}

/** A TCP port free on 127.0.0.1 now (the operating system's choice). */
export function findFreePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const server = net.createServer();
    server.once('error', reject);
    server.listen(0, '127.0.0.1', () => {
      const { port } = server.address() as net.AddressInfo;
      server.close(() => resolve(port));
    });
  });
}

/**
 * The service's sources (tsconfig.build.json: src/) transpiled once, file by file, with the project's
 * compiler options: the transformation ts-node applies with TS_NODE_TRANSPILE_ONLY on every start (no type
 * check), done once because transpiling ~200 files again is most of a start (seconds of CPU each time).
 * The output lies under .test-work/ (ignored by git, eslint and prettier) so that the project root
 * (package.json, wsdl/, xsd/, fixtures/) and node_modules are found from it as they are from src/.
 */
export class TranspiledSources {
  private constructor(readonly dir: string) {}

  /** Transpiles src/ into a new directory under .test-work/. @throws Error when a file does not transpile */
  static create(): TranspiledSources {
    const configFile = path.join(ROOT, 'tsconfig.build.json');
    const { config, error } = ts.readConfigFile(configFile, ts.sys.readFile);
    if (error) throw new Error(ts.flattenDiagnosticMessageText(error.messageText, '\n'));
    const parsed = ts.parseJsonConfigFileContent(config, ts.sys, ROOT, undefined, configFile);
    mkdirSync(path.join(ROOT, '.test-work'), { recursive: true });
    const dir = mkdtempSync(path.join(ROOT, '.test-work', 'transpiled-'));
    for (const file of parsed.fileNames) {
      const output = ts.transpileModule(readFileSync(file, 'utf8'), {
        compilerOptions: { ...parsed.options, sourceMap: false, inlineSourceMap: false },
        fileName: file,
        reportDiagnostics: true,
      });
      const problems = output.diagnostics ?? [];
      if (problems.length > 0)
        throw new Error(`${file}: ${ts.flattenDiagnosticMessageText(problems[0].messageText, '\n')}`);
      const target = path.join(dir, path.relative(ROOT, file)).replace(/\.ts$/, '.js');
      mkdirSync(path.dirname(target), { recursive: true });
      writeFileSync(target, output.outputText);
    }
    return new TranspiledSources(dir);
  }

  /** The JavaScript file of a source file, e.g. `src/cli/main.ts`. */
  entry(sourceFile: string): string {
    return path.join(this.dir, sourceFile.replace(/\.ts$/, '.js'));
  }

  /** Deletes the output. */
  remove(): void {
    rmSync(this.dir, { recursive: true, force: true });
  }
}

/** A Node process running a TypeScript entry point, with its output kept. */
export class TypeScriptProcess {
  /** Resolves when the process has ended. */
  readonly exited: Promise<ChildExit>;
  private readonly child: ChildProcessWithoutNullStreams;
  private collected = '';
  private ended: ChildExit | undefined;

  /**
   * Starts `<entry> <args>` (a path relative to the project root, e.g. `src/cli/main.ts`) in the project
   * root: from `sources` when given, else with `node -r ts-node/register`.
   */
  constructor(
    readonly label: string,
    entry: string,
    args: string[],
    env: Record<string, string>,
    sources?: TranspiledSources,
  ) {
    const command = sources
      ? [sources.entry(entry), ...args]
      : ['-r', 'ts-node/register', path.join(ROOT, entry), ...args];
    this.child = spawn(process.execPath, command, { cwd: ROOT, env: childEnvironment(env) });
    const keep = (chunk: Buffer) => {
      this.collected = `${this.collected}${chunk.toString('utf8')}`.slice(-OUTPUT_KEPT);
    };
    this.child.stdout.on('data', keep);
    this.child.stderr.on('data', keep);
    running.add(this);
    this.exited = new Promise((resolve) => {
      this.child.once('exit', (code, signal) => {
        this.ended = { code, signal };
        running.delete(this);
        resolve(this.ended);
      });
    });
  }

  /** The process id. */
  get pid(): number | undefined {
    return this.child.pid;
  }

  /** What the process wrote so far (stdout and stderr, the last {@link OUTPUT_KEPT} characters). */
  get output(): string {
    return this.collected;
  }

  /** How it ended; undefined while it runs. */
  get exit(): ChildExit | undefined {
    return this.ended;
  }

  /** Waits until the output matches `pattern`. @throws Error when the process ends first or after the bound */
  waitForOutput(pattern: RegExp, timeoutMs = START_TIMEOUT_MS): Promise<RegExpExecArray> {
    return waitFor(
      `${this.label} to print ${pattern}`,
      async () => {
        const match = pattern.exec(this.collected);
        if (match) return match;
        if (this.ended) throw new Error(`${this.label} ended (${describeExit(this.ended)}):\n${this.output}`);
        return undefined;
      },
      { timeoutMs, intervalMs: 50, details: () => this.output },
    );
  }

  /** Sends `signal` (SIGTERM by default) and resolves with how the process ended. */
  async stop(signal: NodeJS.Signals = 'SIGTERM'): Promise<ChildExit> {
    if (this.ended) return this.ended;
    this.child.kill(signal);
    return this.exited;
  }
}

/** "exit code 0" or "signal SIGKILL". */
export function describeExit(exit: ChildExit): string {
  return exit.signal ? `signal ${exit.signal}` : `exit code ${exit.code}`;
}

/**
 * Ends (SIGKILL) every child started here that still runs, except those in `keep`: for afterEach/afterAll,
 * so that a failed test leaves no process behind.
 */
export async function killRemainingChildren(keep: readonly TypeScriptProcess[] = []): Promise<void> {
  await Promise.all(
    [...running].filter((child) => !keep.includes(child)).map((child) => child.stop('SIGKILL')),
  );
}

/** The e-Box simulator as its own process (`npm run ebox`). */
export interface EboxSimulatorProcess {
  process: TypeScriptProcess;
  /** Its base URL (what RM_EBOX_URL takes). */
  url: string;
}

/**
 * Starts the e-Box simulator as its own process on a free port (from `sources` when given, else through
 * ts-node), keeping its messages in `dataFile` (so they outlive any other process), with the `/_test/*`
 * control endpoints unless `testControl` is false.
 */
export async function startEboxSimulatorProcess(options: {
  dataFile: string;
  testControl?: boolean;
  sources?: TranspiledSources;
}): Promise<EboxSimulatorProcess> {
  const env = {
    RM_EBOX_PORT: '0',
    RM_EBOX_HOST: '127.0.0.1',
    RM_EBOX_DATA_FILE: options.dataFile,
    RM_EBOX_TEST_CONTROL: options.testControl === false ? 'false' : 'true',
  };
  const child = new TypeScriptProcess('e-Box simulator', SIMULATOR_ENTRY, [], env, options.sources);
  const [, url] = await child.waitForOutput(/e-Box simulator listening on (http:\/\/\S+)/);
  return { process: child, url };
}

/** `registered-mail serve` as its own process. */
export interface ServiceProcess {
  process: TypeScriptProcess;
  /** `http://127.0.0.1:<port>` */
  baseUrl: string;
  /** The v1 endpoint. */
  url: string;
}

/**
 * Starts `registered-mail serve` (from `sources` when given, else through ts-node) on 127.0.0.1:`port`
 * with `RM_DATA_DIR=dataDir` and `env`, and resolves
 * once it answers `?wsdl`. On a fresh data directory the first start creates the dev PKI there.
 * @throws Error with the process output when it ends or does not answer in time
 */
export async function startServiceProcess(options: {
  dataDir: string;
  port: number;
  env?: Record<string, string>;
  sources?: TranspiledSources;
}): Promise<ServiceProcess> {
  const env = { RM_DATA_DIR: options.dataDir, PORT: String(options.port), HOST: '127.0.0.1', ...options.env };
  const child = new TypeScriptProcess(
    'registered-mail serve',
    SERVICE_ENTRY,
    ['serve'],
    env,
    options.sources,
  );
  const baseUrl = `http://127.0.0.1:${options.port}`;
  const url = `${baseUrl}/RegisteredMail/v1`;
  await waitFor(
    `${child.label} to answer ?wsdl on port ${options.port}`,
    async () => {
      if (child.exit) throw new Error(`${child.label} ended (${describeExit(child.exit)}):\n${child.output}`);
      const answer = await get(`${url}?wsdl`).catch(() => undefined);
      return answer?.status === 200 ? true : undefined;
    },
    { timeoutMs: START_TIMEOUT_MS, intervalMs: 50, details: () => child.output },
  );
  return { process: child, baseUrl, url };
}
