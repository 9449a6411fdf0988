import type { EntitySubscriberInterface } from 'typeorm';
import { GetStatusService } from '../../src/domain/get-status';
import { TicketNotFoundError } from '../../src/errors/faults';
import {
  ItemPublicationEntity,
  ItemStatusHistoryEntity,
  RegisteredMailItemEntity,
} from '../../src/storage/entities';
import { ACCEPTED_EVENT } from '../../src/storage/typeorm-item-store';
import { ACCEPTED_EVENT as DOMAIN_ACCEPTED_EVENT } from '../../src/domain/outbox';
import { acceptItem, Delivery, MINUTE } from './delivery-fixture';
import { makeEnvironment, OTHER_SENDER, SENDER, type Environment } from './storage-fixture';

describe('GetStatusService.history on a real database', () => {
  let env: Environment;
  let service: GetStatusService;
  let delivery: Delivery;

  beforeEach(async () => {
    env = await makeEnvironment();
    service = new GetStatusService(env.node.store);
    delivery = new Delivery(env);
  });

  afterEach(async () => {
    await env.close();
  });

  it('a PENDING item has only the ACCEPTED event, at the time of its receipt', async () => {
    const receipt = await acceptItem(env, 'pending');

    await expect(service.history(SENDER, receipt.ticket)).resolves.toEqual({
      ticket: receipt.ticket,
      token: 'pending',
      status: 'PENDING',
      events: [
        { name: 'ACCEPTED', time: receipt.issuedAt, status: 'PENDING', detail: 'request request-pending' },
      ],
    });
  });

  it('a SENT item: ACCEPTED, then PUBLISHED with the e-Box message id (no proof loaded)', async () => {
    const receipt = await acceptItem(env, 'sent');
    await delivery.publish(receipt.ticket, 'ebox-msg-1');
    const publishedAt = env.clock.now();

    const view = await service.history(SENDER, receipt.ticket);

    expect(view).toEqual({
      ticket: receipt.ticket,
      token: 'sent',
      status: 'SENT',
      events: [
        { name: 'ACCEPTED', time: receipt.issuedAt, status: 'PENDING', detail: 'request request-sent' },
        {
          name: 'PUBLISHED',
          time: publishedAt,
          status: 'SENT',
          eboxMessageId: 'ebox-msg-1',
          detail: 'e-Box message ebox-msg-1',
        },
      ],
    });
    expect(view).not.toHaveProperty('proofOfDispatch');
  });

  it('NO_DIGITAL_USER follows PUBLISHED at the same time (written order) and names the message too', async () => {
    const receipt = await acceptItem(env, 'no-digital');
    await delivery.publish(receipt.ticket, 'ebox-msg-2', true);
    const publishedAt = env.clock.now();

    const view = await service.history(SENDER, receipt.ticket);

    expect(view.status).toBe('SENT');
    expect(view.events.map((event) => event.name)).toEqual(['ACCEPTED', 'PUBLISHED', 'NO_DIGITAL_USER']);
    expect(view.events[2]).toEqual({
      name: 'NO_DIGITAL_USER',
      time: publishedAt,
      status: 'SENT',
      eboxMessageId: 'ebox-msg-2',
      detail: expect.stringContaining('NO_DIGITAL_USER'),
    });
  });

  it('an ERROR item: PUBLICATION_FAILED with the reason, no message id', async () => {
    const receipt = await acceptItem(env, 'failed');
    await delivery.fail(receipt.ticket, 'The e-Box refused the message: recipient unknown');
    const failedAt = env.clock.now();

    const view = await service.history(SENDER, receipt.ticket);

    expect(view.status).toBe('ERROR');
    expect(view.events).toEqual([
      { name: 'ACCEPTED', time: receipt.issuedAt, status: 'PENDING', detail: 'request request-failed' },
      {
        name: 'PUBLICATION_FAILED',
        time: failedAt,
        status: 'ERROR',
        detail: 'The e-Box refused the message: recipient unknown',
      },
    ]);
  });

  it('CONSULTED is dated at the e-Box read time, not when it was recorded, and has no detail', async () => {
    const receipt = await acceptItem(env, 'consulted');
    await delivery.publish(receipt.ticket, 'ebox-msg-3');
    const publishedAt = env.clock.now();
    const readAt = new Date(publishedAt.getTime() + 7 * MINUTE + 123);
    env.clock.advance(60 * MINUTE);
    await delivery.consult(receipt.ticket, readAt);

    const view = await service.history(SENDER, receipt.ticket);

    expect(view.status).toBe('SENT');
    expect(view.events.map((event) => [event.name, event.time.toISOString()])).toEqual([
      ['ACCEPTED', receipt.issuedAt.toISOString()],
      ['PUBLISHED', publishedAt.toISOString()],
      ['CONSULTED', readAt.toISOString()],
    ]);
    expect(view.events[2]).toEqual({ name: 'CONSULTED', time: readAt, status: 'SENT' });
  });

  it('orders by time, then by the order written, whatever order the rows were inserted in', async () => {
    const receipt = await acceptItem(env, 'ordered');
    const manager = env.node.dataSource.manager;
    const before = new Date(receipt.issuedAt.getTime() - MINUTE);
    // Rows written out of time order (as a later version might): the history still reads oldest first.
    await manager.insert(ItemStatusHistoryEntity, [
      { ticket: receipt.ticket, status: 'PENDING', event: 'CONSULTED', occurredAt: before, detail: 'first' },
      { ticket: receipt.ticket, status: 'PENDING', event: 'CONSULTED', occurredAt: before, detail: 'second' },
    ]);

    const view = await service.history(SENDER, receipt.ticket);

    expect(view.events.map((event) => [event.name, event.detail])).toEqual([
      ['CONSULTED', 'first'],
      ['CONSULTED', 'second'],
      ['ACCEPTED', 'request request-ordered'],
    ]);
  });

  it('leaves out events this version does not know (written by a later one) instead of failing', async () => {
    const receipt = await acceptItem(env, 'future');
    await env.node.dataSource.manager.insert(ItemStatusHistoryEntity, {
      ticket: receipt.ticket,
      status: 'PENDING',
      event: 'REMINDER_SENT',
      occurredAt: env.clock.now(),
      detail: 'from a later version',
    });

    const view = await service.history(SENDER, receipt.ticket);

    expect(view.events.map((event) => event.name)).toEqual(['ACCEPTED']);
  });

  it('another sender (CBE or application) and an unknown ticket get the same REPO_B01', async () => {
    const receipt = await acceptItem(env, 'foreign');
    await delivery.publish(receipt.ticket, 'ebox-msg-4');
    const outcomes = await Promise.all(
      [
        service.history(OTHER_SENDER, receipt.ticket),
        service.history({ cbe: SENDER.cbe, applicationId: 'another-application' }, receipt.ticket),
        service.history(SENDER, 'ZZZZZZZZZZZZZ'),
      ].map((promise) =>
        promise.then(
          () => undefined,
          (error: unknown) => error,
        ),
      ),
    );
    for (const error of outcomes) {
      expect(error).toBeInstanceOf(TicketNotFoundError);
      expect(error).toMatchObject({ code: 'REPO_B01', kind: 'BusinessError' });
    }
  });

  it('an unknown and a foreign ticket cost the same statements, the sender-scoped lookup and no more', async () => {
    const receipt = await acceptItem(env, 'same-work');
    await delivery.publish(receipt.ticket, 'ebox-msg-5');
    const queries: string[] = [];
    const recorder: EntitySubscriberInterface = {
      beforeQuery: (event) => {
        queries.push(event.query);
      },
    };
    env.node.dataSource.subscribers.push(recorder);

    await service.history(OTHER_SENDER, receipt.ticket).catch(() => undefined);
    const foreign = queries.splice(0);
    await service.history(OTHER_SENDER, 'ZZZZZZZZZZZZZ').catch(() => undefined);
    const unknown = queries.splice(0);
    await service.history(SENDER, receipt.ticket);
    const owned = queries.splice(0);

    expect(unknown).toEqual(foreign);
    const selects = foreign.filter((query) => /^\s*SELECT/i.test(query));
    expect(selects).toHaveLength(1);
    expect(selects[0]).toMatch(/sender_cbe/);
    // The owner's lookup starts with that same statement; the history is read only after it.
    expect(owned.filter((query) => /^\s*SELECT/i.test(query))[0]).toBe(selects[0]);
  });

  it('is one snapshot: a publication committed while the history is read shows in neither status nor events', async () => {
    const receipt = await acceptItem(env, 'snapshot');
    // Another node records the publication between the history's first statement (the item, with its
    // status) and its second (the events): committed, but after the read's snapshot was taken. (On
    // PostgreSQL this needs REPEATABLE READ: READ COMMITTED would list the PUBLISHED event under the
    // PENDING status read before it.)
    const other = await env.addNode();
    const publishedAt = new Date(env.clock.now().getTime() + MINUTE);
    let published = false;
    env.node.dataSource.subscribers.push({
      beforeQuery: async (event) => {
        if (published || !/FROM "item_status_history"/.test(event.query)) return;
        published = true;
        await other.dataSource.transaction(async (manager) => {
          await manager.update(RegisteredMailItemEntity, { ticket: receipt.ticket }, { status: 'SENT' });
          await manager.insert(ItemStatusHistoryEntity, {
            ticket: receipt.ticket,
            status: 'SENT',
            event: 'PUBLISHED',
            occurredAt: publishedAt,
            detail: null,
          });
          await manager.insert(ItemPublicationEntity, {
            ticket: receipt.ticket,
            eboxMessageId: 'ebox-msg-snapshot',
            publishedAt,
            noDigitalUser: false,
            consultedAt: null,
            consultationCheckedAt: null,
          });
        });
      },
    });

    const during = await service.history(SENDER, receipt.ticket);
    expect(published).toBe(true);
    expect(during?.status).toBe('PENDING');
    expect(during?.events.map((event) => event.name)).toEqual(['ACCEPTED']);

    const after = await service.history(SENDER, receipt.ticket);
    expect(after?.status).toBe('SENT');
    expect(after?.events.map((event) => event.name)).toEqual(['ACCEPTED', 'PUBLISHED']);
  });

  it('ACCEPTED comes from the domain, and the storage export still names it', () => {
    expect(ACCEPTED_EVENT).toBe('ACCEPTED');
    expect(ACCEPTED_EVENT).toBe(DOMAIN_ACCEPTED_EVENT);
  });
});
