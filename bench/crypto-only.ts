import cluster from 'node:cluster';
import { createHash, generateKeyPairSync, sign, verify } from 'node:crypto';
import http from 'node:http';
import os from 'node:os';
import { driveLoad } from './lib/load';
import { startNodeProcess } from './lib/node-process';
import { processTreeCpuMs } from './lib/process-stats';
import type { PreparedRequest } from './lib/signed-requests';

/*
 * For scale, not a figure of the service: what this machine gives a Node server that does nothing but a
 * sendDocument's cryptography (one RSA-2048 verification, a SHA-256 of the body, three RSA-2048
 * signatures) behind node:http, with one cluster worker per CPU, under the harness's load (autocannon,
 * the same concurrency, 7 KB bodies, a 6 KB answer). Set beside `npm run bench -- --mode send`, it shows
 * how much of the service's time goes to anything besides its cryptography.
 *
 *   npm run bench -- --mode send --requests 20 --warmup 0   # compiles the harness (or: npx tsc -p tsconfig.bench.json)
 *   node dist/bench/crypto-only.js [requests=20000] [concurrency=16]
 */

const SIGNED_BYTES = Buffer.alloc(300, 's');
const REQUEST_BODY = Buffer.alloc(7000, 'b');
const ANSWER = Buffer.alloc(6000, 'a');

/** The server: a cluster primary whose workers answer every POST after the cryptography above. */
function serve(): void {
  if (cluster.isPrimary) {
    const workers = os.availableParallelism();
    let listening = 0;
    cluster.on('listening', (_worker, address) => {
      listening += 1;
      if (listening === workers) console.log(`crypto-only server listening on ${address.port}`);
    });
    for (let i = 0; i < workers; i += 1) cluster.fork();
    return;
  }
  const { privateKey, publicKey } = generateKeyPairSync('rsa', { modulusLength: 2048 });
  const requestSignature = sign('sha256', SIGNED_BYTES, privateKey);
  http
    .createServer((request, response) => {
      const chunks: Buffer[] = [];
      request.on('data', (chunk: Buffer) => chunks.push(chunk));
      request.on('end', () => {
        const body = Buffer.concat(chunks);
        if (!verify('sha256', SIGNED_BYTES, publicKey, requestSignature)) throw new Error('verify failed');
        createHash('sha256').update(body).digest();
        for (let i = 0; i < 3; i += 1) sign('sha256', body.subarray(0, SIGNED_BYTES.length), privateKey);
        response.writeHead(200, { 'Content-Type': 'text/xml' }).end(ANSWER);
      });
    })
    .listen(0, '127.0.0.1');
}

async function measure(requests: number, concurrency: number): Promise<void> {
  const server = await startNodeProcess({
    what: 'the crypto-only server',
    entry: __filename,
    args: ['serve'],
    // The server runs as this script does (compiled, or through ts-node in the smoke test).
    nodeArgs: process.execArgv,
    cwd: process.cwd(),
    settings: {},
    ready: /crypto-only server listening on (\d+)/,
    timeoutMs: 30_000,
  });
  try {
    const url = `http://127.0.0.1:${server.ready[1]}/`;
    const prepared = (count: number): PreparedRequest[] =>
      Array.from({ length: count }, () => ({ contentType: 'text/xml', body: REQUEST_BODY }));
    await driveLoad({ url, requests: prepared(Math.min(5000, requests)), concurrency });
    const cpuBefore = processTreeCpuMs(server.pid);
    const load = await driveLoad({ url, requests: prepared(requests), concurrency });
    const cpuMs = processTreeCpuMs(server.pid) - cpuBefore;
    console.log(
      `crypto only: ${load.requests} requests, ${load.errors} errors, ${load.throughputPerSecond.toFixed(1)} req/s, ` +
        `p50 ${load.latencyMs.p50.toFixed(1)} ms, p99 ${load.latencyMs.p99.toFixed(1)} ms, ` +
        `server CPU ${(cpuMs / load.requests).toFixed(2)} ms/request, ` +
        `load generator ${(load.generatorCpuMs / load.requests).toFixed(2)} ms/request`,
    );
  } finally {
    await server.stop();
  }
}

if (process.argv[2] === 'serve') serve();
else {
  measure(Number(process.argv[2] ?? 20_000), Number(process.argv[3] ?? 16)).catch((error: unknown) => {
    console.error(error);
    process.exitCode = 1;
  });
}
