import type { Clock } from '../clock/clock';
import { MAX_EBOX_ANSWER_BYTES, jsonObjectOf, retryAfterMs, stringField } from './ebox-answer';
import { type EboxClientSettings, eboxUrl } from './ebox-client-settings';
import { httpExchange } from './http-exchange';
import { TransientPublicationError } from './publication-errors';

/** A token is renewed this long before the e-Box says it expires (or at half its life when shorter). */
const RENEWAL_MARGIN_MS = 60_000;

interface CachedToken {
  value: string;
  renewAt: number;
}

/**
 * OAuth2 client-credentials tokens for the e-Box API (`POST {base}/oauth2/token`, client authenticated
 * with HTTP Basic): fetched on first use, kept until shortly before `expires_in` by the injected clock,
 * and shared by concurrent callers.
 */
export class EboxTokenClient {
  private cached: CachedToken | undefined;
  private pending: Promise<string> | undefined;

  constructor(
    private readonly settings: EboxClientSettings,
    private readonly clock: Clock,
  ) {}

  /**
   * A valid bearer token, from the cache or freshly fetched.
   * @throws TransientPublicationError when no token could be obtained: a refusal of our credentials is
   *   a configuration problem of this service, not a fault of the item being published
   */
  async token(): Promise<string> {
    const now = this.clock.now().getTime();
    if (this.cached && now < this.cached.renewAt) return this.cached.value;
    this.pending ??= this.fetchToken().finally(() => {
      this.pending = undefined;
    });
    return this.pending;
  }

  /** Forgets `token` (the e-Box answered 401 with it), so the next {@link token} fetches a new one. */
  invalidate(token: string): void {
    if (this.cached?.value === token) this.cached = undefined;
  }

  private async fetchToken(): Promise<string> {
    const credentials = Buffer.from(
      `${encodeURIComponent(this.settings.clientId)}:${encodeURIComponent(this.settings.clientSecret)}`,
    ).toString('base64');
    const requestedAt = this.clock.now().getTime();
    const response = await httpExchange({
      method: 'POST',
      url: eboxUrl(this.settings.baseUrl, '/oauth2/token'),
      headers: {
        Authorization: `Basic ${credentials}`,
        'Content-Type': 'application/x-www-form-urlencoded',
        Accept: 'application/json',
      },
      body: Buffer.from(new URLSearchParams({ grant_type: 'client_credentials' }).toString()),
      timeoutMs: this.settings.timeoutMs,
      maxResponseBytes: MAX_EBOX_ANSWER_BYTES,
    });
    const body = jsonObjectOf(response);
    if (response.status !== 200) {
      const reason = stringField(body, 'error') ?? stringField(body, 'code') ?? 'no reason given';
      throw new TransientPublicationError(
        `the e-Box token endpoint answered ${response.status} (${reason})`,
        retryAfterMs(response, this.clock),
        response.status,
      );
    }
    const value = stringField(body, 'access_token');
    const expiresIn = body?.expires_in;
    if (value === undefined || typeof expiresIn !== 'number' || !(expiresIn > 0)) {
      throw new TransientPublicationError(
        'the e-Box token endpoint answered without access_token/expires_in',
      );
    }
    const lifetimeMs = expiresIn * 1000;
    this.cached = { value, renewAt: requestedAt + lifetimeMs - Math.min(RENEWAL_MARGIN_MS, lifetimeMs / 2) };
    return value;
  }
}
