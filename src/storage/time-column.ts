import type { ValueTransformer } from 'typeorm';

/*
 * How times are stored: `varchar(24)` holding the ISO-8601 UTC form with milliseconds
 * (`2025-01-31T09:15:00.000Z`, always 24 characters for years 0000-9999). Chosen over a native
 * timestamp type because it is the same text on SQLite and PostgreSQL (no driver-specific time zone or
 * precision handling), sorts chronologically as text, and keeps the exact millisecond the Clock gave.
 */

/** Length of the column that holds a time. */
export const TIME_COLUMN_LENGTH = '24';

/** Maps a `Date` to its stored ISO-8601 UTC text and back. */
export const isoTimeTransformer: ValueTransformer = {
  to: (value: Date | undefined | null): string | undefined | null =>
    value instanceof Date ? value.toISOString() : value,
  from: (value: string | undefined | null): Date | undefined | null =>
    typeof value === 'string' ? new Date(value) : value,
};

/**
 * The stored text of a time, for comparisons written in SQL (`next_attempt_at <= :now`): the texts sort
 * as the times do, so the comparison is the same on every database.
 */
export function timeText(time: Date): string {
  return time.toISOString();
}
