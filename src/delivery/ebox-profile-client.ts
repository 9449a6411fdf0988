import type { Clock } from '../clock/clock';
import { failureOf, jsonObjectOf } from './ebox-answer';
import type { EboxClientSettings } from './ebox-client-settings';
import { eboxGet } from './ebox-request';
import type { EboxTokenClient } from './ebox-token-client';
import type { EboxRecipient } from './publication-item';
import { TransientPublicationError } from './publication-errors';

/** What the e-Box says about a recipient's e-Box (what CheckEboxStatus checks). */
export interface EboxProfile {
  /** The recipient has an e-Box. */
  exists: boolean;
  /** The recipient activated it (opened it at least once). */
  activated: boolean;
  /** The e-Box is the recipient's preferred channel. */
  preferred: boolean;
}

/** `preferredChannel` as a boolean, or as a channel name where `ebox` means the e-Box. */
function isEboxPreferred(value: unknown): boolean {
  if (typeof value === 'boolean') return value;
  return typeof value === 'string' && value.replace(/[-_\s]/g, '').toLowerCase() === 'ebox';
}

/**
 * Looks up recipients' e-Box profiles: `GET {base}/ebox/profiles/citizen/{ssin}` or
 * `/enterprise/{cbe}`. A 404 means the recipient has no e-Box.
 */
export class EboxProfileClient {
  constructor(
    private readonly settings: EboxClientSettings,
    private readonly tokens: EboxTokenClient,
    private readonly clock: Clock,
  ) {}

  /**
   * The recipient's profile.
   * @throws TransientPublicationError when the e-Box could not answer; PermanentPublicationError when refused
   */
  async lookup(recipient: EboxRecipient): Promise<EboxProfile> {
    const path =
      recipient.kind === 'citizen'
        ? `/ebox/profiles/citizen/${encodeURIComponent(recipient.inss)}`
        : `/ebox/profiles/enterprise/${encodeURIComponent(recipient.cbe)}`;
    const response = await eboxGet(this.settings, this.tokens, path);
    if (response.status === 404) return { exists: false, activated: false, preferred: false };
    if (response.status !== 200) throw failureOf(response, this.clock);
    const body = jsonObjectOf(response);
    if (typeof body?.exists !== 'boolean') {
      throw new TransientPublicationError('the e-Box profile answer has no exists field', undefined, 200);
    }
    const exists = body.exists;
    return {
      exists,
      activated: exists && body.activated === true,
      preferred: exists && isEboxPreferred(body.preferredChannel),
    };
  }
}
