import { Readable } from 'node:stream';
import type { StagedContent } from '../../domain/model';
import type { AttachmentSource } from '../operation-handler';
import { wantsSha512 } from '../send-services';
import {
  stageReferencedAttachments,
  type AttachmentStager,
  type ExpectedAttachment,
} from '../stage-attachments';
import type { SendRegisteredMailRequest } from './map-send-registered-mail';

/**
 * Stages every file's bytes into the request's staging session, hashed as its Digest declares: inline
 * contents from their decoded bytes, MTOM/XOP parts streamed from the request as they arrive (the v1
 * port's logic: a part nothing references, a reference without its part, a part sent twice is FILE_B04).
 * The parts are read even when every content is inline, so a stray part is refused as in v1.
 */
export async function stageFileContents(
  attachments: AttachmentSource,
  request: SendRegisteredMailRequest,
  stager: AttachmentStager,
): Promise<{ document: StagedContent; annexes: StagedContent[] }> {
  const { command } = request;
  const files = [
    { content: request.documentContent, sha512: wantsSha512(command.document) },
    ...request.annexContents.map((content, position) => ({
      content,
      sha512: wantsSha512(command.annexes[position]),
    })),
  ];

  const staged: StagedContent[] = new Array<StagedContent>(files.length);
  const parts: (ExpectedAttachment & { index: number })[] = [];
  for (const [index, { content, sha512 }] of files.entries()) {
    if (content.kind === 'inline') {
      staged[index] = await stager.stage(Readable.from([content.bytes]), { sha512 });
    } else {
      parts.push({ contentId: content.contentId, sha512, index });
    }
  }
  const stagedParts = await stageReferencedAttachments(attachments, parts, stager);
  parts.forEach(({ index }, position) => (staged[index] = stagedParts[position]));

  const [document, ...annexes] = staged;
  return { document, annexes };
}
