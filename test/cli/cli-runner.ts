import { spawn } from 'node:child_process';
import path from 'node:path';
import { TranspiledSources } from '../support/child-processes';

/*
 * The `registered-mail` command run as a user runs it: a child process on the sources transpiled once
 * (what ts-node does on each start; see TranspiledSources), in the project root, with the environment the
 * test gives (no RM_*, PORT or HOST setting of the developer's shell leaks in). The child is awaited
 * asynchronously: the test's in-process service must keep answering while it runs.
 */

const ROOT = path.join(__dirname, '..', '..');

/** How a command ended and what it wrote. */
export interface CliResult {
  status: number | null;
  stdout: string;
  stderr: string;
}

/** Runs `registered-mail <args>` from transpiled sources. */
export class CliRunner {
  private constructor(private readonly sources: TranspiledSources) {}

  /** Transpiles the sources (once per test file). */
  static create(): CliRunner {
    return new CliRunner(TranspiledSources.create());
  }

  /** Runs the command to its end with `env` added to a clean environment. */
  run(args: readonly string[], env: Record<string, string>): Promise<CliResult> {
    const inherited = Object.fromEntries(
      Object.entries(process.env).filter(([name]) => !/^(RM_|PORT$|HOST$)/.test(name)),
    );
    const child = spawn(process.execPath, [this.sources.entry('src/cli/main.ts'), ...args], {
      cwd: ROOT,
      env: { ...inherited, RM_LOG_LEVEL: 'warn', ...env },
    });
    let stdout = '';
    let stderr = '';
    child.stdout.on('data', (chunk: Buffer) => (stdout += chunk.toString('utf8')));
    child.stderr.on('data', (chunk: Buffer) => (stderr += chunk.toString('utf8')));
    return new Promise((resolve, reject) => {
      child.once('error', reject);
      child.once('close', (status) => resolve({ status, stdout, stderr }));
    });
  }

  /** Deletes the transpiled sources. */
  remove(): void {
    this.sources.remove();
  }
}

/** Whether output shows a stack trace (what a user must never see). */
export function hasStackTrace(output: string): boolean {
  return /^\s+at .+\(.*:\d+:\d+\)$/m.test(output) || /^\s+at .+:\d+:\d+$/m.test(output);
}
