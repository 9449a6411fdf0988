import { TicketNotFoundError } from '../errors/faults';
import type { ItemStore } from './item-store';
import type { ItemHistoryView, ItemStatusView, Sender } from './model';

/**
 * `getStatus` (v1) and `GetStatus` (own port): the status of one of the sender's items, and its history.
 * An unknown ticket and another sender's ticket give the same REPO_B01 after the same single lookup, so a
 * ticket reveals nothing about other senders.
 */
export class GetStatusService {
  constructor(private readonly store: ItemStore) {}

  /** The current status, with the ProofOfDispatch once SENT; REPO_B01 when not the sender's item. */
  async status(sender: Sender, ticket: string): Promise<ItemStatusView> {
    const view = await this.store.findStatus(sender, ticket);
    if (!view) throw new TicketNotFoundError();
    return view;
  }

  /** The current status and every event so far, oldest first; REPO_B01 when not the sender's item. */
  async history(sender: Sender, ticket: string): Promise<ItemHistoryView> {
    const view = await this.store.findHistory(sender, ticket);
    if (!view) throw new TicketNotFoundError();
    return view;
  }
}
