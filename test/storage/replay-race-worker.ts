/*
 * One "node" of the replay race in test/storage/replay-store.test.ts: opens the shared data directory,
 * records every given key as a first sighting, and prints which ones it won as a JSON array of booleans.
 * Run with ts-node: node -r ts-node/register replay-race-worker.ts <dataDir> <expiresAt ISO> <key>...
 */
import { systemClock } from '../../src/clock/clock';
import { TypeormReplayStore } from '../../src/storage/typeorm-replay-store';
import { openTestDatabase } from '../support/test-database';

async function main(dataDir: string, expiresAt: Date, keys: string[]): Promise<void> {
  // The parent's database (RM_TEST_DATABASE and the server's URL come with the environment).
  const dataSource = await openTestDatabase(dataDir);
  const store = new TypeormReplayStore(dataSource, systemClock);
  const won: boolean[] = [];
  for (const key of keys) won.push(await store.recordFirstSighting({ key, expiresAt }));
  await dataSource.destroy();
  process.stdout.write(JSON.stringify(won));
}

const [dataDir, expiresAt, ...keys] = process.argv.slice(2);
main(dataDir, new Date(expiresAt), keys).catch((error: unknown) => {
  process.stderr.write(`${error instanceof Error ? (error.stack ?? error.message) : String(error)}\n`);
  process.exit(1);
});
