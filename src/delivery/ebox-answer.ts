import type { Clock } from '../clock/clock';
import type { HttpExchangeResponse } from './http-exchange';
import { PermanentPublicationError, TransientPublicationError } from './publication-errors';

/** Largest e-Box answer read (they are small JSON documents). */
export const MAX_EBOX_ANSWER_BYTES = 256 * 1024;

/** The answer's JSON object, or undefined when the body is empty, not JSON, or not an object. */
export function jsonObjectOf(response: HttpExchangeResponse): Record<string, unknown> | undefined {
  if (response.body.length === 0) return undefined;
  try {
    const value: unknown = JSON.parse(response.body.toString('utf8'));
    return typeof value === 'object' && value !== null && !Array.isArray(value)
      ? (value as Record<string, unknown>)
      : undefined;
  } catch {
    return undefined;
  }
}

/** The answer's JSON value (any shape), or undefined when it is not JSON. */
export function jsonValueOf(response: HttpExchangeResponse): unknown {
  try {
    return JSON.parse(response.body.toString('utf8'));
  } catch {
    return undefined;
  }
}

/** A string field of a JSON object, or undefined. */
export function stringField(object: Record<string, unknown> | undefined, name: string): string | undefined {
  const value = object?.[name];
  return typeof value === 'string' && value !== '' ? value : undefined;
}

/** A date field of an e-Box answer (ISO 8601), or undefined when absent or not a date. */
export function dateField(object: Record<string, unknown> | undefined, name: string): Date | undefined {
  const raw = stringField(object, name);
  const at = raw === undefined ? Number.NaN : Date.parse(raw);
  return Number.isNaN(at) ? undefined : new Date(at);
}

/** `Retry-After` in milliseconds (delay-seconds or an HTTP date, read against the clock). */
export function retryAfterMs(response: HttpExchangeResponse, clock: Clock): number | undefined {
  const raw = response.headers['retry-after']?.trim();
  if (raw === undefined || raw === '') return undefined;
  if (/^\d+$/.test(raw)) return Number(raw) * 1000;
  const at = Date.parse(raw);
  return Number.isNaN(at) ? undefined : Math.max(0, at - clock.now().getTime());
}

/**
 * The typed error for an answer that is not a success: 5xx, 408 and 429 may pass (transient, with
 * Retry-After); any other status is a refusal (permanent, with the e-Box's `code` and `message`).
 */
export function failureOf(
  response: HttpExchangeResponse,
  clock: Clock,
): TransientPublicationError | PermanentPublicationError {
  const { status } = response;
  const body = jsonObjectOf(response);
  const code = stringField(body, 'code');
  const message = stringField(body, 'message');
  if (status >= 500 || status === 429 || status === 408) {
    const detail = code ? ` ${code}${message ? `: ${message}` : ''}` : '';
    return new TransientPublicationError(
      `the e-Box answered ${status}${detail}`,
      retryAfterMs(response, clock),
      status,
    );
  }
  return new PermanentPublicationError(status, code ?? `HTTP_${status}`, message);
}
