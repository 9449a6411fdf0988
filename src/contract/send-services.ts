import type { IssuedReceipt, SendDocumentCommand, Sender, StagedContent } from '../domain/model';
import type { MappedOperationContext } from './operation-handler';
import type { AttachmentStager } from './stage-attachments';

/** What a port hands the domain to send one item: the command and its staged bytes. */
export interface SendInput {
  sender: Sender;
  command: SendDocumentCommand;
  document: StagedContent;
  annexes: StagedContent[];
  requestId: string;
}

/**
 * The domain services behind a send, the same for both ports (v1 sendDocument, RegisteredMailService
 * SendRegisteredMail): the same command, the same precheck, the same staging, the same send.
 */
export interface SendServices {
  /**
   * Checks that need no bytes (digest methods, recipient identifiers, the recipient's e-Box status): run
   * before reading attachments, so a refused request stages and stores nothing.
   */
  precheck(command: SendDocumentCommand): Promise<void>;
  send(input: SendInput): Promise<IssuedReceipt>;
  /** A staging session per request; discarded whatever the outcome. */
  openStaging(): AttachmentStager & { discard(): Promise<void> };
}

/** The staged bytes of an item: its document and its annexes, in the order the command describes them. */
export interface StagedFiles {
  document: StagedContent;
  annexes: StagedContent[];
}

/**
 * A send as both ports make it: the precheck before any byte is staged or any part read (a refused
 * request stages and stores nothing), the item's bytes staged by `stage`, the item sent and logged; the
 * staging session discarded whatever the outcome.
 */
export async function sendStaged(
  services: SendServices,
  command: SendDocumentCommand,
  stage: (stager: AttachmentStager) => Promise<StagedFiles>,
  { sender, requestId, log }: Pick<MappedOperationContext, 'sender' | 'requestId' | 'log'>,
): Promise<IssuedReceipt> {
  await services.precheck(command);
  const staging = services.openStaging();
  try {
    const { document, annexes } = await stage(staging);
    const receipt = await services.send({ sender, command, document, annexes, requestId });
    log.info('registered mail accepted', { ticket: receipt.ticket });
    return receipt;
  } finally {
    await staging.discard();
  }
}

/** Whether a file's bytes must also be hashed with SHA-512 (its Digest declares it). */
export function wantsSha512(file: { digest: { method: string } }): boolean {
  return file.digest.method === 'SHA-512';
}
