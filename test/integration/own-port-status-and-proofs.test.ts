import { createHash } from 'node:crypto';
import { readFileSync } from 'node:fs';
import path from 'node:path';
import { DOMParser, type Element } from '@xmldom/xmldom';
import { projectRoot } from '../../src/app/project-paths';
import { ManualClock } from '../../src/clock/clock';
import { startEboxSimulator, type EboxSimulator, type SimulatedMessage } from '../../src/ebox-simulator';
import { programEboxFaults } from '../support/ebox-control';
import { readEvidence } from '../support/evidence-view';
import { testWithTool } from '../support/external-tools';
import { proofProblems } from '../support/proof-checks';
import { startTestService, type TestService, type TestSender } from '../support/service-fixture';
import {
  ServiceAnswerReader,
  type HistoryAnswer,
  type ProofFileAnswer,
  type ProofsAnswer,
  type SendAnswer,
} from '../support/service-port-answers';
import {
  getProofRequestEnvelope,
  getStatusRequestEnvelope,
  postToServicePort,
  sendRegisteredMailEnvelope,
  serviceSample,
  type ProofKindRequest,
  type SendRegisteredMailSpec,
} from '../support/service-port-requests';
import { readSignedFile, readStatusAnswer, type StatusAnswer } from '../support/signed-files';
import { parseResponse, type HttpResult } from '../support/soap-client';
import { getStatusEnvelope, samplePdf, type TestRecipient } from '../support/v1-requests';

/*
 * Issue 6, points 3 to 5: GetStatus and GetProof on /RegisteredMailService over real HTTP, through an
 * item's whole life, with delivery paused so that the test decides when the worker publishes (drain())
 * and when consultation is polled (pollOnce()), and a ManualClock as the only time that passes.
 *
 * GetStatus answers the history (ACCEPTED; PUBLISHED with the e-Box's message id; NO_DIGITAL_USER;
 * CONSULTED at the e-Box's read time; PUBLICATION_FAILED with the reason), GetProof the proofs exactly as
 * issued (RECEIPT = the send's receipt, byte for byte; DISPATCH; CONSULTATION; ALL so far, in order),
 * PROOF_B01 for a proof not issued yet, REPO_B01 for another sender's ticket. Every answer is checked as
 * a client would: signed by the service, valid against the XSDs; every proof verifies with openssl and
 * verify-proof. Items of both ports are one domain: each port reads the other's items, and the same Token
 * with the same bytes is the same item whichever port carried it.
 */

const CITIZEN = '85073003328';
/** fixtures/ebox-profiles.json: exists false (never opened an e-Box). */
const CITIZEN_WITHOUT_EBOX = '85010100115';
const TYPES = 'http://socialsecurity.be/registeredmail/types/v1';
const SECOND = 1000;

function sha256(data: Buffer): string {
  return createHash('sha256').update(data).digest('base64');
}

function itemSpec(
  token: string,
  recipient: TestRecipient = { kind: 'citizen', inss: CITIZEN },
): SendRegisteredMailSpec {
  return {
    token,
    recipient,
    document: { content: samplePdf(token) },
    annexes: [{ content: Buffer.from(`annex of ${token}`) }],
  };
}

/** The Ticket a Receipt.xml names. */
function receiptTicket(content: Buffer): string {
  const receipt = new DOMParser().parseFromString(content.toString('utf8'), 'text/xml')
    .documentElement as Element;
  return receipt.getElementsByTagNameNS(TYPES, 'Ticket')[0]?.textContent ?? '';
}

/** The same bytes and the same signature. */
function sameProof(
  a: Pick<ProofFileAnswer, 'content' | 'signature'>,
  b: Pick<ProofFileAnswer, 'content' | 'signature'>,
) {
  return a.content.equals(b.content) && a.signature.equals(b.signature);
}

/** The service's calls the tests make, over HTTP, each answer read by a {@link ServiceAnswerReader}. */
class OwnPortClient {
  constructor(
    private readonly rm: TestService,
    readonly reader: ServiceAnswerReader,
  ) {}

  sendRequest(spec: SendRegisteredMailSpec): Promise<HttpResult> {
    return postToServicePort(this.rm, this.rm.sign(sendRegisteredMailEnvelope(spec)), 'SendRegisteredMail');
  }

  async send(spec: SendRegisteredMailSpec): Promise<SendAnswer> {
    return this.reader.send(await this.sendRequest(spec));
  }

  statusRequest(ticket: string, sender?: TestSender): Promise<HttpResult> {
    return postToServicePort(
      this.rm,
      this.rm.sign(getStatusRequestEnvelope(ticket), { sender }),
      'GetStatus',
    );
  }

  async history(ticket: string): Promise<HistoryAnswer> {
    return this.reader.history(await this.statusRequest(ticket));
  }

  proofRequest(ticket: string, kind: ProofKindRequest, sender?: TestSender): Promise<HttpResult> {
    return postToServicePort(
      this.rm,
      this.rm.sign(getProofRequestEnvelope(ticket, kind), { sender }),
      'GetProof',
    );
  }

  async proofs(ticket: string, kind: ProofKindRequest): Promise<ProofsAnswer> {
    return this.reader.proofs(await this.proofRequest(ticket, kind));
  }

  /** The one proof of a single-kind GetProof. */
  async proof(ticket: string, kind: Exclude<ProofKindRequest, 'ALL'>): Promise<ProofFileAnswer> {
    const answer = await this.proofs(ticket, kind);
    expect(answer.ticket).toBe(ticket);
    expect(answer.proofs.map((proof) => proof.kind)).toEqual([kind]);
    return answer.proofs[0].file;
  }

  async expectNotIssued(ticket: string, kind: 'DISPATCH' | 'CONSULTATION'): Promise<void> {
    await this.reader.fault(await this.proofRequest(ticket, kind), {
      code: 'PROOF_B01',
      kind: 'BusinessError',
      message: 'The proof is not issued yet',
    });
  }

  /** v1 getStatus of the same item. */
  async v1Status(ticket: string): Promise<StatusAnswer> {
    return readStatusAnswer(await this.rm.postXml(this.rm.sign(getStatusEnvelope(ticket))));
  }
}

describe('GetStatus and GetProof on the own port', () => {
  let rm: TestService;
  let client: OwnPortClient;
  let caFile: string;

  beforeAll(async () => {
    rm = await startTestService({ RM_DELIVERY_PAUSED: 'true' });
    client = new OwnPortClient(rm, await ServiceAnswerReader.load(rm.service.pki!.signer.certificateDer));
    caFile = rm.service.pki!.ca.certPemPath;
  });
  afterAll(async () => {
    client?.reader.dispose();
    // close() also verifies every stored receipt and proof with openssl and Bouncy Castle.
    await rm?.close();
  });

  function messagesFor(ticket: string): SimulatedMessage[] {
    return rm.service.eboxSimulator!.messages().filter((message) => message.idempotencyKey === ticket);
  }

  async function expectVerifies(label: string, file: ProofFileAnswer): Promise<void> {
    expect(file.digestValue).toBe(sha256(file.content));
    client.reader.validateProofContent(file.content);
    const problems = await proofProblems(
      {
        label,
        content: file.content,
        signature: file.signature,
        signedFile: { digestMethod: file.digestMethod, digestValue: file.digestValue },
      },
      caFile,
      rm.clock.now(),
    );
    expect(problems).toEqual([]);
  }

  testWithTool('openssl', ['version'])(
    'follows an item from ACCEPTED to PUBLISHED to CONSULTED, with each proof as issued',
    async () => {
      const acceptedAt = rm.clock.now();
      const sent = await client.send(itemSpec('T-life'));
      const { ticket } = sent;

      // Accepted, not yet in the e-Box.
      expect(await client.history(ticket)).toEqual({
        ticket,
        token: 'T-life',
        status: 'PENDING',
        events: [
          { name: 'ACCEPTED', time: acceptedAt.toISOString(), status: 'PENDING', detail: expect.any(String) },
        ],
      });
      const receipt = await client.proof(ticket, 'RECEIPT');
      expect(sameProof(receipt, sent.receipt)).toBe(true);
      expect(receipt).toEqual(sent.receipt);
      expect(receiptTicket(receipt.content)).toBe(ticket);
      await expectVerifies(`receipt of ${ticket}`, receipt);
      await client.expectNotIssued(ticket, 'DISPATCH');
      await client.expectNotIssued(ticket, 'CONSULTATION');
      expect((await client.proofs(ticket, 'ALL')).proofs.map((proof) => proof.kind)).toEqual(['RECEIPT']);

      // Published seven seconds later: the event has the e-Box's message id and the publication time.
      rm.clock.advance(7 * SECOND);
      const publishedAt = rm.clock.now();
      await rm.service.delivery.worker.drain();
      const [message] = messagesFor(ticket);
      expect(messagesFor(ticket)).toHaveLength(1);
      const published = {
        name: 'PUBLISHED',
        time: publishedAt.toISOString(),
        status: 'SENT',
        eboxMessageId: message.messageId,
      };
      expect(await client.history(ticket)).toMatchObject({
        status: 'SENT',
        events: [{ name: 'ACCEPTED' }, published],
      });

      const dispatch = await client.proof(ticket, 'DISPATCH');
      expect(dispatch).toMatchObject({
        title: 'ProofOfDispatch',
        downloadFileName: 'ProofOfDispatch.xml',
        mime: 'text/xml',
        type: 'PROOF_OF_DISPATCH',
        language: 'en',
        digestMethod: 'SHA-256',
      });
      expect(readEvidence(dispatch.content)).toMatchObject({
        event: 'ContentConsignment',
        eventTime: publishedAt.toISOString(),
        ticket,
        token: 'T-life',
        recipient: { inss: CITIZEN, eboxMessageId: message.messageId },
      });
      await expectVerifies(`proof of dispatch of ${ticket}`, dispatch);
      // The v1 port hands out the very same proof of dispatch.
      expect(sameProof((await client.v1Status(ticket)).proofOfDispatch!, dispatch)).toBe(true);
      await client.expectNotIssued(ticket, 'CONSULTATION');
      const afterPublication = await client.proofs(ticket, 'ALL');
      expect(afterPublication.proofs.map((proof) => proof.kind)).toEqual(['RECEIPT', 'DISPATCH']);
      expect(sameProof(afterPublication.proofs[0].file, sent.receipt)).toBe(true);
      expect(sameProof(afterPublication.proofs[1].file, dispatch)).toBe(true);

      // The recipient opens it two hours later; the poller sees it half an hour after that.
      rm.clock.advance(2 * 3600 * SECOND);
      const readAt = rm.clock.now();
      expect(rm.service.eboxSimulator!.markRead(message.messageId)?.readDate).toBe(readAt.toISOString());
      rm.clock.advance(1800 * SECOND);
      expect(await rm.service.delivery.consultation.pollOnce()).toBe(1);

      expect(await client.history(ticket)).toMatchObject({
        status: 'SENT',
        events: [
          { name: 'ACCEPTED' },
          published,
          { name: 'CONSULTED', time: readAt.toISOString(), status: 'SENT' },
        ],
      });
      const consultation = await client.proof(ticket, 'CONSULTATION');
      expect(consultation).toMatchObject({
        title: 'ProofOfConsultation',
        downloadFileName: 'ProofOfConsultation.xml',
        type: 'PROOF_OF_CONSULTATION',
      });
      expect(readEvidence(consultation.content)).toMatchObject({
        event: 'ContentHandover',
        eventTime: readAt.toISOString(),
        ticket,
        recipient: { inss: CITIZEN, eboxMessageId: message.messageId },
      });
      await expectVerifies(`proof of consultation of ${ticket}`, consultation);

      // ALL: every proof issued, in the order issued, each exactly as the single-kind answers gave it.
      const all = await client.proofs(ticket, 'ALL');
      expect(all.ticket).toBe(ticket);
      expect(all.proofs.map((proof) => proof.kind)).toEqual(['RECEIPT', 'DISPATCH', 'CONSULTATION']);
      expect(all.proofs.map((proof) => proof.file)).toEqual([sent.receipt, dispatch, consultation]);
    },
  );

  it('shows NO_DIGITAL_USER after PUBLISHED for a recipient without an e-Box sent with BYPASS', async () => {
    const sent = await client.send({
      ...itemSpec('T-no-digital-user', { kind: 'citizen', inss: CITIZEN_WITHOUT_EBOX }),
      checkEboxStatus: 'BYPASS',
    });
    rm.clock.advance(3 * SECOND);
    const publishedAt = rm.clock.now().toISOString();
    await rm.service.delivery.worker.drain();

    const [message] = messagesFor(sent.ticket);
    expect(message).toMatchObject({ code: 'NO_DIGITAL_USER' });
    const history = await client.history(sent.ticket);
    expect(history.status).toBe('SENT');
    expect(history.events).toMatchObject([
      { name: 'ACCEPTED', status: 'PENDING' },
      { name: 'PUBLISHED', time: publishedAt, status: 'SENT', eboxMessageId: message.messageId },
      { name: 'NO_DIGITAL_USER', status: 'SENT', eboxMessageId: message.messageId },
    ]);
    expect(readEvidence((await client.proof(sent.ticket, 'DISPATCH')).content).recipient).toMatchObject({
      inss: CITIZEN_WITHOUT_EBOX,
      eboxMessageId: message.messageId,
    });
  });

  it("answers REPO_B01 for another sender's ticket and for an unknown one, on GetStatus and every GetProof", async () => {
    const { ticket } = await client.send(itemSpec('T-foreign'));
    const other = rm.senders[1];
    expect(other.cbe).not.toBe(rm.senders[0].cbe);
    const repositoryFault = { code: 'REPO_B01', kind: 'BusinessError' } as const;
    const foreignStatus = await client.reader.fault(
      await client.statusRequest(ticket, other),
      repositoryFault,
    );
    const unknownStatus = await client.reader.fault(
      await client.statusRequest('ZZZZZZZZZZZZZ'),
      repositoryFault,
    );
    // Indistinguishable on purpose: the same message for a foreign and an unknown ticket.
    expect(foreignStatus.messages).toEqual(unknownStatus.messages);
    for (const kind of ['RECEIPT', 'DISPATCH', 'CONSULTATION', 'ALL'] as const) {
      await client.reader.fault(await client.proofRequest(ticket, kind, other), repositoryFault);
    }
    // The owner still reads it.
    expect((await client.history(ticket)).status).toBe('PENDING');
  });

  testWithTool('openssl', ['version'])(
    'is one domain with the v1 port: each port reads the items of the other, and a Token is one item',
    async () => {
      // A v1 item (the fixtures/v1 sample, SOAP with Attachments) seen through the own port.
      const attachments = path.join(projectRoot(), 'fixtures/v1/attachments');
      const file = (name: string) => readFileSync(path.join(attachments, name));
      const v1Sent = await rm.postSwa(
        rm.sign(readFileSync(path.join(projectRoot(), 'fixtures/v1/sendDocument-citizen.xml'), 'utf8')),
        [
          {
            contentId: 'document@registeredmail.example',
            contentType: 'application/pdf',
            content: file('document.pdf'),
          },
          {
            contentId: 'annex-1@registeredmail.example',
            contentType: 'text/plain',
            content: file('annex-1.txt'),
          },
          {
            contentId: 'annex-2@registeredmail.example',
            contentType: 'text/csv',
            content: file('annex-2.csv'),
          },
        ],
      );
      expect(v1Sent.status).toBe(200);
      const parsed = await parseResponse(v1Sent);
      const v1Response = new DOMParser().parseFromString(parsed.envelope, 'text/xml')
        .documentElement as Element;
      const v1Ticket = v1Response.getElementsByTagNameNS(TYPES, 'Ticket')[0].textContent ?? '';
      const v1Receipt = readSignedFile(parsed, v1Response.getElementsByTagNameNS(TYPES, 'Document')[0]);

      expect(await client.history(v1Ticket)).toMatchObject({
        ticket: v1Ticket,
        token: 'DOSSIER-2024-000123',
        status: 'PENDING',
        events: [{ name: 'ACCEPTED', status: 'PENDING' }],
      });
      expect(sameProof(await client.proof(v1Ticket, 'RECEIPT'), v1Receipt)).toBe(true);

      // The own port's sample: the same Token, recipient and bytes (inline), so the same item.
      const ownSent = await client.reader.send(
        await postToServicePort(
          rm,
          rm.sign(serviceSample('SendRegisteredMail-citizen.xml')),
          'SendRegisteredMail',
        ),
      );
      expect(ownSent.ticket).toBe(v1Ticket);
      expect(sameProof(ownSent.receipt, v1Receipt)).toBe(true);

      // An own-port item seen through the v1 port, before and after publication.
      const { ticket } = await client.send(itemSpec('T-seen-by-v1'));
      expect(await client.v1Status(ticket)).toMatchObject({
        ticket,
        token: 'T-seen-by-v1',
        status: 'PENDING',
      });
      await rm.service.delivery.worker.drain();
      const v1Status = await client.v1Status(ticket);
      expect(v1Status.status).toBe('SENT');
      expect(sameProof(v1Status.proofOfDispatch!, await client.proof(ticket, 'DISPATCH'))).toBe(true);
      // And the v1 item's proof of dispatch, published by the same drain, through the own port.
      expect(
        sameProof(
          await client.proof(v1Ticket, 'DISPATCH'),
          (await client.v1Status(v1Ticket)).proofOfDispatch!,
        ),
      ).toBe(true);
    },
  );
});

describe('GetStatus on the own port when the e-Box refuses the item', () => {
  const clock = new ManualClock(Date.now());
  let simulator: EboxSimulator;
  let rm: TestService;
  let client: OwnPortClient;

  beforeAll(async () => {
    // A simulator of the test's own, with its fault injection (as test/integration/delivery-faults.test.ts).
    simulator = await startEboxSimulator({
      clock,
      profilesFile: path.join(projectRoot(), 'fixtures', 'ebox-profiles.json'),
      testControl: true,
      host: '127.0.0.1',
      port: 0,
    });
    rm = await startTestService({ RM_EBOX_URL: simulator.url, RM_DELIVERY_PAUSED: 'true' }, { clock });
    client = new OwnPortClient(rm, await ServiceAnswerReader.load(rm.service.pki!.signer.certificateDer));
  });
  afterAll(async () => {
    client?.reader.dispose();
    await rm?.close();
    await simulator?.close();
  });

  it('answers PUBLICATION_FAILED with the reason, status ERROR, and no proof but the receipt', async () => {
    const sent = await client.send({ ...itemSpec('T-refused'), checkEboxStatus: 'BYPASS' });
    clock.advance(5 * SECOND);
    await programEboxFaults(simulator.url, { failNext: 1, status: 400 });
    try {
      await rm.service.delivery.worker.drain();
    } finally {
      await programEboxFaults(simulator.url, { failNext: 0 });
    }

    const history = await client.history(sent.ticket);
    expect(history).toMatchObject({
      ticket: sent.ticket,
      status: 'ERROR',
      events: [
        { name: 'ACCEPTED', status: 'PENDING' },
        { name: 'PUBLICATION_FAILED', time: clock.now().toISOString(), status: 'ERROR' },
      ],
    });
    expect(history.events).toHaveLength(2);
    expect(history.events[1].eboxMessageId).toBeUndefined();
    expect(history.events[1].detail).toMatch(
      /the e-Box refused the publication: INJECTED_FAULT.*\(HTTP 400\)/,
    );

    await client.expectNotIssued(sent.ticket, 'DISPATCH');
    const all = await client.proofs(sent.ticket, 'ALL');
    expect(all.proofs.map((proof) => proof.kind)).toEqual(['RECEIPT']);
    expect(sameProof(all.proofs[0].file, sent.receipt)).toBe(true);
    expect((await client.v1Status(sent.ticket)).status).toBe('ERROR');
  });
});
