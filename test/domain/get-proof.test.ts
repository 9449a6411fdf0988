import type { EntitySubscriberInterface } from 'typeorm';
import { GetProofService } from '../../src/domain/get-proof';
import type {
  IssuedReceipt,
  ProofFileKind,
  ProofFileView,
  ProofSelection,
  StoredProof,
} from '../../src/domain/model';
import { ProofNotIssuedError, TicketNotFoundError } from '../../src/errors/faults';
import { acceptItem, Delivery, MINUTE } from './delivery-fixture';
import { makeEnvironment, OTHER_SENDER, SENDER, type Environment } from './storage-fixture';

/** What GetProof must hand out for a proof: exactly what was issued. */
function expected(kind: ProofFileKind, proof: IssuedReceipt | StoredProof): ProofFileView {
  return {
    kind,
    content: proof.content,
    contentSha256: proof.contentSha256,
    signature: proof.signature,
    issuedAt: proof.issuedAt,
  };
}

async function failureOf(promise: Promise<unknown>): Promise<unknown> {
  return promise.then(
    () => {
      throw new Error('expected a failure');
    },
    (error: unknown) => error,
  );
}

describe('GetProofService on a real database', () => {
  let env: Environment;
  let service: GetProofService;
  let delivery: Delivery;

  beforeEach(async () => {
    env = await makeEnvironment();
    service = new GetProofService(env.node.store);
    delivery = new Delivery(env);
  });

  afterEach(async () => {
    await env.close();
  });

  async function expectNotIssued(ticket: string, kind: ProofSelection): Promise<void> {
    const error = await failureOf(service.proofs(SENDER, ticket, kind));
    expect(error).toBeInstanceOf(ProofNotIssuedError);
    expect(error).toMatchObject({
      code: 'PROOF_B01',
      kind: 'BusinessError',
      origin: 'Consumer',
      message: 'The proof is not issued yet',
    });
  }

  it('PENDING: RECEIPT is the receipt byte for byte, ALL is the receipt alone, the others PROOF_B01', async () => {
    const receipt = await acceptItem(env, 'pending');

    const asked = await service.proofs(SENDER, receipt.ticket, 'RECEIPT');
    expect(asked).toEqual({
      ticket: receipt.ticket,
      token: 'pending',
      proofs: [expected('RECEIPT', receipt)],
    });
    expect(asked.proofs[0].content.equals(receipt.content)).toBe(true);
    expect(asked.proofs[0].signature.equals(receipt.signature)).toBe(true);

    await expect(service.proofs(SENDER, receipt.ticket, 'ALL')).resolves.toEqual({
      ticket: receipt.ticket,
      token: 'pending',
      proofs: [expected('RECEIPT', receipt)],
    });
    await expectNotIssued(receipt.ticket, 'DISPATCH');
    await expectNotIssued(receipt.ticket, 'CONSULTATION');
  });

  it('SENT: DISPATCH is the ProofOfDispatch as stored, ALL is RECEIPT then DISPATCH, CONSULTATION PROOF_B01', async () => {
    const receipt = await acceptItem(env, 'sent');
    const dispatch = await delivery.publish(receipt.ticket, 'ebox-msg-1');

    await expect(service.proofs(SENDER, receipt.ticket, 'DISPATCH')).resolves.toEqual({
      ticket: receipt.ticket,
      token: 'sent',
      proofs: [expected('DISPATCH', dispatch)],
    });
    await expect(service.proofs(SENDER, receipt.ticket, 'RECEIPT')).resolves.toMatchObject({
      proofs: [expected('RECEIPT', receipt)],
    });
    await expect(service.proofs(SENDER, receipt.ticket, 'ALL')).resolves.toEqual({
      ticket: receipt.ticket,
      token: 'sent',
      proofs: [expected('RECEIPT', receipt), expected('DISPATCH', dispatch)],
    });
    await expectNotIssued(receipt.ticket, 'CONSULTATION');
  });

  it('CONSULTED: every kind answers its proof, ALL the three in the order RECEIPT, DISPATCH, CONSULTATION', async () => {
    const receipt = await acceptItem(env, 'consulted');
    const dispatch = await delivery.publish(receipt.ticket, 'ebox-msg-2', true);
    env.clock.advance(30 * MINUTE);
    const consultation = await delivery.consult(receipt.ticket, new Date(env.clock.now().getTime() - MINUTE));

    const all = await service.proofs(SENDER, receipt.ticket, 'ALL');
    expect(all).toEqual({
      ticket: receipt.ticket,
      token: 'consulted',
      proofs: [
        expected('RECEIPT', receipt),
        expected('DISPATCH', dispatch),
        expected('CONSULTATION', consultation),
      ],
    });
    for (const view of all.proofs) {
      await expect(service.proofs(SENDER, receipt.ticket, view.kind)).resolves.toEqual({
        ticket: receipt.ticket,
        token: 'consulted',
        proofs: [view],
      });
    }
  });

  it('ERROR: the receipt stays available; DISPATCH and CONSULTATION are PROOF_B01, ALL never is', async () => {
    const receipt = await acceptItem(env, 'failed');
    await delivery.fail(receipt.ticket, 'recipient unknown to the e-Box');

    await expect(service.proofs(SENDER, receipt.ticket, 'ALL')).resolves.toEqual({
      ticket: receipt.ticket,
      token: 'failed',
      proofs: [expected('RECEIPT', receipt)],
    });
    await expectNotIssued(receipt.ticket, 'DISPATCH');
    await expectNotIssued(receipt.ticket, 'CONSULTATION');
  });

  it('another sender (CBE or application) and an unknown ticket get REPO_B01 for every kind, even one not issued', async () => {
    const receipt = await acceptItem(env, 'foreign');
    await delivery.publish(receipt.ticket, 'ebox-msg-3');
    const senders = [OTHER_SENDER, { cbe: SENDER.cbe, applicationId: 'another-application' }];
    const kinds: ProofSelection[] = ['RECEIPT', 'DISPATCH', 'CONSULTATION', 'ALL'];
    for (const kind of kinds) {
      // Each failure taken as it happens: on a pool (PostgreSQL) the attempts run side by side.
      const failures = [
        ...senders.map((sender) => service.proofs(sender, receipt.ticket, kind)),
        service.proofs(SENDER, 'ZZZZZZZZZZZZZ', kind),
      ].map(failureOf);
      for (const failure of failures) {
        const error = await failure;
        expect(error).toBeInstanceOf(TicketNotFoundError);
        expect(error).toMatchObject({ code: 'REPO_B01', kind: 'BusinessError' });
      }
    }
  });

  it('checks ownership first: a foreign ticket costs the one lookup an unknown one does, no proof read', async () => {
    const receipt = await acceptItem(env, 'same-work');
    await delivery.publish(receipt.ticket, 'ebox-msg-4');
    await delivery.consult(receipt.ticket, env.clock.now());
    const queries: string[] = [];
    const recorder: EntitySubscriberInterface = {
      beforeQuery: (event) => {
        queries.push(event.query);
      },
    };
    env.node.dataSource.subscribers.push(recorder);

    for (const kind of ['RECEIPT', 'DISPATCH', 'CONSULTATION', 'ALL'] as const) {
      await service.proofs(OTHER_SENDER, receipt.ticket, kind).catch(() => undefined);
      const foreign = queries.splice(0);
      await service.proofs(OTHER_SENDER, 'ZZZZZZZZZZZZZ', kind).catch(() => undefined);
      const unknown = queries.splice(0);

      expect(foreign).toHaveLength(1);
      expect(foreign[0]).toMatch(/sender_cbe/);
      expect(unknown).toEqual(foreign);
    }
  });
});
