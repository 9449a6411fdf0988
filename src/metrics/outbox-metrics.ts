import { Gauge, type Registry } from 'prom-client';
import type { DataSource } from 'typeorm';
import type { Clock } from '../clock/clock';
import { readOutboxGauges } from '../storage/outbox-gauges';
import { METRIC_PREFIX } from './service-metrics';

/**
 * Registers the outbox's depth (`registered_mail_outbox_entries`) and the age of its oldest entry
 * (`registered_mail_outbox_oldest_entry_age_seconds`, since acceptance by `clock`; 0 when empty), read
 * from the database at every scrape in one query. They are database-wide: the process answering the
 * scrape reads them once for the whole cluster. A failed read fails the scrape rather than showing an
 * empty outbox.
 */
export function registerOutboxGauges(registry: Registry, dataSource: DataSource, clock: Clock): void {
  // Both gauges come from one read: the first collected starts it, the second waits for the same one.
  let pending: ReturnType<typeof readOutboxGauges> | undefined;
  const read = () => {
    pending ??= readOutboxGauges(dataSource).finally(() => {
      pending = undefined;
    });
    return pending;
  };
  new Gauge({
    name: `${METRIC_PREFIX}outbox_entries`,
    help: 'Accepted items waiting in the outbox to be published into the e-Box (due, deferred or being published)',
    registers: [registry],
    async collect() {
      this.set((await read()).entries);
    },
  });
  new Gauge({
    name: `${METRIC_PREFIX}outbox_oldest_entry_age_seconds`,
    help: 'Seconds since the oldest item still in the outbox was accepted (0 when the outbox is empty)',
    registers: [registry],
    async collect() {
      const { oldestAcceptedAt } = await read();
      const age =
        oldestAcceptedAt === undefined ? 0 : (clock.now().getTime() - oldestAcceptedAt.getTime()) / 1000;
      this.set(Math.max(0, age));
    },
  });
}
