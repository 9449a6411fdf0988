import { Readable } from 'node:stream';
import type { EntitySubscriberInterface } from 'typeorm';
import { GetStatusService } from '../../src/domain/get-status';
import { TicketNotFoundError } from '../../src/errors/faults';
import { commandFor, makeEnvironment, OTHER_SENDER, SENDER, type Environment } from './storage-fixture';

describe('GetStatusService', () => {
  let env: Environment;
  let ticket: string;

  beforeEach(async () => {
    env = await makeEnvironment();
    const bytes = Buffer.from('the document');
    const session = env.staging.openSession();
    try {
      const document = await session.stage(Readable.from([bytes]), { sha512: false });
      const receipt = await env.node.service.send({
        sender: SENDER,
        command: commandFor({ token: 'status-token', documentBytes: bytes }),
        document,
        annexes: [],
        requestId: 'r',
      });
      ticket = receipt.ticket;
    } finally {
      await session.discard();
    }
  });

  afterEach(async () => {
    await env.close();
  });

  it('answers PENDING with the Token for the sender of the item', async () => {
    const service = new GetStatusService(env.node.store);
    await expect(service.status(SENDER, ticket)).resolves.toEqual({
      ticket,
      token: 'status-token',
      status: 'PENDING',
    });
  });

  it('another sender (CBE or application) and an unknown ticket get the same REPO_B01', async () => {
    const service = new GetStatusService(env.node.store);
    const outcomes = await Promise.all(
      [
        service.status(OTHER_SENDER, ticket),
        service.status({ cbe: SENDER.cbe, applicationId: 'another-application' }, ticket),
        service.status(SENDER, 'ZZZZZZZZZZZZZ'),
      ].map((promise) =>
        promise.then(
          () => undefined,
          (error: unknown) => error,
        ),
      ),
    );
    for (const error of outcomes) {
      expect(error).toBeInstanceOf(TicketNotFoundError);
      expect(error).toMatchObject({
        code: 'REPO_B01',
        kind: 'BusinessError',
        message: 'Ticket provided does not match Registered Mail Item',
      });
    }
  });

  it('an unknown ticket and a foreign ticket cost the same single query', async () => {
    const queries: string[] = [];
    const recorder: EntitySubscriberInterface = {
      beforeQuery: (event) => {
        queries.push(event.query);
      },
    };
    env.node.dataSource.subscribers.push(recorder);
    const service = new GetStatusService(env.node.store);
    await service.status(OTHER_SENDER, ticket).catch(() => undefined);
    const foreign = queries.splice(0);
    await service.status(OTHER_SENDER, 'ZZZZZZZZZZZZZ').catch(() => undefined);
    const unknown = queries.splice(0);

    expect(foreign).toHaveLength(1);
    expect(unknown).toHaveLength(1);
    expect(unknown[0]).toBe(foreign[0]);
  });
});
