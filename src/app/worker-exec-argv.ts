/** V8's background threads in each worker process when neither RM_WORKER_V8_POOL_SIZE nor node says. */
export const DEFAULT_WORKER_V8_POOL_SIZE = 1;

const POOL_SIZE_FLAG = '--v8-pool-size';

/** Whether `argument` is node's `--v8-pool-size`, as `--v8-pool-size=N` or followed by N. */
function isPoolSizeFlag(argument: string): boolean {
  return argument === POOL_SIZE_FLAG || argument.startsWith(`${POOL_SIZE_FLAG}=`);
}

/**
 * The node options the cluster's workers start with: the primary's own (`execArgv`) and V8's thread pool
 * size. Node gives every process 4 threads for V8's background work (garbage collection helpers,
 * concurrent compilation); with one worker per CPU that is 4 more threads per CPU, busy whenever the
 * workers collect garbage or compile, and the scavenger's helpers then wait for a CPU while the event
 * loop waits for them
 * (under load, a worker's scavenges took 5 to 21 ms now and then instead of 1.5). With one thread per
 * worker, six alternating benchmark runs against the default gave more throughput in five, less CPU per
 * request in five and a lower p99 in three (bench/README.md, 2026-11-30).
 * @param nodeOptions NODE_OPTIONS as the workers inherit it: a pool size set there, or in `execArgv`, is
 *   the operator's and stays, unless `configured` is given
 * @param configured RM_WORKER_V8_POOL_SIZE (0: node sizes the pool itself)
 */
export function workerExecArgv(
  execArgv: readonly string[],
  nodeOptions: string | undefined,
  configured: number | undefined,
): string[] {
  const fromNode = execArgv.some(isPoolSizeFlag) || (nodeOptions ?? '').split(/\s+/).some(isPoolSizeFlag);
  if (configured === undefined && fromNode) return [...execArgv];
  const kept: string[] = [];
  for (let index = 0; index < execArgv.length; index += 1) {
    const argument = execArgv[index];
    if (!isPoolSizeFlag(argument)) kept.push(argument);
    // `--v8-pool-size N`: its value goes with it.
    else if (argument === POOL_SIZE_FLAG) index += 1;
  }
  return [...kept, `${POOL_SIZE_FLAG}=${configured ?? DEFAULT_WORKER_V8_POOL_SIZE}`];
}
