import { timingSafeEqual } from 'node:crypto';
import type { Clock } from '../clock/clock';
import {
  ContentValidationError,
  DigestMismatchError,
  Sha1DigestRefusedError,
  TicketCreationError,
  TokenConflictError,
} from '../errors/faults';
import type { Logger } from '../logging/logger';
import { isValidCbe, normaliseCbe } from './identifiers/cbe';
import { isValidInss } from './identifiers/inss';
import type { ItemStore, PriorAcceptance } from './item-store';
import type { Digest, IssuedReceipt, Recipient, Sender, SendDocumentCommand, StagedContent } from './model';
import type { ReceiptIssuer } from './receipt-issuer';
import { requestFingerprint } from './request-fingerprint';
import { TICKET_PATTERN, timeOrderedTickets, type TicketGenerator } from './ticket-generator';

/** How many fresh tickets an accept tries before giving up with TNG_T02. */
export const DEFAULT_MAX_TICKET_ATTEMPTS = 5;

/**
 * Refuses SHA-1 anywhere in the request (FILE_B03). Callers run it BEFORE reading the attachments, so a
 * refused request costs no staging.
 */
export function assertDigestMethodsAccepted(
  command: Pick<SendDocumentCommand, 'document' | 'annexes'>,
): void {
  const digests = [command.document.digest, ...command.annexes.map((annex) => annex.digest)];
  if (digests.some((digest) => digest.method === 'SHA-1')) throw new Sha1DigestRefusedError();
}

/**
 * Checks the recipient's identifier (SOA-03007): INSS check digits for a citizen, CBE check digits for
 * an enterprise (the 9-digit form is accepted, as the contract's pattern allows it).
 */
export function assertRecipientValid(recipient: Recipient): void {
  if (recipient.kind === 'citizen') {
    if (!isValidInss(recipient.inss)) throw new ContentValidationError('recipient INSS is not valid');
  } else if (recipient.kind === 'enterprise') {
    if (!isValidCbe(normaliseCbe(recipient.cbe)))
      throw new ContentValidationError('recipient CBE is not valid');
  } else {
    throw new ContentValidationError('recipient must be a Citizen or an Enterprise');
  }
}

/** The recipient with a 10-digit CBE: the form stored, fingerprinted and stated in the receipt. */
function normaliseRecipient(recipient: Recipient): Recipient {
  return recipient.kind === 'enterprise' ? { ...recipient, cbe: normaliseCbe(recipient.cbe) } : recipient;
}

/**
 * Checks a declared digest against the staged bytes (FILE_B01), in constant time. The staging must have
 * computed SHA-512 when the description declares it.
 */
export function assertDigestMatches(declared: Digest, staged: StagedContent): void {
  let actual: Buffer;
  switch (declared.method) {
    case 'SHA-256':
      actual = staged.sha256;
      break;
    case 'SHA-512':
      if (staged.sha512 === undefined) throw new Error('SHA-512 declared but not computed while staging');
      actual = staged.sha512;
      break;
    default:
      throw new Sha1DigestRefusedError();
  }
  if (declared.value.length !== actual.length || !timingSafeEqual(declared.value, actual)) {
    throw new DigestMismatchError();
  }
}

/** One `sendDocument` call, as the SOAP port hands it over. */
export interface SendDocumentInput {
  /** The authenticated sender (from its certificate). */
  sender: Sender;
  command: SendDocumentCommand;
  /** The staged main document. */
  document: StagedContent;
  /** The staged annexes, in the order of `command.annexes`. */
  annexes: StagedContent[];
  /** The request id (the fault `Id`), for the log and the item's history. */
  requestId: string;
}

/** What {@link SendDocumentService} works with. */
export interface SendDocumentDependencies {
  store: ItemStore;
  receiptIssuer: ReceiptIssuer;
  clock: Clock;
  /** Defaults to {@link timeOrderedTickets} on `clock`; tests inject collisions. */
  generateTicket?: TicketGenerator;
  /** Defaults to {@link DEFAULT_MAX_TICKET_ATTEMPTS}. */
  maxTicketAttempts?: number;
  logger?: Logger;
}

/**
 * `sendDocument`: checks the request, answers a retry with the receipt already issued, or accepts a new
 * item: new ticket, receipt issued, then item, files, history, receipt and blobs stored together.
 * Nothing is stored unless the whole request succeeds; the caller discards the staging session
 * whatever the outcome.
 */
export class SendDocumentService {
  private readonly store: ItemStore;
  private readonly receiptIssuer: ReceiptIssuer;
  private readonly clock: Clock;
  private readonly generateTicket: TicketGenerator;
  private readonly maxTicketAttempts: number;
  private readonly logger: Logger | undefined;

  constructor(dependencies: SendDocumentDependencies) {
    this.store = dependencies.store;
    this.receiptIssuer = dependencies.receiptIssuer;
    this.clock = dependencies.clock;
    this.generateTicket = dependencies.generateTicket ?? timeOrderedTickets(dependencies.clock);
    this.maxTicketAttempts = dependencies.maxTicketAttempts ?? DEFAULT_MAX_TICKET_ATTEMPTS;
    this.logger = dependencies.logger;
  }

  async send(input: SendDocumentInput): Promise<IssuedReceipt> {
    const { sender, document, annexes, requestId } = input;
    assertDigestMethodsAccepted(input.command);
    assertRecipientValid(input.command.recipient);
    const command: SendDocumentCommand = {
      ...input.command,
      recipient: normaliseRecipient(input.command.recipient),
    };
    if (annexes.length !== command.annexes.length) {
      throw new Error(`${annexes.length} staged annexes for ${command.annexes.length} described ones`);
    }
    assertDigestMatches(command.document.digest, document);
    command.annexes.forEach((annex, index) => assertDigestMatches(annex.digest, annexes[index]));

    const fingerprint = requestFingerprint(command.recipient, [document, ...annexes]);
    if (command.token !== '') {
      const prior = await this.store.findByToken(sender, command.token);
      if (prior) return this.answerRetry(prior, fingerprint, requestId);
    }

    for (let attempt = 1; attempt <= this.maxTicketAttempts; attempt += 1) {
      const ticket = this.generateTicket();
      if (!TICKET_PATTERN.test(ticket))
        throw new TicketCreationError({ cause: new Error('Malformed ticket') });
      const receipt = await this.receiptIssuer.issue({
        ticket,
        token: command.token,
        recipient: command.recipient,
        sender,
        document: command.document,
        annexes: command.annexes,
      });
      if (receipt.ticket !== ticket || receipt.token !== command.token) {
        throw new Error('The receipt issuer answered for another ticket or token');
      }
      const outcome = await this.store.accept({
        ticket,
        sender,
        command,
        requestFingerprint: fingerprint,
        acceptedAt: this.clock.now(),
        document,
        annexes,
        receipt,
        requestId,
      });
      switch (outcome.kind) {
        case 'accepted':
          this.logger?.info('registered mail item accepted', { requestId, ticket });
          return receipt;
        case 'token-taken':
          // A concurrent request with the same Token stored its item first: answer as its retry.
          return this.answerRetry(outcome.prior, fingerprint, requestId);
        case 'ticket-taken':
          // The receipt names the ticket, so a new ticket needs a new receipt.
          this.logger?.warn('ticket already in use; retrying with a new one', { requestId, attempt });
          break;
      }
    }
    throw new TicketCreationError({
      cause: new Error(`No free ticket after ${this.maxTicketAttempts} attempts`),
    });
  }

  /** Same sender, same Token: the same receipt when the request is the same, REPO_B03 otherwise. */
  private async answerRetry(
    prior: PriorAcceptance,
    fingerprint: string,
    requestId: string,
  ): Promise<IssuedReceipt> {
    if (prior.requestFingerprint !== fingerprint) throw new TokenConflictError();
    this.logger?.info('retry answered with the receipt already issued', { requestId, ticket: prior.ticket });
    return this.store.loadReceipt(prior.ticket);
  }
}
