import type { IssuedReceipt, SendDocumentCommand, Sender, StagedContent } from '../domain/model';
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

/** Whether a file's bytes must also be hashed with SHA-512 (its Digest declares it). */
export function wantsSha512(file: { digest: { method: string } }): boolean {
  return file.digest.method === 'SHA-512';
}
