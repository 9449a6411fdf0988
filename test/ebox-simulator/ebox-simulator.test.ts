import { createHash } from 'node:crypto';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { ManualClock } from '../../src/clock/clock';
import { DEV_CREDENTIALS, startEboxSimulator, type EboxSimulator } from '../../src/ebox-simulator';

const PROFILES = path.join(__dirname, '..', '..', 'fixtures', 'ebox-profiles.json');
const SENDER_CBE = '0200000538';
const CITIZEN = '90020200593';
const NO_EBOX_CITIZEN = '85010100115';
const NOT_ACTIVATED_CITIZEN = '85010100214';
const ENTERPRISE = '0200000439';

interface Attachment {
  name: string;
  bytes: Buffer;
  digest?: string;
}

function digestOf(bytes: Buffer): string {
  return createHash('sha256').update(bytes).digest('base64url');
}

function messageToPublish(recipient: object, attachments: Attachment[], overrides: object = {}) {
  return {
    sender: { eboxType: 'enterprise', enterpriseNumber: SENDER_CBE },
    recipient,
    subject: { nl: 'Aangetekende brief', fr: 'Recommandé' },
    messageTypeId: 'registeredMail',
    senderApplicationId: 'registered-mail',
    registeredMail: true,
    attachments: attachments.map((attachment, index) => ({
      httpPartName: attachment.name,
      isMainContent: index === 0,
      isAttachmentSigned: false,
      attachmentTitle: `title ${attachment.name}`,
      digest: { digestMethod: 'sha_256', digestValue: attachment.digest ?? digestOf(attachment.bytes) },
    })),
    ...overrides,
  };
}

function formOf(message: object, attachments: Attachment[]): FormData {
  const form = new FormData();
  form.append('messageToPublish', new Blob([JSON.stringify(message)], { type: 'application/json' }));
  for (const attachment of attachments)
    form.append(
      attachment.name,
      new Blob([attachment.bytes], { type: 'application/pdf' }),
      `${attachment.name}.pdf`,
    );
  return form;
}

const documents: Attachment[] = [
  { name: 'document', bytes: Buffer.from('%PDF-1.7 main document') },
  { name: 'annex1', bytes: Buffer.from('%PDF-1.7 annex') },
];

describe('e-Box simulator', () => {
  let clock: ManualClock;
  let simulator: EboxSimulator;
  let tmp: string;

  async function token(credentials = DEV_CREDENTIALS): Promise<Response> {
    return fetch(`${simulator.url}/oauth2/token`, {
      method: 'POST',
      body: new URLSearchParams({
        grant_type: 'client_credentials',
        client_id: credentials.clientId,
        client_secret: credentials.clientSecret,
      }),
    });
  }

  async function bearer(): Promise<string> {
    const body = (await (await token()).json()) as { access_token: string };
    return `Bearer ${body.access_token}`;
  }

  async function publish(
    recipient: object,
    attachments: Attachment[] = documents,
    key = `ticket-${Math.random()}`,
    overrides: object = {},
  ): Promise<Response> {
    return fetch(`${simulator.url}/ebox/messages`, {
      method: 'POST',
      headers: { Authorization: await bearer(), 'Idempotency-Key': key },
      body: formOf(messageToPublish(recipient, attachments, overrides), attachments),
    });
  }

  async function get(pathAndQuery: string): Promise<Response> {
    return fetch(`${simulator.url}${pathAndQuery}`, { headers: { Authorization: await bearer() } });
  }

  beforeEach(async () => {
    clock = new ManualClock('2026-01-15T10:00:00Z');
    tmp = fs.mkdtempSync(path.join(os.tmpdir(), 'ebox-sim-'));
    simulator = await startEboxSimulator({ clock, profilesFile: PROFILES, testControl: true });
  });

  afterEach(async () => {
    await simulator.close();
    fs.rmSync(tmp, { recursive: true, force: true });
  });

  it('issues bearer tokens to the configured client only, and they expire', async () => {
    const refused = await token({ clientId: DEV_CREDENTIALS.clientId, clientSecret: 'wrong' });
    expect(refused.status).toBe(401);
    expect(await refused.json()).toEqual({ error: 'invalid_client' });

    const granted = await token();
    expect(granted.status).toBe(200);
    const body = (await granted.json()) as Record<string, unknown>;
    expect(body).toMatchObject({ token_type: 'Bearer', expires_in: 3600 });

    const noToken = await fetch(`${simulator.url}/ebox/profiles/citizen/${CITIZEN}`);
    expect(noToken.status).toBe(401);
    expect(await noToken.json()).toMatchObject({ code: 'UNAUTHORIZED' });

    const headers = { Authorization: `Bearer ${String(body.access_token)}` };
    expect((await fetch(`${simulator.url}/ebox/profiles/citizen/${CITIZEN}`, { headers })).status).toBe(200);
    clock.advance(3600 * 1000);
    expect((await fetch(`${simulator.url}/ebox/profiles/citizen/${CITIZEN}`, { headers })).status).toBe(401);
  });

  it('publishes to a citizen with attachments and digests, keeping each part hash', async () => {
    const response = await publish({ eboxType: 'citizen', ssin: CITIZEN }, documents, 'ticket-1');
    expect(response.status).toBe(201);
    const body = (await response.json()) as { messageId: string; expirationDate: string; code?: string };
    expect(body.code).toBeUndefined();
    expect(body.expirationDate).toBe('2027-01-15T10:00:00.000Z');

    const [stored] = simulator.messages();
    expect(stored).toMatchObject({
      messageId: body.messageId,
      idempotencyKey: 'ticket-1',
      eboxId: CITIZEN,
      registeredMail: true,
      receiptDate: '2026-01-15T10:00:00.000Z',
      readStatus: 'UNREAD',
    });
    expect(stored.attachments.map((attachment) => [attachment.httpPartName, attachment.sha256])).toEqual(
      documents.map((document) => [document.name, createHash('sha256').update(document.bytes).digest('hex')]),
    );
    expect(stored.attachments[0]).toMatchObject({ isMainContent: true, attachmentTitle: 'title document' });
  });

  it('publishes to an enterprise', async () => {
    const response = await publish({ eboxType: 'enterprise', enterpriseNumber: ENTERPRISE });
    expect(response.status).toBe(201);
    expect(simulator.messages()[0].eboxId).toBe(ENTERPRISE);
  });

  it('refuses invalid INSS and CBE numbers with INVALID_INPUT', async () => {
    const citizen = await publish({ eboxType: 'citizen', ssin: '90020200594' });
    expect(citizen.status).toBe(400);
    expect(await citizen.json()).toMatchObject({
      code: 'INVALID_INPUT',
      message: '90020200594 is not a valid citizen',
    });
    const enterprise = await publish({ eboxType: 'enterprise', enterpriseNumber: '0852093432' });
    expect(enterprise.status).toBe(400);
    const body = (await enterprise.json()) as Record<string, unknown>;
    expect(body).toMatchObject({ code: 'INVALID_INPUT', message: '0852093432 is not a valid company' });
    expect(body.id).toMatch(/^[0-9a-f-]{36}$/);
    expect(simulator.messages()).toHaveLength(0);
  });

  it('refuses a digest that does not match the part, and a publication without Idempotency-Key', async () => {
    const tampered = [documents[0], { ...documents[1], digest: digestOf(Buffer.from('other bytes')) }];
    const response = await publish({ eboxType: 'citizen', ssin: CITIZEN }, tampered);
    expect(response.status).toBe(400);
    expect(((await response.json()) as { message: string }).message).toContain('annex1');

    const noKey = await fetch(`${simulator.url}/ebox/messages`, {
      method: 'POST',
      headers: { Authorization: await bearer() },
      body: formOf(messageToPublish({ eboxType: 'citizen', ssin: CITIZEN }, documents), documents),
    });
    expect(noKey.status).toBe(400);
    expect(simulator.messages()).toHaveLength(0);
  });

  it('answers a repeated Idempotency-Key with 409 and the first messageId, findable by the search', async () => {
    const first = (await (
      await publish({ eboxType: 'citizen', ssin: CITIZEN }, documents, 'T-42')
    ).json()) as {
      messageId: string;
    };
    const again = await publish({ eboxType: 'citizen', ssin: CITIZEN }, documents, 'T-42');
    expect(again.status).toBe(409);
    expect(await again.json()).toMatchObject({ messageId: first.messageId });
    expect(simulator.messages()).toHaveLength(1);

    const search = await get('/ebox/messages?idempotencyKey=T-42');
    expect(await search.json()).toEqual({
      items: [expect.objectContaining({ messageId: first.messageId, eboxId: CITIZEN, readStatus: 'UNREAD' })],
    });
  });

  it('publishes with NO_DIGITAL_USER to a recipient who never opened an e-Box', async () => {
    const response = await publish({ eboxType: 'citizen', ssin: NO_EBOX_CITIZEN });
    expect(response.status).toBe(201);
    expect(await response.json()).toMatchObject({ code: 'NO_DIGITAL_USER' });
    expect(simulator.messages()[0].code).toBe('NO_DIGITAL_USER');
  });

  it('answers profiles: the default for any valid number, the fixture exceptions, 400 for invalid ones', async () => {
    expect(await (await get(`/ebox/profiles/citizen/${CITIZEN}`)).json()).toEqual({
      exists: true,
      activated: true,
      preferredChannel: 'EBOX',
    });
    expect(await (await get(`/ebox/profiles/enterprise/${ENTERPRISE}`)).json()).toEqual({
      exists: true,
      activated: true,
      preferredChannel: 'EBOX',
    });
    expect(await (await get(`/ebox/profiles/citizen/${NOT_ACTIVATED_CITIZEN}`)).json()).toEqual({
      exists: true,
      activated: false,
      preferredChannel: 'PAPER',
      lastConnectionDate: '2024-03-01T10:00:00Z',
    });
    expect(await (await get('/ebox/profiles/citizen/85010100313')).json()).toMatchObject({
      activated: true,
      preferredChannel: 'PAPER',
    });
    expect(await (await get('/ebox/profiles/enterprise/0200000142')).json()).toMatchObject({ exists: false });
    const invalid = await get('/ebox/profiles/enterprise/0852093432');
    expect(invalid.status).toBe(400);
  });

  it('reports the read status once the recipient opens the message', async () => {
    const { messageId } = (await (await publish({ eboxType: 'citizen', ssin: CITIZEN })).json()) as {
      messageId: string;
    };
    expect(await (await get(`/ebox/messages/${messageId}`)).json()).toEqual({
      messageId,
      eboxId: CITIZEN,
      receiptDate: '2026-01-15T10:00:00.000Z',
      expirationDate: '2027-01-15T10:00:00.000Z',
      readStatus: 'UNREAD',
      visible: true,
      registeredMail: true,
    });
    clock.advance(60_000);
    const read = await fetch(`${simulator.url}/ebox/messages/${messageId}/read`, {
      method: 'POST',
      headers: { Authorization: await bearer() },
    });
    expect(await read.json()).toMatchObject({ readStatus: 'READ', readDate: '2026-01-15T10:01:00.000Z' });
    clock.advance(60_000);
    expect(simulator.markRead(messageId)?.readDate).toBe('2026-01-15T10:01:00.000Z');

    const changed = (await (await get('/ebox/messages?since=2026-01-15T10:00:30Z')).json()) as {
      items: unknown[];
    };
    expect(changed.items).toEqual([expect.objectContaining({ messageId, readStatus: 'READ' })]);
    expect((await get('/ebox/messages/no-such-message')).status).toBe(404);
  });

  it('injects faults through the test switch: the next N calls fail, then service resumes', async () => {
    const program = (body: object) =>
      fetch(`${simulator.url}/_test/faults`, {
        method: 'POST',
        headers: { 'Content-Type': 'application/json' },
        body: JSON.stringify(body),
      });
    expect((await program({ failNext: 2, status: 503 })).status).toBe(200);
    expect((await publish({ eboxType: 'citizen', ssin: CITIZEN })).status).toBe(503);
    expect((await get(`/ebox/profiles/citizen/${CITIZEN}`)).status).toBe(503);
    expect((await publish({ eboxType: 'citizen', ssin: CITIZEN })).status).toBe(201);

    // A delay without a status only slows the call down.
    await program({ failNext: 1, delayMs: 20 });
    expect((await publish({ eboxType: 'citizen', ssin: CITIZEN })).status).toBe(201);

    await program({ failNext: 1, status: 409 });
    const conflict = await publish({ eboxType: 'citizen', ssin: CITIZEN });
    expect(conflict.status).toBe(409);
    expect(await conflict.json()).not.toHaveProperty('messageId');

    const dump = (await (await fetch(`${simulator.url}/_test/messages`)).json()) as {
      messages: { attachments: { sha256: string }[] }[];
    };
    expect(dump.messages).toHaveLength(2);
    expect(dump.messages[0].attachments[0].sha256).toMatch(/^[0-9a-f]{64}$/);

    await program({ failNext: 5, status: 500 });
    expect((await fetch(`${simulator.url}/_test/reset`, { method: 'POST' })).status).toBe(200);
    expect(simulator.messages()).toHaveLength(0);
    expect((await get(`/ebox/profiles/citizen/${CITIZEN}`)).status).toBe(200);
    expect((await program({ failNext: 1, status: 418 })).status).toBe(400);
  });

  it('keeps the test switch off unless asked', async () => {
    const plain = await startEboxSimulator({ clock });
    try {
      const response = await fetch(`${plain.url}/_test/faults`, {
        method: 'POST',
        body: JSON.stringify({ failNext: 1, status: 503 }),
      });
      expect(response.status).toBe(404);
    } finally {
      await plain.close();
    }
  });

  it('refuses a publication larger than the size cap', async () => {
    const small = await startEboxSimulator({ clock, maxPublicationBytes: 4096 });
    try {
      const big: Attachment[] = [{ name: 'document', bytes: Buffer.alloc(16 * 1024, 1) }];
      const tokenBody = (await (
        await fetch(`${small.url}/oauth2/token`, {
          method: 'POST',
          body: new URLSearchParams({
            grant_type: 'client_credentials',
            client_id: DEV_CREDENTIALS.clientId,
            client_secret: DEV_CREDENTIALS.clientSecret,
          }),
        })
      ).json()) as { access_token: string };
      const response = await fetch(`${small.url}/ebox/messages`, {
        method: 'POST',
        headers: { Authorization: `Bearer ${tokenBody.access_token}`, 'Idempotency-Key': 'big' },
        body: formOf(messageToPublish({ eboxType: 'citizen', ssin: CITIZEN }, big), big),
      });
      expect(response.status).toBe(413);
      expect(await response.json()).toMatchObject({ code: 'PAYLOAD_TOO_LARGE' });

      // Without Content-Length (chunked), the cap stops the stream itself.
      const form = new Response(formOf(messageToPublish({ eboxType: 'citizen', ssin: CITIZEN }, big), big));
      const chunked = await fetch(`${small.url}/ebox/messages`, {
        method: 'POST',
        headers: {
          Authorization: `Bearer ${tokenBody.access_token}`,
          'Idempotency-Key': 'big-chunked',
          'Content-Type': form.headers.get('content-type') ?? '',
        },
        body: form.body,
        duplex: 'half',
      } as RequestInit);
      expect(chunked.status).toBe(413);
      expect(small.messages()).toHaveLength(0);
    } finally {
      await small.close();
    }
  });

  it('keeps its messages and read marks across a restart with a data file', async () => {
    const dataFile = path.join(tmp, 'ebox.jsonl');
    await simulator.close();
    simulator = await startEboxSimulator({ clock, profilesFile: PROFILES, dataFile });
    const { messageId } = (await (
      await publish({ eboxType: 'citizen', ssin: CITIZEN }, documents, 'T-7')
    ).json()) as {
      messageId: string;
    };
    simulator.markRead(messageId);
    await simulator.close();

    simulator = await startEboxSimulator({ clock, profilesFile: PROFILES, dataFile });
    expect(simulator.messages()).toEqual([expect.objectContaining({ messageId, readStatus: 'READ' })]);
    const again = await publish({ eboxType: 'citizen', ssin: CITIZEN }, documents, 'T-7');
    expect(again.status).toBe(409);
    expect(await again.json()).toMatchObject({ messageId });
  });
});
