/*
 * The "service" of test/storage/accept-durability.test.ts: accepts items concurrently (16 at a time, so
 * their commits are grouped), prints one line per answered item (the moment a receipt would go to the
 * client), and never stops by itself: the test kills it with SIGKILL in the middle.
 * Run with ts-node: node -r ts-node/register accept-crash-worker.ts <dataDir>
 */
import { createHash } from 'node:crypto';
import { Readable } from 'node:stream';
import { systemClock } from '../../src/clock/clock';
import { SendDocumentService } from '../../src/domain/send-document';
import { TypeormItemStore } from '../../src/storage/typeorm-item-store';
import {
  commandFor,
  defaultContentStore,
  defaultStaging,
  FakeReceiptIssuer,
  SENDER,
} from '../domain/storage-fixture';
import { openTestDatabase } from '../support/test-database';

async function main(dataDir: string): Promise<void> {
  // The parent's database (RM_TEST_DATABASE and the server's URL come with the environment).
  const dataSource = await openTestDatabase(dataDir);
  const service = new SendDocumentService({
    store: new TypeormItemStore(dataSource, defaultContentStore(dataSource, dataDir)),
    receiptIssuer: new FakeReceiptIssuer(systemClock),
    clock: systemClock,
  });
  const staging = defaultStaging(dataDir);
  let next = 0;
  async function sendForever(): Promise<never> {
    for (;;) {
      const index = next++;
      // Every fourth document is larger than the database takes (a blob file); the others are rows.
      const bytes = Buffer.from(`document ${process.pid} ${index}\n`.repeat(index % 4 === 0 ? 5000 : 20));
      const session = staging.openSession();
      try {
        const receipt = await service.send({
          sender: SENDER,
          command: commandFor({ token: `token-${index}`, documentBytes: bytes }),
          document: await session.stage(Readable.from([bytes]), { sha512: false }),
          annexes: [],
          requestId: String(index),
        });
        const answer = {
          ticket: receipt.ticket,
          receiptSha256: createHash('sha256').update(receipt.content).digest('hex'),
          documentSha256: createHash('sha256').update(bytes).digest('hex'),
        };
        process.stdout.write(`${JSON.stringify(answer)}\n`);
      } finally {
        await session.discard();
      }
    }
  }
  await Promise.all(Array.from({ length: 16 }, () => sendForever()));
}

main(process.argv[2]).catch((error: unknown) => {
  process.stderr.write(`${error instanceof Error ? (error.stack ?? error.message) : String(error)}\n`);
  process.exit(1);
});
