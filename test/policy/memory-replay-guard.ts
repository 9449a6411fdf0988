import type { ReplayEntry, ReplayGuard } from '../../src/policy/replay-guard';

/**
 * A replay guard in memory for the policy tests: records every entry it is given (the policy's view of
 * the replay cache; the real one, on the database, is tested in test/storage). Entries never expire here.
 */
export class MemoryReplayGuard implements ReplayGuard {
  readonly entries = new Map<string, ReplayEntry>();

  async recordFirstSighting(entry: ReplayEntry): Promise<boolean> {
    if (this.entries.has(entry.key)) return false;
    this.entries.set(entry.key, entry);
    return true;
  }
}
