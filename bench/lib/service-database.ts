import path from 'node:path';
import { performance } from 'node:perf_hooks';
import { DataSource } from 'typeorm';
import { SQLITE_FILE_NAME } from '../../src/storage/data-source';

/*
 * Reads the running service's SQLite database from the benchmark process, read-only: how many items are
 * in which status, and how big the receipts and proofs are. WAL mode lets this reader run beside the
 * service's writer without blocking it, and the reads cost the service no CPU, so polling here does not
 * disturb what is measured (sampling getStatus would). It reads tables of src/storage/entities
 * (registered_mail_item, item_receipt, item_proof): the smoke test (test/bench) notices when they change.
 */

/** Items by status, e.g. `{ PENDING: 10, SENT: 1990 }`. */
export type StatusCounts = Record<string, number>;

/** Average sizes in bytes of what the service signed (0 when there is none yet). */
export interface SignedContentSizes {
  receiptBytes: number;
  dispatchEvidenceBytes: number;
}

const COUNT_BY_STATUS = 'SELECT status, COUNT(*) AS count FROM registered_mail_item GROUP BY status';

/** Opens the database read-only (no migration, no schema change), runs `body`, closes it. */
async function withDatabase<T>(dataDir: string, body: (database: DataSource) => Promise<T>): Promise<T> {
  const database = new DataSource({
    type: 'better-sqlite3',
    database: path.join(dataDir, SQLITE_FILE_NAME),
    readonly: true,
    fileMustExist: true,
    synchronize: false,
    migrationsRun: false,
    logging: false,
  });
  await database.initialize();
  try {
    return await body(database);
  } finally {
    await database.destroy();
  }
}

async function statusCounts(database: DataSource): Promise<StatusCounts> {
  const rows = (await database.query(COUNT_BY_STATUS)) as { status: string; count: number }[];
  return Object.fromEntries(rows.map((row) => [row.status, Number(row.count)]));
}

/** Counts items by status now. */
export function countItemsByStatus(dataDir: string): Promise<StatusCounts> {
  return withDatabase(dataDir, statusCounts);
}

/** How many of the latest receipts and proofs {@link signedContentSizes} averages. */
const LATEST_SIGNED = 1000;

/**
 * The average receipt and ProofOfDispatch evidence sizes of the latest {@link LATEST_SIGNED} stored (the
 * ones of the run: on a database seeded with a million items, averaging every row would read gigabytes).
 */
export function signedContentSizes(dataDir: string): Promise<SignedContentSizes> {
  return withDatabase(dataDir, async (database) => {
    // Latest first, by SQLite's rowid: a walk of the table's B-tree from its end.
    const average = async (table: string, where: string) => {
      const sql = `SELECT AVG(content_size) AS size FROM (SELECT content_size FROM ${table} ${where} ORDER BY rowid DESC LIMIT ${LATEST_SIGNED})`;
      return Math.round(Number(((await database.query(sql)) as { size: number | null }[])[0]?.size ?? 0));
    };
    return {
      receiptBytes: await average('item_receipt', ''),
      dispatchEvidenceBytes: await average('item_proof', "WHERE kind = 'DISPATCH'"),
    };
  });
}

/** When the items stopped being in flight. */
export interface DeliveryOutcome {
  /** Milliseconds from the call until the last item was seen SENT or ERROR (to the poll interval). */
  elapsedMs: number;
  counts: StatusCounts;
}

/**
 * Polls every `intervalMs` (default 50) until `expected` items are SENT or ERROR (an ERROR is final).
 * @throws Error with the last counts after `timeoutMs`
 */
export function waitUntilDelivered(
  dataDir: string,
  expected: number,
  options: { intervalMs?: number; timeoutMs: number },
): Promise<DeliveryOutcome> {
  const started = performance.now();
  return withDatabase(dataDir, async (database) => {
    for (;;) {
      const counts = await statusCounts(database);
      const elapsedMs = performance.now() - started;
      if ((counts.SENT ?? 0) + (counts.ERROR ?? 0) >= expected) return { elapsedMs, counts };
      if (elapsedMs > options.timeoutMs) {
        throw new Error(
          `gave up after ${options.timeoutMs} ms waiting for ${expected} items SENT or ERROR: ${JSON.stringify(counts)}`,
        );
      }
      await new Promise((resolve) => setTimeout(resolve, options.intervalMs ?? 50));
    }
  });
}
