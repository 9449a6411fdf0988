import { execFile } from 'node:child_process';
import path from 'node:path';
import { promisify } from 'node:util';

/*
 * The crypto-only server the README cites for scale (bench/crypto-only.ts) keeps working: a handful of
 * requests through it, every one answered, and each figure printed. No timing is asserted.
 */

const ROOT = path.join(__dirname, '..', '..');

test('bench/crypto-only.ts answers every request and prints its figures', async () => {
  const { stdout } = await promisify(execFile)(
    process.execPath,
    ['-r', 'ts-node/register', path.join(ROOT, 'bench', 'crypto-only.ts'), '100', '2'],
    { cwd: ROOT, env: { ...process.env, TS_NODE_TRANSPILE_ONLY: '1' }, timeout: 120_000 },
  );
  expect(stdout).toMatch(
    /^crypto only: 100 requests, 0 errors, [\d.]+ req\/s, p50 [\d.]+ ms, p99 [\d.]+ ms, server CPU [\d.]+ ms\/request, load generator [\d.]+ ms\/request$/m,
  );
}, 180_000);
