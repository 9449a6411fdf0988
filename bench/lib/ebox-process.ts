import { startNodeProcess, type NodeProcess } from './node-process';

/*
 * The e-Box is another party's system: the benchmark runs the development simulator in its own process
 * (`node <dist>/src/ebox-simulator/main.js`, as `npm run ebox` does) and gives the service its URL, so the
 * service's CPU figure holds the service's side of each e-Box call and not the e-Box's. The end-to-end
 * mode adds the simulator's CPU, as a delivery's whole cost.
 */

/** How long the simulator may take to start. */
const START_TIMEOUT_MS = 30_000;

/** A running e-Box simulator. */
export interface BenchEbox {
  pid: number;
  /** Its base URL (what RM_EBOX_URL takes). */
  url: string;
  stop(): Promise<void>;
}

/**
 * Starts the simulator on 127.0.0.1 and a free port, with its development client credentials and the
 * profile exceptions of `fixtures/ebox-profiles.json` (every other valid INSS has an activated e-Box).
 * @throws Error with its output when it exits or does not start in time
 */
export async function startBenchEbox(options: { entry: string; cwd: string }): Promise<BenchEbox> {
  const started: NodeProcess = await startNodeProcess({
    what: 'the e-Box simulator',
    entry: options.entry,
    cwd: options.cwd,
    settings: { RM_EBOX_PORT: '0', RM_EBOX_HOST: '127.0.0.1' },
    ready: /e-Box simulator listening on (http:\/\/\S+)/,
    timeoutMs: START_TIMEOUT_MS,
  });
  return { pid: started.pid, url: started.ready[1], stop: started.stop };
}
