import http from 'node:http';
import { ManualClock } from '../../src/clock/clock';
import { eboxClientSettingsFromEnv } from '../../src/delivery/ebox-client-settings';
import { EboxProfileClient } from '../../src/delivery/ebox-profile-client';
import { EboxPublicationClient } from '../../src/delivery/ebox-publication-client';
import { EboxTokenClient } from '../../src/delivery/ebox-token-client';
import { PermanentPublicationError, TransientPublicationError } from '../../src/delivery/publication-errors';
import { type EboxSimulator, startEboxSimulator } from '../../src/ebox-simulator';
import { citizenItem } from './publication-fixtures';

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

describe('the e-Box clients against the e-Box simulator', () => {
  const clock = new ManualClock('2026-03-01T10:00:00Z');
  let simulator: EboxSimulator;
  let publication: EboxPublicationClient;
  let profiles: EboxProfileClient;

  beforeAll(async () => {
    simulator = await startEboxSimulator({ clock, testControl: true });
    // Nothing set: the development credentials must be the simulator's.
    const settings = eboxClientSettingsFromEnv({}, simulator.url);
    const tokens = new EboxTokenClient(settings, clock);
    publication = new EboxPublicationClient(settings, tokens, clock);
    profiles = new EboxProfileClient(settings, tokens, clock);
  });

  afterAll(() => simulator.close());

  it('publishes an item that the simulator validates and stores, digests included', async () => {
    const item = citizenItem({ ticket: 'SIM-1' });
    const result = await publication.publish(item);
    expect(result).toMatchObject({ noDigitalUser: false, alreadyPublished: false, publishedAt: clock.now() });
    const [stored] = simulator.messages().filter((message) => message.messageId === result.messageId);
    expect(stored).toMatchObject({
      idempotencyKey: 'SIM-1',
      recipient: { eboxType: 'citizen', ssin: '85073003328' },
      subject: { fr: 'Avis de paiement' },
      registeredMail: true,
    });
    expect(stored.attachments.map((attachment) => [attachment.httpPartName, attachment.sha256])).toEqual([
      ['document', item.document.sha256.toString('hex')],
      ['annex1', item.annexes[0].sha256.toString('hex')],
    ]);
  });

  it('recognises a second publication of the same ticket as already published', async () => {
    const first = await publication.publish(citizenItem({ ticket: 'SIM-2' }));
    clock.advance(60_000);
    const second = await publication.publish(citizenItem({ ticket: 'SIM-2' }));
    // The dispatch time stays the first publication's (the simulator's receiptDate).
    expect(second).toEqual({ ...first, alreadyPublished: true });
    expect(simulator.messages().filter((message) => message.idempotencyKey === 'SIM-2')).toHaveLength(1);
  });

  it('refuses an invalid recipient for good, with the e-Box code', async () => {
    const error = await publication
      .publish(citizenItem({ ticket: 'SIM-3', recipient: { kind: 'enterprise', cbe: '0852093432' } }))
      .catch((failure: unknown) => failure);
    expect(error).toBeInstanceOf(PermanentPublicationError);
    expect(error).toMatchObject({ status: 400, code: 'INVALID_INPUT' });
  });

  it('reports an injected 503 as transient', async () => {
    expect(await injectFaults(simulator.url, { failNext: 1, status: 503 })).toBe(200);
    await expect(publication.publish(citizenItem({ ticket: 'SIM-4' }))).rejects.toBeInstanceOf(
      TransientPublicationError,
    );
    await expect(publication.publish(citizenItem({ ticket: 'SIM-4' }))).resolves.toMatchObject({
      alreadyPublished: false,
    });
  });

  it('looks up the default profile: an activated e-Box, preferred', async () => {
    await expect(profiles.lookup({ kind: 'enterprise', cbe: '0861023666' })).resolves.toEqual({
      exists: true,
      activated: true,
      preferred: true,
    });
  });
});
