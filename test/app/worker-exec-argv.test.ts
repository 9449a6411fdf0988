import { DEFAULT_WORKER_V8_POOL_SIZE, workerExecArgv } from '../../src/app/worker-exec-argv';

describe('workerExecArgv: the node options of the cluster workers', () => {
  it('adds one V8 background thread to the primary options, which stay in their order', () => {
    expect(DEFAULT_WORKER_V8_POOL_SIZE).toBe(1);
    expect(workerExecArgv([], undefined, undefined)).toEqual(['--v8-pool-size=1']);
    expect(workerExecArgv(['--enable-source-maps', '--max-old-space-size=512'], '', undefined)).toEqual([
      '--enable-source-maps',
      '--max-old-space-size=512',
      '--v8-pool-size=1',
    ]);
  });

  it("keeps a pool size the operator gave node, in the primary's options or in NODE_OPTIONS", () => {
    expect(workerExecArgv(['--v8-pool-size=3', '--trace-warnings'], undefined, undefined)).toEqual([
      '--v8-pool-size=3',
      '--trace-warnings',
    ]);
    expect(
      workerExecArgv(['--trace-warnings'], '--max-old-space-size=256 --v8-pool-size=2', undefined),
    ).toEqual(['--trace-warnings']);
    expect(workerExecArgv([], '--v8-pool-size 2', undefined)).toEqual([]);
  });

  it("puts RM_WORKER_V8_POOL_SIZE in place of node's own setting, either form", () => {
    expect(workerExecArgv(['--v8-pool-size', '4', '--trace-warnings'], undefined, 2)).toEqual([
      '--trace-warnings',
      '--v8-pool-size=2',
    ]);
    expect(workerExecArgv(['--v8-pool-size=4'], '--v8-pool-size=8', 0)).toEqual(['--v8-pool-size=0']);
  });

  it('is not fooled by an option that only starts like it', () => {
    expect(workerExecArgv(['--v8-pool-size-other=1'], undefined, undefined)).toEqual([
      '--v8-pool-size-other=1',
      '--v8-pool-size=1',
    ]);
  });
});
