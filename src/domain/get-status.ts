import { TicketNotFoundError } from '../errors/faults';
import type { ItemStore } from './item-store';
import type { ItemStatusView, Sender } from './model';

/**
 * `getStatus`: the status of one of the sender's items. An unknown ticket and another sender's ticket
 * give the same REPO_B01 after the same single lookup, so a ticket reveals nothing about other senders.
 */
export class GetStatusService {
  constructor(private readonly store: ItemStore) {}

  async status(sender: Sender, ticket: string): Promise<ItemStatusView> {
    const view = await this.store.findStatus(sender, ticket);
    if (!view) throw new TicketNotFoundError();
    return view;
  }
}
