import { spawn, type ChildProcess } from 'node:child_process';
import { readFileSync } from 'node:fs';
import net from 'node:net';
import path from 'node:path';

/*
 * The service as a user runs it: `node <entry> serve` (dist/src/cli/main.js after `npm run build`) in its
 * own process, on a fresh data directory where it creates its development PKI, configured only by
 * environment variables.
 */

/** How long the service may take to start (a fresh data directory means generating the dev PKI). */
const START_TIMEOUT_MS = 60_000;
/** How long a SIGTERM may take before the process is killed. */
const STOP_TIMEOUT_MS = 30_000;
/** Output kept for error messages. */
const OUTPUT_KEPT = 20_000;

/** A sender of the dev PKI, as the benchmark signs with it. */
export interface BenchSender {
  name: string;
  cbe: string;
  keyPem: string;
  certPem: string;
}

/** The service's own keys (for the crypto floor: the same key sizes and algorithms it signs with). */
export interface ServiceKeys {
  /** Signs receipts, proofs and responses. */
  signerKeyPem: string;
  /** Signs the embedded TSA's time-stamp tokens. */
  tsaKeyPem: string;
}

/** A running `registered-mail serve`. */
export interface BenchService {
  pid: number;
  /** The v1 endpoint, e.g. `http://127.0.0.1:41234/RegisteredMail/v1`. */
  url: string;
  dataDir: string;
  senders: BenchSender[];
  keys: ServiceKeys;
  /** The RM_*, PORT and HOST settings it was started with. */
  settings: Record<string, string>;
  /** What it printed so far (the last {@link OUTPUT_KEPT} characters). */
  output(): string;
  /** SIGTERM, then waits for the exit (SIGKILL after {@link STOP_TIMEOUT_MS}). */
  stop(): Promise<void>;
}

export interface StartBenchServiceOptions {
  /** The JavaScript entry point, e.g. `dist/src/cli/main.js`. */
  entry: string;
  /** The project root (the working directory: the service finds wsdl/, xsd/ and fixtures/ from it). */
  cwd: string;
  dataDir: string;
  /** RM_* settings; PORT, HOST and RM_DATA_DIR are set here. */
  settings: Record<string, string>;
  /** Options for node itself, before the entry (e.g. `--cpu-prof`). */
  nodeArgs?: string[];
}

/** A TCP port free on 127.0.0.1 now. */
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

interface PkiManifest {
  signer: { key: string };
  tsa: { key: string };
  senders: { name: string; cbe: string; key: string; cert: string }[];
}

/** Reads the dev PKI the service created in `<dataDir>/dev-pki` (its manifest names every file). */
function readDevPki(dataDir: string): { senders: BenchSender[]; keys: ServiceKeys } {
  const root = path.join(dataDir, 'dev-pki');
  const manifest = JSON.parse(readFileSync(path.join(root, 'dev-pki.json'), 'utf8')) as PkiManifest;
  const read = (file: string) => readFileSync(path.join(root, file), 'utf8');
  return {
    senders: manifest.senders.map((sender) => ({
      name: sender.name,
      cbe: sender.cbe,
      keyPem: read(sender.key),
      certPem: read(sender.cert),
    })),
    keys: { signerKeyPem: read(manifest.signer.key), tsaKeyPem: read(manifest.tsa.key) },
  };
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
 * Starts the service and resolves once it prints its banner (it listens by then).
 * @throws Error with the service's output when it exits or does not start in time
 */
export async function startBenchService(options: StartBenchServiceOptions): Promise<BenchService> {
  const port = await findFreePort();
  const settings = {
    ...options.settings,
    RM_DATA_DIR: options.dataDir,
    PORT: String(port),
    HOST: '127.0.0.1',
  };
  // The developer's own RM_* exports must not change what is measured: only `settings` configure it.
  const inherited = Object.fromEntries(
    Object.entries(process.env).filter(([name]) => !/^(RM_|PORT$|HOST$)/.test(name)),
  );
  const child = spawn(process.execPath, [...(options.nodeArgs ?? []), options.entry, 'serve'], {
    cwd: options.cwd,
    env: { ...inherited, ...settings },
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  let output = '';
  const keep = (chunk: Buffer) => {
    output = `${output}${chunk.toString('utf8')}`.slice(-OUTPUT_KEPT);
  };
  child.stdout.on('data', keep);
  child.stderr.on('data', keep);

  const url = await new Promise<string>((resolve, reject) => {
    const timer = setTimeout(() => {
      cleanup();
      child.kill('SIGKILL');
      reject(new Error(`the service did not start within ${START_TIMEOUT_MS} ms:\n${output}`));
    }, START_TIMEOUT_MS);
    const onData = () => {
      // The banner's last line is written with the rest: the senders are listed once it is there.
      const match = /listening on (http:\/\/\S+)[\s\S]*Sign each request/.exec(output);
      if (match) {
        cleanup();
        resolve(match[1]);
      }
    };
    const onExit = (code: number | null, signal: string | null) => {
      cleanup();
      reject(new Error(`the service exited (${signal ?? `code ${code}`}) while starting:\n${output}`));
    };
    const cleanup = () => {
      clearTimeout(timer);
      child.stdout.off('data', onData);
      child.off('exit', onExit);
    };
    child.stdout.on('data', onData);
    child.once('exit', onExit);
  });

  const { senders, keys } = readDevPki(options.dataDir);
  return {
    pid: child.pid as number,
    url,
    dataDir: options.dataDir,
    senders,
    keys,
    settings,
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
