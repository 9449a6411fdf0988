/*
 * A process of test/storage/wal-checkpointer.test.ts: opens a checkpointed SQLite database, commits rows,
 * closes it with nothing else keeping the process alive (no server, no timer) and says "closed" at the
 * very end. Run with ts-node: node -r ts-node/register wal-checkpointer-exit-worker.ts <dataDir>
 */
import { openDatabase } from '../../src/storage/data-source';

async function main(dataDir: string): Promise<void> {
  const dataSource = await openDatabase(dataDir, { walCheckpointThread: { commitsPerCheckpoint: 2 } });
  for (let index = 0; index < 5; index += 1) {
    await dataSource.query('INSERT INTO replay_cache (message_key, expires_at, seen_at) VALUES (?, ?, ?)', [
      `exit-${index}`,
      '2026-12-01T00:00:00.000Z',
      '2026-11-28T00:00:00.000Z',
    ]);
  }
  await dataSource.destroy();
  process.stdout.write('closed\n');
}

void main(process.argv[2]);
