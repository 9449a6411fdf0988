/*
 * One worker process of test/cli/cluster-write-lock.test.ts, forked with an IPC channel: takes the
 * parent's write lock (as a cluster worker takes its primary's) for every write to the SQLite file in
 * <dataDir>. Commands from the parent: `hold` (take the lock and never give it back; answers `holding`
 * once it holds it) and `write` (record a replay-cache entry; answers `written`).
 * Run with ts-node: node -r ts-node/register write-lock-process.ts <dataDir>
 */
import { createHash } from 'node:crypto';
import { clusterWorkerWriteLock } from '../../src/app/cluster-write-lock';
import { systemClock } from '../../src/clock/clock';
import { openDatabase } from '../../src/storage/data-source';
import { runSerializedWrite, useCrossProcessWriteLock } from '../../src/storage/serial-access';
import { TypeormReplayStore } from '../../src/storage/typeorm-replay-store';

/** Parent → this process. */
export interface WriteLockProcessCommand {
  type: 'test:hold' | 'test:write';
  key: string;
}

/** This process → parent. */
export interface WriteLockProcessAnswer {
  type: 'test:ready' | 'test:holding' | 'test:written' | 'test:failed';
  key?: string;
  detail?: string;
}

/** The replay-cache key of `label` (the column holds a hex SHA-256). */
export function replayKeyOf(label: string): string {
  return createHash('sha256').update(label).digest('hex');
}

function answer(message: WriteLockProcessAnswer): void {
  process.send?.(message);
}

async function main(dataDir: string): Promise<void> {
  useCrossProcessWriteLock(clusterWorkerWriteLock());
  const dataSource = await openDatabase(dataDir);
  const replay = new TypeormReplayStore(dataSource, systemClock);
  process.on('message', (message: WriteLockProcessCommand) => {
    if (message.type === 'test:hold') {
      void runSerializedWrite(dataSource, () => {
        answer({ type: 'test:holding', key: message.key });
        return new Promise<never>(() => undefined);
      });
    } else if (message.type === 'test:write') {
      replay
        .recordFirstSighting({ key: replayKeyOf(message.key), expiresAt: new Date(Date.now() + 3_600_000) })
        .then(
          () => answer({ type: 'test:written', key: message.key }),
          (error: unknown) => answer({ type: 'test:failed', key: message.key, detail: String(error) }),
        );
    }
  });
  answer({ type: 'test:ready' });
}

// Run as a process, not when the test imports the protocol above.
if (require.main === module) {
  main(process.argv[2]).catch((error: unknown) => {
    process.stderr.write(`${error instanceof Error ? (error.stack ?? error.message) : String(error)}\n`);
    process.exit(1);
  });
}
