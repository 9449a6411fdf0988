import { readFileSync } from 'node:fs';
import net from 'node:net';
import path from 'node:path';
import { startNodeProcess } from './node-process';

/*
 * The service as a user runs it: `node <entry> serve` (dist/src/cli/main.js after `npm run build`) in its
 * own process, on a fresh data directory where it creates its development PKI, configured only by
 * environment variables.
 */

/** How long the service may take to start (a fresh data directory means generating the dev PKI). */
const START_TIMEOUT_MS = 60_000;

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
  /** What it printed so far (its last lines). */
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
  const started = await startNodeProcess({
    what: 'the service',
    entry: options.entry,
    args: ['serve'],
    cwd: options.cwd,
    settings,
    nodeArgs: options.nodeArgs,
    // The banner's last line is written with the rest: the senders are listed once it is there.
    ready: /listening on (http:\/\/\S+)[\s\S]*Sign each request/,
    timeoutMs: START_TIMEOUT_MS,
  });
  const { senders, keys } = readDevPki(options.dataDir);
  return {
    pid: started.pid,
    url: started.ready[1],
    dataDir: options.dataDir,
    senders,
    keys,
    settings,
    output: started.output,
    stop: started.stop,
  };
}
