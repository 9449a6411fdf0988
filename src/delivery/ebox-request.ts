import { MAX_EBOX_ANSWER_BYTES } from './ebox-answer';
import { type EboxClientSettings, eboxUrl } from './ebox-client-settings';
import type { EboxTokenClient } from './ebox-token-client';
import { type HttpExchangeResponse, httpExchange } from './http-exchange';

/**
 * Sends an e-Box API request with the connection's bearer token. A 401 means the token was revoked or
 * expired early: one new token, one more attempt.
 * @param send makes the request with the given token (called at most twice)
 */
export async function withBearerToken(
  tokens: EboxTokenClient,
  send: (token: string) => Promise<HttpExchangeResponse>,
): Promise<HttpExchangeResponse> {
  const token = await tokens.token();
  const response = await send(token);
  if (response.status !== 401) return response;
  tokens.invalidate(token);
  return send(await tokens.token());
}

/**
 * `GET {base}{path}` on the e-Box API with the bearer token (see {@link withBearerToken}), JSON accepted,
 * the answer bounded by `MAX_EBOX_ANSWER_BYTES`.
 * @param path the path after the base URL, e.g. `/ebox/messages/123`
 * @param query query parameters, if any
 */
export function eboxGet(
  settings: EboxClientSettings,
  tokens: EboxTokenClient,
  path: string,
  query: Record<string, string> = {},
): Promise<HttpExchangeResponse> {
  const url = eboxUrl(settings.baseUrl, path);
  for (const [name, value] of Object.entries(query)) url.searchParams.set(name, value);
  return withBearerToken(tokens, (token) =>
    httpExchange({
      method: 'GET',
      url,
      headers: { Authorization: `Bearer ${token}`, Accept: 'application/json' },
      timeoutMs: settings.timeoutMs,
      maxResponseBytes: MAX_EBOX_ANSWER_BYTES,
    }),
  );
}
