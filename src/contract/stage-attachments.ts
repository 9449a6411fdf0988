import type { StagedContent } from '../domain/model';
import { AttachmentReferenceError } from '../errors/faults';
import { ServiceError } from '../errors/service-error';
import type { AttachmentSource } from './operation-handler';

/** Where one file's bytes go while they arrive (a staging session of `src/storage/staging-area.ts`). */
export interface AttachmentStager {
  stage(source: NodeJS.ReadableStream, options: { sha512: boolean }): Promise<StagedContent>;
}

/** A MIME part the payload references (by swaRef `cid:` in v1, by `xop:Include` under MTOM). */
export interface ExpectedAttachment {
  contentId: string;
  /** Also hash with SHA-512: the file's Digest declares it. */
  sha512: boolean;
}

/**
 * Reads the request's attachment parts in arrival order and stages each one that the payload references,
 * hashing with the algorithm its Digest declares. A part that nothing references, a reference without a
 * part, or a part sent (or referenced) twice is FILE_B04 (the rest of the request is then not read).
 * Always reads the parts to the end, so a request with no reference still refuses stray parts.
 * @returns the staged contents in the order of `expected`
 */
export async function stageReferencedAttachments(
  attachments: AttachmentSource,
  expected: readonly ExpectedAttachment[],
  stager: AttachmentStager,
): Promise<StagedContent[]> {
  const wanted = new Map<string, { index: number; sha512: boolean }>();
  expected.forEach(({ contentId, sha512 }, index) => wanted.set(contentId, { index, sha512 }));
  if (wanted.size !== expected.length) throw new AttachmentReferenceError('a MIME part is referenced twice');

  const staged: (StagedContent | undefined)[] = new Array(expected.length).fill(undefined);
  for (;;) {
    const part = await attachments.nextAttachment();
    if (!part) break;
    const target = wanted.get(part.contentId);
    if (!target) throw new AttachmentReferenceError('a MIME part is not referenced by any Content');
    if (staged[target.index]) throw new AttachmentReferenceError('a MIME part is sent twice');
    try {
      staged[target.index] = await stager.stage(part.content, { sha512: target.sha512 });
    } catch (error) {
      throw error instanceof ServiceError ? error : (attachments.failure() ?? error);
    }
  }
  if (staged.some((content) => content === undefined)) {
    throw new AttachmentReferenceError('a Content references a MIME part that is not in the request');
  }
  return staged as StagedContent[];
}
