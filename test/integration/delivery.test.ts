import { createHash } from 'node:crypto';
import { proofsFromSavedResponse } from '../../src/verification/saved-response';
import { verifyProofs } from '../../src/verification/verify-proof';
import { readCertificatesFromPemFile } from '../../src/pki/pem';
import type { SimulatedMessage } from '../../src/ebox-simulator';
import { deliveryRecordsOf, type DeliveryRecords } from '../support/delivery-records';
import { readEvidence } from '../support/evidence-view';
import { testWithTool } from '../support/external-tools';
import { expectFault } from '../support/fault-assertions';
import { proofProblems } from '../support/proof-checks';
import { startTestService, type TestService } from '../support/service-fixture';
import { readStatusAnswer, ticketOfSendAnswer, type StatusAnswer } from '../support/signed-files';
import type { HttpResult } from '../support/soap-client';
import {
  getStatusEnvelope,
  partsOf,
  samplePdf,
  sendDocumentEnvelope,
  type SendDocumentSpec,
} from '../support/v1-requests';
import { queryRows } from '../support/portable-sql';

/*
 * Delivery through the running service (issue 5), over real HTTP, with real SQLite, real signatures and
 * time-stamps, and the embedded e-Box simulator: an accepted item is published into the e-Box, its
 * ProofOfDispatch states that publication and verifies with openssl and with verify-proof, items are
 * published in acceptance order, a recipient without an e-Box gets the message all the same
 * (NO_DIGITAL_USER), and the recipient's reading of it becomes a CONSULTED row with its own proof.
 *
 * Delivery is paused (RM_DELIVERY_PAUSED): the test decides when the worker runs (drain()) and the
 * ManualClock is the only time that passes, so every time the records state is known exactly.
 */

const CITIZEN = '85073003328';
/** fixtures/ebox-profiles.json: exists false (never opened an e-Box). */
const CITIZEN_WITHOUT_EBOX = '85010100115';
const SECOND = 1000;

function sha256(data: Buffer, encoding: 'hex' | 'base64'): string {
  return createHash('sha256').update(data).digest(encoding);
}

function itemSpec(token: string, overrides: Partial<SendDocumentSpec> = {}): SendDocumentSpec {
  return {
    token,
    recipient: { kind: 'citizen', inss: CITIZEN },
    document: { content: samplePdf(token), contentId: 'document@test' },
    annexes: [
      { content: Buffer.from(`annex one of ${token}`), contentId: 'annex-1@test' },
      {
        content: Buffer.from(`a;b\n1;${token}\n`),
        contentId: 'annex-2@test',
        mime: 'text/csv',
        digestMethod: 'SHA-512',
      },
    ],
    ...overrides,
  };
}

describe('delivery through the running service', () => {
  let rm: TestService;
  let records: DeliveryRecords;

  beforeAll(async () => {
    // One publication at a time and two per round: the publication order is the claim order, and
    // drain() needs several rounds.
    rm = await startTestService({
      RM_DELIVERY_PAUSED: 'true',
      RM_OUTBOX_CONCURRENCY: '1',
      RM_OUTBOX_BATCH: '2',
    });
    records = deliveryRecordsOf(rm);
  });
  afterAll(async () => {
    // close() also verifies every receipt and proof of the data directory with openssl and Bouncy Castle.
    await rm?.close();
  });

  function send(spec: SendDocumentSpec): Promise<HttpResult> {
    return rm.postSwa(rm.sign(sendDocumentEnvelope(spec)), partsOf(spec));
  }

  async function accept(spec: SendDocumentSpec): Promise<string> {
    return ticketOfSendAnswer(await send(spec));
  }

  async function status(ticket: string): Promise<StatusAnswer> {
    return readStatusAnswer(await rm.postXml(rm.sign(getStatusEnvelope(ticket))));
  }

  function messagesFor(ticket: string): SimulatedMessage[] {
    return rm.service.eboxSimulator!.messages().filter((message) => message.idempotencyKey === ticket);
  }

  function drain(): Promise<void> {
    return rm.service.delivery.worker.drain();
  }

  testWithTool('openssl', ['version'])(
    'publishes an accepted item; getStatus answers SENT with a ProofOfDispatch stating the publication',
    async () => {
      const spec = itemSpec('T-dispatch');
      const acceptedAt = rm.clock.now();
      const ticket = await accept(spec);

      const pending = await status(ticket);
      expect(pending).toMatchObject({ ticket, token: 'T-dispatch', status: 'PENDING', attachmentCount: 0 });
      expect(pending.proofOfDispatch).toBeUndefined();
      const accepted = {
        status: 'PENDING',
        event: 'ACCEPTED',
        occurredAt: acceptedAt,
        detail: expect.stringMatching(/^request /),
      };
      expect(await records.history(ticket)).toEqual([accepted]);
      expect(await records.outboxEntry(ticket)).toMatchObject({ attempts: 0, leaseOwner: null });
      expect(messagesFor(ticket)).toEqual([]);

      // The e-Box receives it seven seconds later: the dispatch time is the e-Box's, not the acceptance.
      rm.clock.advance(7 * SECOND);
      const publishedAt = rm.clock.now();
      await drain();

      // The e-Box holds exactly one message for the ticket, with the files' bytes.
      const messages = messagesFor(ticket);
      expect(messages).toHaveLength(1);
      const message = messages[0];
      expect(message).toMatchObject({
        recipient: { eboxType: 'citizen', ssin: CITIZEN },
        sender: { eboxType: 'enterprise', enterpriseNumber: rm.senders[0].cbe },
        registeredMail: true,
        receiptDate: publishedAt.toISOString(),
      });
      expect(message.attachments.map((attachment) => attachment.sha256)).toEqual(
        [spec.document, ...spec.annexes!].map((file) => sha256(file.content, 'hex')),
      );
      expect(message.attachments.map((attachment) => attachment.isMainContent)).toEqual([true, false, false]);

      // getStatus: SENT with the ProofOfDispatch SignedFile, its content in the part its cid: names.
      const sent = await status(ticket);
      expect(sent).toMatchObject({ ticket, token: 'T-dispatch', status: 'SENT', attachmentCount: 1 });
      const proof = sent.proofOfDispatch!;
      expect(proof).toMatchObject({
        title: 'ProofOfDispatch',
        downloadFileName: 'ProofOfDispatch.xml',
        mime: 'text/xml',
        type: 'PROOF_OF_DISPATCH',
        language: 'en',
        digestMethod: 'SHA-256',
        contentType: 'text/xml',
      });
      expect(proof.contentReference).toMatch(/^cid:/);
      expect(proof.digestValue).toBe(sha256(proof.content, 'base64'));

      // The part is the Evidence of the ContentConsignment, naming the e-Box message.
      const evidence = readEvidence(proof.content);
      expect(evidence).toMatchObject({
        rootName: '{urn:registeredmail:evidence:v1}Evidence',
        event: 'ContentConsignment',
        eventTime: publishedAt.toISOString(),
        submissionTime: acceptedAt.toISOString(),
        sender: { cbe: rm.senders[0].cbe, applicationId: rm.senders[0].applicationId },
        recipient: { inss: CITIZEN, qualityCode: 'CITIZEN', eboxMessageId: message.messageId },
        ticket,
        token: 'T-dispatch',
        issuer: { serviceUrl: rm.url },
      });
      expect(evidence.parts).toEqual([
        expect.objectContaining({
          role: 'document',
          digestMethod: 'SHA-256',
          digestValue: sha256(spec.document.content, 'base64'),
        }),
        expect.objectContaining({
          role: 'annex',
          digestMethod: 'SHA-256',
          digestValue: sha256(spec.annexes![0].content, 'base64'),
        }),
        expect.objectContaining({
          role: 'annex',
          digestMethod: 'SHA-512',
          digestValue: createHash('sha512').update(spec.annexes![1].content).digest('base64'),
        }),
      ]);

      // It is the stored proof, byte for byte, and it verifies with openssl and with verify-proof.
      const stored = await records.proof(ticket, 'DISPATCH');
      expect(stored.content.equals(proof.content)).toBe(true);
      expect(stored.signature.equals(proof.signature)).toBe(true);
      expect(stored.evidenceId).toBe(evidence.evidenceId);
      const caFile = rm.service.pki!.ca.certPemPath;
      expect(
        await proofProblems(
          {
            label: `ProofOfDispatch of ${ticket}`,
            content: proof.content,
            signature: proof.signature,
            signedFile: { digestMethod: proof.digestMethod, digestValue: proof.digestValue },
          },
          caFile,
          rm.clock.now(),
        ),
      ).toEqual([]);

      // History and publication: ACCEPTED (PENDING) at acceptance, PUBLISHED (SENT) at the e-Box's time.
      expect(await records.history(ticket)).toEqual([
        accepted,
        {
          status: 'SENT',
          event: 'PUBLISHED',
          occurredAt: publishedAt,
          detail: `e-Box message ${message.messageId}`,
        },
      ]);
      expect(await records.publication(ticket)).toMatchObject({
        eboxMessageId: message.messageId,
        publishedAt,
        noDigitalUser: false,
        consultedAt: null,
      });
      expect(await records.outboxEntry(ticket)).toBeNull();

      // Published once: later rounds and later getStatus calls change nothing.
      rm.clock.advance(600 * SECOND);
      await drain();
      expect(messagesFor(ticket)).toHaveLength(1);
      const again = await status(ticket);
      expect(again.proofOfDispatch!.content.equals(proof.content)).toBe(true);
      expect(again.proofOfDispatch!.signature.equals(proof.signature)).toBe(true);
    },
  );

  it('answers a getStatus response that verify-proof --response reads and verifies', async () => {
    const ticket = await accept(itemSpec('T-verify-proof'));
    await drain();
    const result = await rm.postXml(rm.sign(getStatusEnvelope(ticket)));
    // As saved by a client: the Content-Type header, a blank line, the body.
    const saved = Buffer.concat([
      Buffer.from(`Content-Type: ${String(result.headers['content-type'])}\r\n\r\n`),
      result.body,
    ]);
    const inputs = proofsFromSavedResponse(saved);
    expect(inputs).toHaveLength(1);
    expect(inputs[0].label).toMatch(/ProofOfDispatch/);
    const report = await verifyProofs(inputs, {
      trustAnchors: await readCertificatesFromPemFile(rm.service.pki!.ca.certPemPath),
      validationTime: rm.clock.now(),
    });
    expect(report.proofs[0].checks.filter((check) => check.result !== 'PASS')).toEqual([]);
    expect(report.passed).toBe(true);
  });

  it('publishes items in the order they were accepted', async () => {
    const tickets: string[] = [];
    for (let index = 0; index < 5; index++) {
      tickets.push(await accept(itemSpec(`T-order-${index}`)));
      rm.clock.advance(SECOND);
    }
    await drain();

    const published = rm.service
      .eboxSimulator!.messages()
      .map((message) => message.idempotencyKey)
      .filter((key) => tickets.includes(key));
    expect(published).toEqual(tickets);
    // The history says the same: the PUBLISHED rows were written in acceptance order.
    const rows = await queryRows<{ ticket: string }>(
      rm.service.dataSource,
      "SELECT ticket FROM item_status_history WHERE event = 'PUBLISHED' AND ticket IN (:...tickets) ORDER BY id",
      { tickets },
    );
    expect(rows.map((row) => row.ticket)).toEqual(tickets);
    for (const ticket of tickets) expect((await status(ticket)).status).toBe('SENT');
  });

  it('publishes to a recipient who never opened an e-Box: SENT, PUBLISHED then NO_DIGITAL_USER', async () => {
    const recipient = { kind: 'citizen', inss: CITIZEN_WITHOUT_EBOX } as const;
    // Checked (ACTIVATED, the default), the item is refused: the recipient has no activated e-Box.
    expectFault(await send(itemSpec('T-no-ebox-checked', { recipient })), {
      code: 'EBOX_B01',
      kind: 'BusinessError',
    });

    const acceptedAt = rm.clock.now();
    const ticket = await accept(itemSpec('T-no-ebox', { recipient, checkEboxStatus: 'BYPASS' }));
    rm.clock.advance(3 * SECOND);
    await drain();

    const [message] = messagesFor(ticket);
    expect(message).toMatchObject({ code: 'NO_DIGITAL_USER', eboxId: CITIZEN_WITHOUT_EBOX });
    expect(messagesFor(ticket)).toHaveLength(1);
    const history = await records.history(ticket);
    expect(history.map(({ status: itemStatus, event }) => [itemStatus, event])).toEqual([
      ['PENDING', 'ACCEPTED'],
      ['SENT', 'PUBLISHED'],
      ['SENT', 'NO_DIGITAL_USER'],
    ]);
    expect(history[0].occurredAt).toEqual(acceptedAt);
    expect(await records.publication(ticket)).toMatchObject({
      eboxMessageId: message.messageId,
      noDigitalUser: true,
    });

    const answer = await status(ticket);
    expect(answer.status).toBe('SENT');
    const evidence = readEvidence(answer.proofOfDispatch!.content);
    expect(evidence).toMatchObject({
      event: 'ContentConsignment',
      ticket,
      recipient: { inss: CITIZEN_WITHOUT_EBOX, eboxMessageId: message.messageId },
    });
    expect((await records.proof(ticket, 'DISPATCH')).content.equals(answer.proofOfDispatch!.content)).toBe(
      true,
    );
  });

  testWithTool('openssl', ['version'])(
    'records the consultation at the e-Box read time, with a ContentHandover proof, once',
    async () => {
      const acceptedAt = rm.clock.now();
      const ticket = await accept(itemSpec('T-consulted'));
      await drain();
      const { eboxMessageId } = (await records.publication(ticket))!;
      const consultation = rm.service.delivery.consultation;

      // Not read yet: a round records nothing for it.
      await consultation.pollOnce();
      expect((await records.history(ticket)).map((row) => row.event)).toEqual(['ACCEPTED', 'PUBLISHED']);

      // The recipient opens it two hours later; the poller sees it half an hour after that.
      rm.clock.advance(2 * 3600 * SECOND);
      const readAt = rm.clock.now();
      expect(rm.service.eboxSimulator!.markRead(eboxMessageId)?.readDate).toBe(readAt.toISOString());
      rm.clock.advance(1800 * SECOND);
      expect(await consultation.pollOnce()).toBe(1);

      const history = await records.history(ticket);
      expect(history.map((row) => row.event)).toEqual(['ACCEPTED', 'PUBLISHED', 'CONSULTED']);
      expect(history[2]).toMatchObject({ status: 'SENT', event: 'CONSULTED', occurredAt: readAt });
      expect(await records.publication(ticket)).toMatchObject({ consultedAt: readAt });

      const proof = await records.proof(ticket, 'CONSULTATION');
      const evidence = readEvidence(proof.content);
      expect(evidence).toMatchObject({
        evidenceId: proof.evidenceId,
        event: 'ContentHandover',
        eventTime: readAt.toISOString(),
        submissionTime: acceptedAt.toISOString(),
        recipient: { inss: CITIZEN, eboxMessageId },
        ticket,
        token: 'T-consulted',
      });
      expect(
        await proofProblems(
          { label: `consultation proof of ${ticket}`, content: proof.content, signature: proof.signature },
          rm.service.pki!.ca.certPemPath,
          rm.clock.now(),
        ),
      ).toEqual([]);

      // getStatus still hands out the proof of dispatch, never the consultation proof.
      const answer = await status(ticket);
      expect(answer.status).toBe('SENT');
      expect(readEvidence(answer.proofOfDispatch!.content).event).toBe('ContentConsignment');

      // A second round adds nothing: one CONSULTED row, one consultation proof.
      rm.clock.advance(3600 * SECOND);
      expect(await consultation.pollOnce()).toBe(0);
      expect(await records.history(ticket)).toEqual(history);
      expect((await records.proofs(ticket)).map((stored) => stored.kind)).toEqual([
        'DISPATCH',
        'CONSULTATION',
      ]);
    },
  );
});
