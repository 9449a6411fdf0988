import { spawnSync } from 'node:child_process';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';

/*
 * Tests that need an external tool (openssl, keytool, xmllint) run through testWithTool: locally a
 * missing tool skips them with a message; with CI=true it fails them, naming the tool.
 */

const availability = new Map<string, boolean>();

function available(tool: string, probeArgs: string[]): boolean {
  let known = availability.get(tool);
  if (known === undefined) {
    known = spawnSync(tool, probeArgs, { stdio: 'ignore' }).error === undefined;
    availability.set(tool, known);
  }
  return known;
}

/** `test` when the tool runs; otherwise a failing test under CI and a skipped one elsewhere. */
export function testWithTool(tool: string, probeArgs: string[] = ['-version']): jest.It {
  if (available(tool, probeArgs)) return test;
  const message = `${tool} is not on the PATH: tests that need it cannot run`;
  if (process.env.CI === 'true') {
    return ((name: string) =>
      test(name, () => {
        throw new Error(message);
      })) as unknown as jest.It;
  }
  console.warn(`${message} (skipped; they fail when CI=true)`);
  return test.skip;
}

/** Runs a tool and returns its standard output and error together; throws, with both, when it fails. */
export function run(tool: string, args: string[], input?: Buffer): string {
  const { status, output } = runStatus(tool, args, input);
  if (status !== 0) throw new Error(`${tool} ${args.join(' ')} exited ${status}: ${output}`);
  return output;
}

/** Runs a tool and returns its exit status with all its output (for expected failures). */
export function runStatus(
  tool: string,
  args: string[],
  input?: Buffer,
): { status: number | null; output: string } {
  const result = spawnSync(tool, args, { input, encoding: 'utf8' });
  if (result.error) throw result.error;
  return { status: result.status, output: `${result.stdout}${result.stderr}` };
}

/**
 * `openssl cms -verify` of a detached signature over `content`, trusting `caFile`: what a recipient of a
 * proof runs. Returns the exit status and openssl's output.
 */
export function opensslCmsVerify(
  signature: Buffer,
  content: Buffer,
  caFile: string,
): { status: number | null; output: string } {
  const dir = mkdtempSync(path.join(os.tmpdir(), 'rm-cms-verify-'));
  try {
    writeFileSync(path.join(dir, 'content'), content);
    writeFileSync(path.join(dir, 'signature.p7s'), signature);
    // -purpose any: the check is the signature and the chain, not an e-mail protection purpose.
    return runStatus('openssl', [
      'cms',
      '-verify',
      '-binary',
      '-inform',
      'DER',
      '-in',
      path.join(dir, 'signature.p7s'),
      '-content',
      path.join(dir, 'content'),
      '-CAfile',
      caFile,
      '-purpose',
      'any',
      '-out',
      path.join(dir, 'verified'),
    ]);
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
}
