/**
 * A map that holds at most `capacity` entries and forgets the least recently used one first, so that a
 * cache fed by requests (certificates senders send) keeps memory flat whatever arrives.
 */
export class LruCache<V> {
  /** Insertion order is recency order: the first key is the least recently used. */
  private readonly entries = new Map<string, V>();

  /** @param capacity the most entries held; 0 holds none */
  constructor(readonly capacity: number) {
    if (!Number.isInteger(capacity) || capacity < 0) throw new RangeError('capacity must be an integer >= 0');
  }

  /** How many entries are held. */
  get size(): number {
    return this.entries.size;
  }

  /** The value under `key`, which becomes the most recently used; undefined when none. */
  get(key: string): V | undefined {
    const value = this.entries.get(key);
    if (value === undefined) return undefined;
    this.entries.delete(key);
    this.entries.set(key, value);
    return value;
  }

  /** Holds `value` under `key` as the most recently used entry, forgetting the least recently used beyond capacity. */
  set(key: string, value: V): void {
    if (this.capacity === 0) return;
    this.entries.delete(key);
    this.entries.set(key, value);
    if (this.entries.size > this.capacity) {
      const oldest = this.entries.keys().next();
      if (!oldest.done) this.entries.delete(oldest.value);
    }
  }

  /** Forgets the entry under `key`. */
  delete(key: string): void {
    this.entries.delete(key);
  }

  /** Forgets every entry. */
  clear(): void {
    this.entries.clear();
  }
}
