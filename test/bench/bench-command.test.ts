import { execFile } from 'node:child_process';
import { mkdirSync, mkdtempSync, readFileSync, rmSync } from 'node:fs';
import path from 'node:path';
import { promisify } from 'node:util';
import type { BenchReport } from '../../bench/lib/report';

/*
 * What `npm run bench` runs, run as it runs it: the harness and the service compiled by
 * tsconfig.bench.json (here into a directory of their own under .test-work/, so that the checkout's
 * dist/ is left alone), then `node --expose-gc <out>/bench/run-bench.js` with a handful of requests.
 * bench-smoke.test.ts drives the modes in-process; this one keeps the compiled command line working.
 * No timing is asserted.
 */

const ROOT = path.join(__dirname, '..', '..');
const run = promisify(execFile);

test('the compiled harness measures two short send runs, their medians, and writes its JSON', async () => {
  mkdirSync(path.join(ROOT, '.test-work'), { recursive: true });
  const outDir = mkdtempSync(path.join(ROOT, '.test-work', 'bench-build-'));
  try {
    const tsc = path.join(ROOT, 'node_modules', 'typescript', 'bin', 'tsc');
    await run(process.execPath, [tsc, '-p', 'tsconfig.bench.json', '--outDir', outDir], { cwd: ROOT });
    const json = path.join(outDir, 'result.json');
    const { stdout } = await run(
      process.execPath,
      [
        '--expose-gc',
        path.join(outDir, 'bench', 'run-bench.js'),
        ...['--mode', 'send', '--requests', '10', '--warmup', '2', '--concurrency', '2', '--runs', '2'],
        ...['--floor-repetitions', '5', '--workers', '1', '--json', json, '--work-dir', outDir],
        ...['--service-entry', path.join(outDir, 'src', 'cli', 'main.js')],
      ],
      { cwd: ROOT, timeout: 240_000 },
    );
    // Each run on its own service, then the medians over both.
    expect(stdout.match(/^sendDocument\s+10\s+0\s+2\s/gm)).toHaveLength(2);
    expect(stdout).toMatch(/^sendDocument\s+2 x 10\s+0\s+[\d.]+\s/m);
    expect(stdout).toMatch(/^load generator \(autocannon, this process\) CPU ms\/request: [\d.]+, [\d.]+$/m);
    const report = JSON.parse(readFileSync(json, 'utf8')) as BenchReport;
    expect(report.results).toHaveLength(2);
    for (const result of report.results) {
      expect(result).toMatchObject({ mode: 'send', load: { requests: 10, ok: 10, errors: 0 } });
    }
    expect(report.medians).toEqual([
      expect.objectContaining({
        mode: 'send',
        label: 'sendDocument',
        runs: 2,
        requestsPerRun: 10,
        errors: 0,
      }),
    ]);
  } finally {
    rmSync(outDir, { recursive: true, force: true });
  }
}, 300_000);
