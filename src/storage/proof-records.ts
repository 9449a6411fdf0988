import type { EntityManager } from 'typeorm';
import type { ProofKind, StoredProof } from '../domain/model';
import type { ContentStore } from './content-store';
import type { RowInserter } from './row-inserter';
import { ItemProofEntity } from './entities';

/*
 * Proofs issued after the receipt: the row (`item_proof`) holds the identifier, signature and time, the
 * content store the evidence bytes (in the same transaction when they are small enough for the database). Shared by the item store (reading) and the outbox store (writing).
 */

/**
 * Stores the proof's bytes in the content store and its row, inside the caller's transaction. Throws when
 * the proof's stated SHA-256 is not its content's, and (unique violation) when the item already has a
 * proof of this kind.
 */
export async function storeProof(
  manager: EntityManager,
  contents: ContentStore,
  proofs: RowInserter<ItemProofEntity>,
  ticket: string,
  proof: StoredProof,
): Promise<void> {
  const contentSha256 = await contents.storeGenerated(manager, proof.content);
  if (!contentSha256.equals(proof.contentSha256)) {
    throw new Error(`The ${proof.kind} proof states another SHA-256 than its content has`);
  }
  await proofs.insert(manager, {
    ticket,
    kind: proof.kind,
    evidenceId: proof.evidenceId,
    contentSha256: contentSha256.toString('hex'),
    contentSize: proof.content.length,
    signature: proof.signature.toString('base64'),
    issuedAt: proof.issuedAt,
  });
}

/** The proof of this kind as stored, or `undefined` when there is none. */
export async function findProofRow(
  manager: EntityManager,
  ticket: string,
  kind: ProofKind,
): Promise<ItemProofEntity | undefined> {
  return (await manager.findOne(ItemProofEntity, { where: { ticket, kind } })) ?? undefined;
}

/** The proof of a row, its content read (and checked against its address) from the content store. */
export async function proofOfRow(row: ItemProofEntity, contents: ContentStore): Promise<StoredProof> {
  const content = await contents.read(row.contentSha256);
  return {
    kind: row.kind,
    evidenceId: row.evidenceId,
    content,
    contentSha256: Buffer.from(row.contentSha256, 'hex'),
    signature: Buffer.from(row.signature, 'base64'),
    issuedAt: row.issuedAt,
  };
}
