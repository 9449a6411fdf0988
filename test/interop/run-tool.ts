import { spawn } from 'node:child_process';
import * as fs from 'node:fs';
import * as path from 'node:path';

/** Helpers shared by the interop tests to find and run external tools (java, python, openssl). */

/**
 * The skip result for a missing tool: throws under CI=true (CI installs the tools, so absence is a
 * broken setup); otherwise prints the reason once and returns it, so a local run says why it skipped.
 */
export function unavailable(reason: string): { available: false; reason: string } {
  if (process.env.CI === 'true') throw new Error(`${reason} (required when CI=true)`);
  console.warn(`skipping: ${reason}`);
  return { available: false, reason };
}

/** The absolute path of an executable found on PATH, or undefined. */
export function findOnPath(command: string): string | undefined {
  for (const dir of (process.env.PATH ?? '').split(path.delimiter)) {
    const candidate = path.join(dir, command);
    try {
      fs.accessSync(candidate, fs.constants.X_OK);
      return candidate;
    } catch {
      // not in this directory
    }
  }
  return undefined;
}

/** Options for {@link runTool}. */
export interface RunOptions {
  /** Added to the inherited environment. */
  env?: Record<string, string>;
  /** Default 300 s; the process is killed after it. */
  timeoutMs?: number;
}

/**
 * Spawns a tool without blocking the event loop (a server in the same process may have to answer it);
 * rejects with its exit status, command line and output when it fails or outlives the timeout.
 */
export function runTool(
  command: string,
  args: string[],
  options: RunOptions = {},
): Promise<{ stdout: string; stderr: string }> {
  const timeoutMs = options.timeoutMs ?? 300_000;
  return new Promise((resolve, reject) => {
    const child = spawn(command, args, {
      env: { ...process.env, ...options.env },
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    let stdout = '';
    let stderr = '';
    child.stdout.setEncoding('utf8').on('data', (chunk: string) => (stdout += chunk));
    child.stderr.setEncoding('utf8').on('data', (chunk: string) => (stderr += chunk));
    let timedOut = false;
    const timer = setTimeout(() => {
      timedOut = true;
      child.kill('SIGKILL');
    }, timeoutMs);
    child.on('error', (error) => {
      clearTimeout(timer);
      reject(error);
    });
    child.on('close', (code, signal) => {
      clearTimeout(timer);
      if (code === 0 && !timedOut) {
        resolve({ stdout, stderr });
        return;
      }
      const why = timedOut ? `timed out after ${timeoutMs} ms` : `exited with ${code ?? signal}`;
      reject(
        new Error(
          `${path.basename(command)} ${why}\n--- command\n${[command, ...args].join(' ')}\n` +
            `--- stdout\n${tail(stdout)}\n--- stderr\n${tail(stderr)}`,
        ),
      );
    });
  });
}

/** The end of a long output: enough for a stack trace without flooding the jest report. */
function tail(text: string, maxChars = 12_000): string {
  return text.length <= maxChars
    ? text
    : `[... ${text.length - maxChars} chars cut]\n${text.slice(-maxChars)}`;
}
