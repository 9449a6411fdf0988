import type { Clock } from '../clock/clock';
import { dateField, failureOf, jsonObjectOf, stringField } from './ebox-answer';
import type { EboxClientSettings } from './ebox-client-settings';
import { eboxGet } from './ebox-request';
import type { EboxTokenClient } from './ebox-token-client';
import { PermanentPublicationError, TransientPublicationError } from './publication-errors';

/** Whether the recipient has opened the message in the e-Box. */
export type EboxReadStatus = 'READ' | 'UNREAD';

/** What the e-Box says about one published message (`GET {base}/ebox/messages/{id}`). */
export interface EboxMessageStatus {
  messageId: string;
  readStatus: EboxReadStatus;
  /** When the recipient first opened it; undefined when unread, or read but the e-Box gave no readDate. */
  readAt: Date | undefined;
  /** When the e-Box received the message, when it said so. */
  receiptDate: Date | undefined;
}

/** `readStatus` as the e-Box writes it (any case); a `readDate` alone also means read. */
function readStatusOf(body: Record<string, unknown> | undefined): EboxReadStatus | undefined {
  const raw = stringField(body, 'readStatus')?.toUpperCase();
  if (raw === 'READ' || raw === 'UNREAD') return raw;
  if (raw === undefined && dateField(body, 'readDate') !== undefined) return 'READ';
  return undefined;
}

/**
 * Reads the status of published messages in the e-Box (`GET {base}/ebox/messages/{id}`): mainly whether
 * and when the recipient opened them. Failures are {@link TransientPublicationError} or
 * {@link PermanentPublicationError} only; a 404 is a permanent error: the e-Box does not know the message.
 */
export class EboxMessageStatusClient {
  constructor(
    private readonly settings: EboxClientSettings,
    private readonly tokens: EboxTokenClient,
    private readonly clock: Clock,
  ) {}

  /**
   * The message's current status.
   * @throws TransientPublicationError when the e-Box could not answer (or answered something unreadable);
   *   PermanentPublicationError when it refused, status 404 when it does not know the message
   */
  async status(messageId: string): Promise<EboxMessageStatus> {
    const response = await eboxGet(
      this.settings,
      this.tokens,
      `/ebox/messages/${encodeURIComponent(messageId)}`,
    );
    if (response.status === 404) {
      const body = jsonObjectOf(response);
      throw new PermanentPublicationError(
        404,
        stringField(body, 'code') ?? 'HTTP_404',
        `the e-Box does not know message ${messageId}`,
      );
    }
    if (response.status !== 200) throw failureOf(response, this.clock);
    const body = jsonObjectOf(response);
    const readStatus = readStatusOf(body);
    if (readStatus === undefined) {
      throw new TransientPublicationError(
        'the e-Box message status has no readable readStatus',
        undefined,
        200,
      );
    }
    return {
      messageId: stringField(body, 'messageId') ?? messageId,
      readStatus,
      readAt: readStatus === 'READ' ? dateField(body, 'readDate') : undefined,
      receiptDate: dateField(body, 'receiptDate'),
    };
  }
}
