/*
 * One "process" of test/storage/multi-process.test.ts: opens the shared data directory, sends the same
 * requests (same Tokens, same bytes) as its siblings, and prints what it was answered as JSON.
 * Run with ts-node: node -r ts-node/register multi-process-worker.ts <dataDir> <requests>
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

async function main(dataDir: string, requests: number): Promise<void> {
  // The parent's database (RM_TEST_DATABASE and the server's URL come with the environment).
  const dataSource = await openTestDatabase(dataDir);
  const issuer = new FakeReceiptIssuer(systemClock);
  const service = new SendDocumentService({
    store: new TypeormItemStore(dataSource, defaultContentStore(dataSource, dataDir)),
    receiptIssuer: issuer,
    clock: systemClock,
  });
  const staging = defaultStaging(dataDir);
  const answers: { token: string; ticket: string; receiptSha256: string }[] = [];
  for (let index = 0; index < requests; index += 1) {
    const token = `token-${index}`;
    const bytes = Buffer.from(`document number ${index}\n`.repeat(50));
    const session = staging.openSession();
    try {
      const document = await session.stage(Readable.from([bytes]), { sha512: false });
      const receipt = await service.send({
        sender: SENDER,
        command: commandFor({ token, documentBytes: bytes }),
        document,
        annexes: [],
        requestId: `${process.pid}-${index}`,
      });
      answers.push({
        token,
        ticket: receipt.ticket,
        receiptSha256: createHash('sha256').update(receipt.content).digest('hex'),
      });
    } finally {
      await session.discard();
    }
  }
  await dataSource.destroy();
  process.stdout.write(JSON.stringify({ answers, issued: issuer.calls }));
}

main(process.argv[2], Number(process.argv[3])).catch((error: unknown) => {
  process.stderr.write(`${error instanceof Error ? (error.stack ?? error.message) : String(error)}\n`);
  process.exit(1);
});
