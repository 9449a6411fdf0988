import { spawn, type ChildProcess } from 'node:child_process';

/*
 * A Node process of the benchmark (the service, the e-Box simulator): started with only the settings it
 * is given, its output kept for error messages, ready once it prints a line matching `ready`.
 */

/** How long a SIGTERM may take before the process is killed. */
const STOP_TIMEOUT_MS = 30_000;
/** Output kept for error messages. */
const OUTPUT_KEPT = 20_000;

/** A started Node process. */
export interface NodeProcess {
  pid: number;
  /** The match of `ready` in its output. */
  ready: RegExpExecArray;
  /** What it printed so far (the last {@link OUTPUT_KEPT} characters). */
  output(): string;
  /** SIGTERM, then waits for the exit (SIGKILL after {@link STOP_TIMEOUT_MS}). */
  stop(): Promise<void>;
}

export interface StartNodeProcessOptions {
  /** What it is, for error messages ("the service"). */
  what: string;
  /** The JavaScript entry point and its arguments. */
  entry: string;
  args?: string[];
  cwd: string;
  /** Its settings, on top of this process's environment without any RM_*, PORT or HOST. */
  settings: Record<string, string>;
  /** Options for node itself, before the entry (e.g. `--cpu-prof`). */
  nodeArgs?: string[];
  /** Matched against everything printed so far; the process is ready once it matches. */
  ready: RegExp;
  timeoutMs: number;
}

function waitForExit(child: ChildProcess, timeoutMs: number): Promise<boolean> {
  if (child.exitCode !== null || child.signalCode !== null) return Promise.resolve(true);
  return new Promise((resolve) => {
    const timer = setTimeout(() => resolve(false), timeoutMs);
    child.once('exit', () => {
      clearTimeout(timer);
      resolve(true);
    });
  });
}

/**
 * Starts the process and resolves once its output matches `ready`.
 * @throws Error with its output when it exits or is not ready in time (it is killed then)
 */
export async function startNodeProcess(options: StartNodeProcessOptions): Promise<NodeProcess> {
  // The developer's own RM_* exports must not change what is measured: only `settings` configure it.
  const inherited = Object.fromEntries(
    Object.entries(process.env).filter(([name]) => !/^(RM_|PORT$|HOST$)/.test(name)),
  );
  const child = spawn(
    process.execPath,
    [...(options.nodeArgs ?? []), options.entry, ...(options.args ?? [])],
    { cwd: options.cwd, env: { ...inherited, ...options.settings }, stdio: ['ignore', 'pipe', 'pipe'] },
  );
  let output = '';
  const keep = (chunk: Buffer) => {
    output = `${output}${chunk.toString('utf8')}`.slice(-OUTPUT_KEPT);
  };
  child.stdout.on('data', keep);
  child.stderr.on('data', keep);

  const ready = await new Promise<RegExpExecArray>((resolve, reject) => {
    const timer = setTimeout(() => {
      cleanup();
      child.kill('SIGKILL');
      reject(new Error(`${options.what} did not start within ${options.timeoutMs} ms:\n${output}`));
    }, options.timeoutMs);
    const onData = () => {
      const match = options.ready.exec(output);
      if (match) {
        cleanup();
        resolve(match);
      }
    };
    const onExit = (code: number | null, signal: string | null) => {
      cleanup();
      reject(new Error(`${options.what} exited (${signal ?? `code ${code}`}) while starting:\n${output}`));
    };
    const cleanup = () => {
      clearTimeout(timer);
      child.stdout.off('data', onData);
      child.off('exit', onExit);
    };
    child.stdout.on('data', onData);
    child.once('exit', onExit);
  });

  return {
    pid: child.pid as number,
    ready,
    output: () => output,
    async stop() {
      if (child.exitCode !== null || child.signalCode !== null) return;
      child.kill('SIGTERM');
      if (!(await waitForExit(child, STOP_TIMEOUT_MS))) {
        child.kill('SIGKILL');
        await waitForExit(child, STOP_TIMEOUT_MS);
      }
    },
  };
}
