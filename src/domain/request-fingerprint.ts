import { hash } from 'node:crypto';
import type { Recipient, StagedContent } from './model';

/**
 * What makes two sends with the same Token "the same request": the recipient (kind, identifier,
 * quality code) and the bytes of the document and of each annex, in order. The bytes are represented
 * by their SHA-256 as computed while staging (not by the declared digests, which were checked against
 * them), so a retry that declares SHA-512 instead of SHA-256 for the same bytes is still the same
 * request. Returns 64 lowercase hex digits.
 */
export function requestFingerprint(recipient: Recipient, contents: readonly StagedContent[]): string {
  const recipientId = recipient.kind === 'citizen' ? recipient.inss : recipient.cbe;
  const canonical = JSON.stringify([
    'registered-mail-request/v1',
    recipient.kind,
    recipientId,
    recipient.qualityCode,
    contents.map((content) => content.sha256.toString('hex')),
  ]);
  return hash('sha256', canonical, 'hex');
}
