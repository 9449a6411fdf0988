import { ManualClock } from '../../src/clock/clock';
import { EboxProfileClient } from '../../src/delivery/ebox-profile-client';
import { EboxTokenClient } from '../../src/delivery/ebox-token-client';
import { PermanentPublicationError, TransientPublicationError } from '../../src/delivery/publication-errors';
import { type FakeAnswer, type FakeEbox, type ReceivedRequest, startFakeEbox } from './fake-ebox';
import { settingsFor } from './publication-fixtures';

let fake: FakeEbox | undefined;

afterEach(async () => {
  await fake?.close();
  fake = undefined;
});

async function clientFor(handler: (request: ReceivedRequest) => FakeAnswer) {
  fake = await startFakeEbox(handler);
  const clock = new ManualClock('2026-03-01T10:00:00Z');
  const settings = settingsFor(fake.url);
  return { client: new EboxProfileClient(settings, new EboxTokenClient(settings, clock), clock), fake };
}

describe('EboxProfileClient', () => {
  it('looks up a citizen profile with a bearer token', async () => {
    const { client, fake } = await clientFor(() => ({
      status: 200,
      body: { exists: true, activated: true, preferredChannel: 'EBOX' },
    }));
    await expect(client.lookup({ kind: 'citizen', inss: '85073003328' })).resolves.toEqual({
      exists: true,
      activated: true,
      preferred: true,
    });
    expect(fake.requests[0].path).toBe('/ebox/profiles/citizen/85073003328');
    expect(fake.requests[0].headers.authorization).toBe('Bearer token-1');
  });

  it('looks up an enterprise profile whose preferred channel is paper', async () => {
    const { client, fake } = await clientFor(() => ({
      status: 200,
      body: { exists: true, activated: true, preferredChannel: 'PAPER' },
    }));
    await expect(client.lookup({ kind: 'enterprise', cbe: '0861023666' })).resolves.toEqual({
      exists: true,
      activated: true,
      preferred: false,
    });
    expect(fake.requests[0].path).toBe('/ebox/profiles/enterprise/0861023666');
  });

  it('reads an absent e-Box (exists false, or 404) as neither activated nor preferred', async () => {
    const absent = await clientFor(() => ({
      status: 200,
      body: { exists: false, activated: true, preferredChannel: 'EBOX' },
    }));
    await expect(absent.client.lookup({ kind: 'citizen', inss: '85073003328' })).resolves.toEqual({
      exists: false,
      activated: false,
      preferred: false,
    });
    await fake?.close();
    const missing = await clientFor(() => ({ status: 404, body: { code: 'NOT_FOUND' } }));
    await expect(missing.client.lookup({ kind: 'citizen', inss: '85073003328' })).resolves.toEqual({
      exists: false,
      activated: false,
      preferred: false,
    });
  });

  it('fetches a new token once after a 401', async () => {
    const { client, fake } = await clientFor((request) =>
      request.headers.authorization === 'Bearer token-1'
        ? { status: 401 }
        : { status: 200, body: { exists: true, activated: false, preferredChannel: 'EBOX' } },
    );
    await expect(client.lookup({ kind: 'citizen', inss: '85073003328' })).resolves.toEqual({
      exists: true,
      activated: false,
      preferred: true,
    });
    expect(fake.tokenRequests).toHaveLength(2);
  });

  it('classifies failures: 503 transient, 400 permanent with its code', async () => {
    const down = await clientFor(() => ({ status: 503 }));
    await expect(down.client.lookup({ kind: 'citizen', inss: '85073003328' })).rejects.toBeInstanceOf(
      TransientPublicationError,
    );
    await fake?.close();
    const invalid = await clientFor(() => ({
      status: 400,
      body: { code: 'INVALID_INPUT', message: '12345678901 is not a valid citizen' },
    }));
    await expect(invalid.client.lookup({ kind: 'citizen', inss: '12345678901' })).rejects.toMatchObject({
      constructor: PermanentPublicationError,
      code: 'INVALID_INPUT',
    });
  });
});
