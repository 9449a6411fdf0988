import { appendFileSync, existsSync, readFileSync, writeFileSync } from 'node:fs';
import type { SimulatedMessage } from './model';

/** One line of the data file: a publication, or a message being read. */
type StoreEvent =
  { event: 'published'; message: SimulatedMessage } | { event: 'read'; messageId: string; readDate: string };

/**
 * The simulator's messages, in memory, and optionally appended to a JSON-lines file (one event per line,
 * written before the answer) so that a restarted simulator keeps them.
 */
export class MessageStore {
  private readonly byId = new Map<string, SimulatedMessage>();
  private readonly byIdempotencyKey = new Map<string, string>();

  constructor(private readonly dataFile: string | undefined) {
    if (dataFile && existsSync(dataFile)) this.replay(readFileSync(dataFile, 'utf8'));
  }

  private replay(text: string): void {
    for (const line of text.split('\n')) {
      if (line.trim() === '') continue;
      let event: StoreEvent;
      try {
        event = JSON.parse(line) as StoreEvent;
      } catch {
        continue; // a line torn by a crash mid-write: the publication it was for was never answered
      }
      this.apply(event);
    }
  }

  private apply(event: StoreEvent): void {
    if (event.event === 'published') {
      this.byId.set(event.message.messageId, event.message);
      this.byIdempotencyKey.set(event.message.idempotencyKey, event.message.messageId);
    } else {
      const message = this.byId.get(event.messageId);
      if (message) {
        message.readStatus = 'READ';
        message.readDate = event.readDate;
      }
    }
  }

  private record(event: StoreEvent): void {
    if (this.dataFile) appendFileSync(this.dataFile, JSON.stringify(event) + '\n');
    this.apply(event);
  }

  /** The message first published with this key, if any. */
  byKey(idempotencyKey: string): SimulatedMessage | undefined {
    const id = this.byIdempotencyKey.get(idempotencyKey);
    return id === undefined ? undefined : this.byId.get(id);
  }

  /** The message with this id, if any. */
  get(messageId: string): SimulatedMessage | undefined {
    return this.byId.get(messageId);
  }

  /** Every message, in publication order. */
  all(): SimulatedMessage[] {
    return [...this.byId.values()];
  }

  /**
   * Stores a publication unless its key was used meanwhile (the check and the insert are one synchronous
   * step): answers the message that holds the key.
   */
  publish(message: SimulatedMessage): { stored: boolean; message: SimulatedMessage } {
    const existing = this.byKey(message.idempotencyKey);
    if (existing) return { stored: false, message: existing };
    this.record({ event: 'published', message });
    return { stored: true, message };
  }

  /** Marks a message read (the first reading counts); undefined when there is no such message. */
  markRead(messageId: string, at: Date): SimulatedMessage | undefined {
    const message = this.byId.get(messageId);
    if (!message) return undefined;
    if (message.readStatus !== 'READ') this.record({ event: 'read', messageId, readDate: at.toISOString() });
    return message;
  }

  /** Forgets every message, and empties the data file if there is one. */
  clear(): void {
    if (this.dataFile) writeFileSync(this.dataFile, '');
    this.byId.clear();
    this.byIdempotencyKey.clear();
  }
}
