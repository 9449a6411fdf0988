import type { StagedContent } from '../../domain/model';
import { AttachmentReferenceError } from '../../errors/faults';
import { ServiceError } from '../../errors/service-error';
import type { AttachmentSource } from '../operation-handler';
import type { SendDocumentRequestV1 } from './map-send-document';

/** Where one attachment's bytes go while they arrive. */
export interface AttachmentStager {
  stage(source: NodeJS.ReadableStream, options: { sha512: boolean }): Promise<StagedContent>;
}

/**
 * Reads the request's attachment parts in arrival order and stages each one that the payload references,
 * hashing with the algorithm its Digest declares. A part that nothing references, a reference without a
 * part, or a part sent twice is FILE_B04 (the rest of the request is then not read).
 */
export async function stageReferencedAttachments(
  attachments: AttachmentSource,
  request: SendDocumentRequestV1,
  stager: AttachmentStager,
): Promise<{ document: StagedContent; annexes: StagedContent[] }> {
  const { command } = request;
  const wanted = new Map<string, { index: number; sha512: boolean }>();
  wanted.set(request.documentContentId, { index: 0, sha512: command.document.digest.method === 'SHA-512' });
  request.annexContentIds.forEach((contentId, position) =>
    wanted.set(contentId, {
      index: position + 1,
      sha512: command.annexes[position].digest.method === 'SHA-512',
    }),
  );

  const staged: (StagedContent | undefined)[] = new Array(wanted.size).fill(undefined);
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
  const [document, ...annexes] = staged as StagedContent[];
  return { document, annexes };
}
