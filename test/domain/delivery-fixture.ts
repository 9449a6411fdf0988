/*
 * Items through their life for the read-side tests: accepted by the real SendDocumentService, then
 * published, failed or consulted through the real TypeormOutboxStore (what the delivery worker and the
 * consultation poller call), with sample proof bytes (the store checks their SHA-256, nothing else).
 */
import { createHash, randomBytes } from 'node:crypto';
import type { IssuedReceipt, ProofKind, Sender, StoredProof } from '../../src/domain/model';
import { TypeormOutboxStore } from '../../src/storage/typeorm-outbox-store';
import { commandFor, SENDER, stageBytes, type Environment } from './storage-fixture';

export const MINUTE = 60_000;
const WORKER = 'test-worker';

/** Sample evidence bytes with their real SHA-256, issued now. */
export function sampleProof(kind: ProofKind, issuedAt: Date): StoredProof {
  const content = Buffer.concat([Buffer.from(`<Evidence kind="${kind}">`), randomBytes(64)]);
  return {
    kind,
    evidenceId: `evidence-${randomBytes(8).toString('hex')}`,
    content,
    contentSha256: createHash('sha256').update(content).digest(),
    signature: randomBytes(300),
    issuedAt,
  };
}

/** Accepts an item for `sender` (a minute later on the clock than before); its receipt as issued. */
export async function acceptItem(
  env: Environment,
  token: string,
  sender: Sender = SENDER,
): Promise<IssuedReceipt> {
  env.clock.advance(MINUTE);
  const documentBytes = Buffer.from(`document of ${token}`);
  const session = env.staging.openSession();
  try {
    const document = await stageBytes(session, documentBytes);
    return await env.node.service.send({
      sender,
      command: commandFor({ token, documentBytes }),
      document,
      annexes: [],
      requestId: `request-${token}`,
    });
  } finally {
    await session.discard();
  }
}

/** Delivery's side of the store, as the worker and the poller use it. */
export class Delivery {
  private readonly outbox: TypeormOutboxStore;

  constructor(private readonly env: Environment) {
    this.outbox = new TypeormOutboxStore(env.node.dataSource, env.contents);
  }

  /** Publishes the item (a minute later); the ProofOfDispatch stored with it. */
  async publish(ticket: string, eboxMessageId: string, noDigitalUser = false): Promise<StoredProof> {
    await this.claim(ticket);
    const now = this.env.clock.now();
    const proof = sampleProof('DISPATCH', now);
    const recorded = await this.outbox.recordPublished({
      ticket,
      owner: WORKER,
      eboxMessageId,
      publishedAt: now,
      noDigitalUser,
      proof,
      recordedAt: now,
    });
    if (!recorded) throw new Error(`publication of ${ticket} not recorded`);
    return proof;
  }

  /** Publication fails for good (a minute later). */
  async fail(ticket: string, reason: string): Promise<void> {
    await this.claim(ticket);
    const recorded = await this.outbox.recordFailed({
      ticket,
      owner: WORKER,
      reason,
      recordedAt: this.env.clock.now(),
    });
    if (!recorded) throw new Error(`failure of ${ticket} not recorded`);
  }

  /** The recipient opened the item at `readAt` (the e-Box's time); the proof stored with it. */
  async consult(ticket: string, readAt: Date): Promise<StoredProof> {
    const proof = sampleProof('CONSULTATION', this.env.clock.now());
    if (!(await this.outbox.recordConsulted({ ticket, readAt, proof }))) {
      throw new Error(`consultation of ${ticket} not recorded`);
    }
    return proof;
  }

  /** Claims this item's entry (a minute later), giving back any other entry claimed with it. */
  private async claim(ticket: string): Promise<void> {
    this.env.clock.advance(MINUTE);
    const now = this.env.clock.now();
    const claimed = await this.outbox.claimDue(WORKER, now, new Date(now.getTime() + MINUTE), 100);
    for (const item of claimed) {
      if (item.ticket !== ticket) await this.outbox.releaseClaim(item.ticket, WORKER);
    }
    if (!claimed.some((item) => item.ticket === ticket)) throw new Error(`${ticket} could not be claimed`);
  }
}
