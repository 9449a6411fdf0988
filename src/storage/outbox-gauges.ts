import type { DataSource } from 'typeorm';
import { OutboxEntryEntity } from './entities';
import { runSerialized } from './serial-access';

/** How much is waiting in the outbox (every entry, whether due, deferred or claimed). */
export interface OutboxGauges {
  /** Accepted items not yet published nor failed for good. */
  entries: number;
  /** The acceptance time of the oldest of them; undefined when the outbox is empty. */
  oldestAcceptedAt: Date | undefined;
}

/**
 * Reads the outbox's depth and its oldest acceptance time in one aggregate query (COUNT and MIN over
 * the ISO-8601 text column, which sorts as the times do: the same SQL on SQLite and PostgreSQL). Only
 * reads: it takes its turn in the database's queue but never the cluster's write lock.
 */
export async function readOutboxGauges(dataSource: DataSource): Promise<OutboxGauges> {
  const row = await runSerialized(dataSource, () =>
    dataSource
      .createQueryBuilder(OutboxEntryEntity, 'entry')
      .select('COUNT(*)', 'entries')
      .addSelect('MIN(entry.acceptedAt)', 'oldestAcceptedAt')
      .getRawOne<{ entries: number | string; oldestAcceptedAt: string | null }>(),
  );
  // PostgreSQL answers COUNT(*) as a bigint, which its driver hands over as text.
  const entries = Number(row?.entries ?? 0);
  const oldest = row?.oldestAcceptedAt;
  return { entries, oldestAcceptedAt: oldest ? new Date(oldest) : undefined };
}
