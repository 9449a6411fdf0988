import { randomBytes, timingSafeEqual } from 'node:crypto';
import type { Clock } from '../clock/clock';

/** The OAuth2 client allowed to take tokens. */
export interface ClientCredentials {
  clientId: string;
  clientSecret: string;
}

/** Development credentials: what the simulator accepts when none are configured. */
export const DEV_CREDENTIALS: ClientCredentials = {
  clientId: 'registered-mail-dev',
  clientSecret: 'registered-mail-dev-secret',
};

function sameText(a: string, b: string): boolean {
  const left = Buffer.from(a);
  const right = Buffer.from(b);
  return left.length === right.length && timingSafeEqual(left, right);
}

/** Issues bearer tokens to the configured client and checks them until they expire (by the Clock). */
export class TokenIssuer {
  private readonly expiries = new Map<string, number>();

  constructor(
    private readonly credentials: ClientCredentials,
    private readonly clock: Clock,
    private readonly lifetimeSeconds: number,
  ) {}

  /** A new token for the right credentials, undefined for wrong ones. */
  issue(clientId: string, clientSecret: string): { accessToken: string; expiresIn: number } | undefined {
    if (
      !sameText(clientId, this.credentials.clientId) ||
      !sameText(clientSecret, this.credentials.clientSecret)
    )
      return undefined;
    const now = this.clock.now().getTime();
    for (const [token, expiry] of this.expiries) if (expiry <= now) this.expiries.delete(token);
    const accessToken = randomBytes(32).toString('base64url');
    this.expiries.set(accessToken, now + this.lifetimeSeconds * 1000);
    return { accessToken, expiresIn: this.lifetimeSeconds };
  }

  /** Whether an `Authorization` header carries a token issued here and not yet expired. */
  accepts(authorization: string | undefined): boolean {
    const match = /^Bearer\s+(\S+)$/i.exec(authorization ?? '');
    if (!match) return false;
    const expiry = this.expiries.get(match[1]);
    return expiry !== undefined && this.clock.now().getTime() < expiry;
  }
}
