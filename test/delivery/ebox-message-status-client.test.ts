import http from 'node:http';
import { ManualClock } from '../../src/clock/clock';
import { eboxClientSettingsFromEnv } from '../../src/delivery/ebox-client-settings';
import { EboxMessageStatusClient } from '../../src/delivery/ebox-message-status-client';
import { EboxPublicationClient } from '../../src/delivery/ebox-publication-client';
import { EboxTokenClient } from '../../src/delivery/ebox-token-client';
import { PermanentPublicationError, TransientPublicationError } from '../../src/delivery/publication-errors';
import { type EboxSimulator, startEboxSimulator } from '../../src/ebox-simulator';
import { type FakeEbox, startFakeEbox } from './fake-ebox';
import { citizenItem, settingsFor } from './publication-fixtures';

/** Programs the simulator's test-only fault injection. */
function injectFaults(url: string, plan: object): Promise<number> {
  return new Promise((resolve, reject) => {
    const request = http.request(`${url}/_test/faults`, {
      method: 'POST',
      headers: { 'Content-Type': 'application/json' },
    });
    request.on('error', reject);
    request.on('response', (response) => {
      response.resume();
      response.on('end', () => resolve(response.statusCode ?? 0));
    });
    request.end(JSON.stringify(plan));
  });
}

describe('EboxMessageStatusClient against the e-Box simulator', () => {
  const clock = new ManualClock('2026-03-01T10:00:00Z');
  let simulator: EboxSimulator;
  let publication: EboxPublicationClient;
  let statuses: EboxMessageStatusClient;

  beforeAll(async () => {
    simulator = await startEboxSimulator({ clock, testControl: true });
    const settings = eboxClientSettingsFromEnv({}, simulator.url);
    const tokens = new EboxTokenClient(settings, clock);
    publication = new EboxPublicationClient(settings, tokens, clock);
    statuses = new EboxMessageStatusClient(settings, tokens, clock);
  });

  afterAll(() => simulator.close());

  it('reads a new message as unread, then as read at the e-Box read time', async () => {
    const { messageId } = await publication.publish(citizenItem({ ticket: 'STATUS-1' }));
    await expect(statuses.status(messageId)).resolves.toEqual({
      messageId,
      readStatus: 'UNREAD',
      readAt: undefined,
      receiptDate: new Date('2026-03-01T10:00:00Z'),
    });

    clock.advance(3_600_000);
    simulator.markRead(messageId);
    clock.advance(60_000);
    await expect(statuses.status(messageId)).resolves.toMatchObject({
      messageId,
      readStatus: 'READ',
      readAt: new Date('2026-03-01T11:00:00Z'),
    });
  });

  it('reports a message the e-Box does not know as a permanent 404', async () => {
    const error = await statuses.status('no-such-message').catch((failure: unknown) => failure);
    expect(error).toBeInstanceOf(PermanentPublicationError);
    expect(error).toMatchObject({ status: 404, code: 'NOT_FOUND' });
    expect((error as Error).message).toContain('does not know message no-such-message');
  });

  it('reports an injected 503 as transient, and answers again afterwards', async () => {
    const { messageId } = await publication.publish(citizenItem({ ticket: 'STATUS-2' }));
    expect(await injectFaults(simulator.url, { failNext: 1, status: 503 })).toBe(200);
    const error = await statuses.status(messageId).catch((failure: unknown) => failure);
    expect(error).toBeInstanceOf(TransientPublicationError);
    expect(error).toMatchObject({ status: 503 });
    await expect(statuses.status(messageId)).resolves.toMatchObject({ readStatus: 'UNREAD' });
  });

  it('takes one new token when the e-Box no longer accepts the cached one', async () => {
    const { messageId } = await publication.publish(citizenItem({ ticket: 'STATUS-3' }));
    // A token client whose own clock stands still keeps its token while the e-Box has let it expire.
    const frozen = new ManualClock(clock.now());
    const settings = eboxClientSettingsFromEnv({}, simulator.url);
    const client = new EboxMessageStatusClient(settings, new EboxTokenClient(settings, frozen), frozen);
    await expect(client.status(messageId)).resolves.toMatchObject({ readStatus: 'UNREAD' });
    clock.advance(2 * 3_600_000);
    await expect(client.status(messageId)).resolves.toMatchObject({ messageId, readStatus: 'UNREAD' });
  });
});

describe('EboxMessageStatusClient reading answers', () => {
  let fake: FakeEbox | undefined;

  afterEach(async () => {
    await fake?.close();
    fake = undefined;
  });

  async function clientAnswering(body: object) {
    fake = await startFakeEbox(() => ({ status: 200, body }));
    const clock = new ManualClock('2026-03-01T10:00:00Z');
    const settings = settingsFor(fake.url);
    return new EboxMessageStatusClient(settings, new EboxTokenClient(settings, clock), clock);
  }

  it('reads a read message without readDate as read at an unknown time', async () => {
    const client = await clientAnswering({ messageId: 'M-1', readStatus: 'read' });
    await expect(client.status('M-1')).resolves.toEqual({
      messageId: 'M-1',
      readStatus: 'READ',
      readAt: undefined,
      receiptDate: undefined,
    });
    expect(fake?.requests[0].path).toBe('/ebox/messages/M-1');
  });

  it('refuses an answer without a readable read status as transient', async () => {
    const client = await clientAnswering({ messageId: 'M-2', readStatus: 'MAYBE' });
    await expect(client.status('M-2')).rejects.toBeInstanceOf(TransientPublicationError);
  });
});
