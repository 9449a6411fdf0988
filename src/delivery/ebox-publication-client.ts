import type { Clock } from '../clock/clock';
import { DOCUMENT_PART_NAME, annexPartName, buildMessageToPublish } from './build-message-to-publish';
import {
  MAX_EBOX_ANSWER_BYTES,
  failureOf,
  jsonObjectOf,
  jsonValueOf,
  dateField,
  stringField,
} from './ebox-answer';
import { type EboxClientSettings, eboxUrl } from './ebox-client-settings';
import { eboxGet, withBearerToken } from './ebox-request';
import type { EboxTokenClient } from './ebox-token-client';
import { type HttpExchangeResponse, httpExchange } from './http-exchange';
import { type FormPart, multipartFormBody } from './multipart-form-body';
import type { PublicationFile, PublicationItem, PublicationResult } from './publication-item';
import { TransientPublicationError } from './publication-errors';

const OCTET_STREAM = 'application/octet-stream';

function filePart(name: string, file: PublicationFile): FormPart {
  return {
    name,
    fileName: file.fileName,
    contentType: file.mime ?? OCTET_STREAM,
    content: () => file.open(),
  };
}

/** The message of a status search answer: an array, `{items|messages: [...]}`, or one message. */
function firstMessageOf(value: unknown): Record<string, unknown> | undefined {
  const asObject = (candidate: unknown) =>
    typeof candidate === 'object' && candidate !== null && !Array.isArray(candidate)
      ? (candidate as Record<string, unknown>)
      : undefined;
  if (Array.isArray(value)) return asObject(value[0]);
  const object = asObject(value);
  for (const key of ['items', 'messages', 'results']) {
    const list = object?.[key];
    if (Array.isArray(list)) return asObject(list[0]);
  }
  return object;
}

/**
 * Publishes items into the e-Box (`POST {base}/ebox/messages`, multipart/form-data): the
 * `messageToPublish` JSON part, then the document and the annexes streamed from their files.
 * The ticket is the `Idempotency-Key`; a 409 (already published) is a success that recovers the
 * message id. Failures are {@link TransientPublicationError} or `PermanentPublicationError` only.
 */
export class EboxPublicationClient {
  constructor(
    private readonly settings: EboxClientSettings,
    private readonly tokens: EboxTokenClient,
    private readonly clock: Clock,
  ) {}

  /**
   * Publishes one item (or recognises its earlier publication).
   * @throws TransientPublicationError when it may succeed later; PermanentPublicationError when refused
   */
  async publish(item: PublicationItem): Promise<PublicationResult> {
    const response = await withBearerToken(this.tokens, (token) => this.send(item, token));
    if (response.status === 201 || response.status === 200) return this.accepted(response);
    if (response.status === 409) return this.alreadyPublished(item.ticket, response);
    throw failureOf(response, this.clock);
  }

  private send(item: PublicationItem, token: string): Promise<HttpExchangeResponse> {
    const message = Buffer.from(JSON.stringify(buildMessageToPublish(item)), 'utf8');
    const body = multipartFormBody([
      { name: 'messageToPublish', contentType: 'application/json', content: message },
      filePart(DOCUMENT_PART_NAME, item.document),
      ...item.annexes.map((annex, index) => filePart(annexPartName(index), annex)),
    ]);
    return httpExchange({
      method: 'POST',
      url: eboxUrl(this.settings.baseUrl, '/ebox/messages'),
      headers: {
        Authorization: `Bearer ${token}`,
        'Idempotency-Key': item.ticket,
        'Content-Type': body.contentType,
        Accept: 'application/json',
      },
      body: () => body.chunks(),
      timeoutMs: this.settings.timeoutMs,
      maxResponseBytes: MAX_EBOX_ANSWER_BYTES,
    });
  }

  private accepted(response: HttpExchangeResponse): PublicationResult {
    const body = jsonObjectOf(response);
    const messageId = stringField(body, 'messageId');
    if (messageId === undefined) {
      // Published but unreadable: the retry's 409 will recover the message id.
      throw new TransientPublicationError(
        `the e-Box answered ${response.status} without a messageId`,
        undefined,
        response.status,
      );
    }
    return {
      messageId,
      publishedAt: this.clock.now(),
      noDigitalUser: stringField(body, 'code') === 'NO_DIGITAL_USER',
      alreadyPublished: false,
    };
  }

  private async alreadyPublished(ticket: string, conflict: HttpExchangeResponse): Promise<PublicationResult> {
    let message = jsonObjectOf(conflict);
    if (stringField(message, 'messageId') === undefined) message = await this.searchByIdempotencyKey(ticket);
    const messageId = stringField(message, 'messageId');
    if (messageId === undefined) {
      throw new TransientPublicationError(
        'the e-Box says the item was published but finds no message for it',
      );
    }
    const receiptDate = dateField(message, 'receiptDate') ?? (await this.receiptDateOf(messageId));
    return {
      messageId,
      publishedAt: receiptDate ?? this.clock.now(),
      noDigitalUser: stringField(message, 'code') === 'NO_DIGITAL_USER',
      alreadyPublished: true,
    };
  }

  /**
   * The e-Box's receiptDate of an earlier publication (`GET {base}/ebox/messages/{id}`), so the dispatch
   * time is the first publication's, not the time we learned of it; undefined when the e-Box cannot tell.
   */
  private async receiptDateOf(messageId: string): Promise<Date | undefined> {
    try {
      const response = await eboxGet(
        this.settings,
        this.tokens,
        `/ebox/messages/${encodeURIComponent(messageId)}`,
      );
      return response.status === 200 ? dateField(jsonObjectOf(response), 'receiptDate') : undefined;
    } catch {
      return undefined; // the message id is what matters; the time falls back to now
    }
  }

  private async searchByIdempotencyKey(ticket: string): Promise<Record<string, unknown> | undefined> {
    const response = await eboxGet(this.settings, this.tokens, '/ebox/messages', { idempotencyKey: ticket });
    if (response.status !== 200) throw failureOf(response, this.clock);
    return firstMessageOf(jsonValueOf(response));
  }
}
