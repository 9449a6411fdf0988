/** Where and how the e-Box clients reach the e-Box Message Registry. */
export interface EboxClientSettings {
  /** RM_EBOX_URL: base URL of the e-Box API (e.g. `https://ebox.example/api`); paths are appended to it. */
  baseUrl: string;
  /** RM_EBOX_CLIENT_ID: OAuth2 client id of this service. */
  clientId: string;
  /** RM_EBOX_CLIENT_SECRET: OAuth2 client secret of this service. */
  clientSecret: string;
  /** RM_EBOX_TIMEOUT_MS: how long a call may go without any progress (connection, upload, answer). */
  timeoutMs: number;
}

/** The client credentials the e-Box simulator accepts by default (its DEV_CREDENTIALS; development only). */
export const DEV_EBOX_CLIENT_ID = 'registered-mail-dev';
/** See {@link DEV_EBOX_CLIENT_ID}. */
export const DEV_EBOX_CLIENT_SECRET = 'registered-mail-dev-secret';
/** Default of RM_EBOX_TIMEOUT_MS. */
export const DEFAULT_EBOX_TIMEOUT_MS = 30_000;

/** Error in an RM_EBOX_* setting. */
export class EboxSettingsError extends Error {}

function optional(env: NodeJS.ProcessEnv, name: string): string | undefined {
  const raw = env[name];
  return raw === undefined || raw === '' ? undefined : raw;
}

/**
 * Reads RM_EBOX_CLIENT_ID, RM_EBOX_CLIENT_SECRET and RM_EBOX_TIMEOUT_MS; the base URL is RM_EBOX_URL, or
 * `fallbackBaseUrl` (the embedded simulator's address) when RM_EBOX_URL is not set.
 * @throws EboxSettingsError when a value is malformed, or when neither URL is available
 */
export function eboxClientSettingsFromEnv(
  env: NodeJS.ProcessEnv,
  fallbackBaseUrl?: string,
): EboxClientSettings {
  const baseUrl = optional(env, 'RM_EBOX_URL') ?? fallbackBaseUrl;
  if (baseUrl === undefined) throw new EboxSettingsError('RM_EBOX_URL is not set and no simulator runs');
  let parsed: URL;
  try {
    parsed = new URL(baseUrl);
  } catch {
    throw new EboxSettingsError('RM_EBOX_URL must be an absolute http or https URL');
  }
  if (!/^https?:$/.test(parsed.protocol) || parsed.search || parsed.hash || parsed.username) {
    throw new EboxSettingsError('RM_EBOX_URL must be an http or https URL without query or credentials');
  }
  const rawTimeout = optional(env, 'RM_EBOX_TIMEOUT_MS');
  const timeoutMs = rawTimeout === undefined ? DEFAULT_EBOX_TIMEOUT_MS : Number(rawTimeout);
  if (!Number.isSafeInteger(timeoutMs) || timeoutMs <= 0) {
    throw new EboxSettingsError('RM_EBOX_TIMEOUT_MS must be a positive integer');
  }
  return {
    baseUrl,
    clientId: optional(env, 'RM_EBOX_CLIENT_ID') ?? DEV_EBOX_CLIENT_ID,
    clientSecret: optional(env, 'RM_EBOX_CLIENT_SECRET') ?? DEV_EBOX_CLIENT_SECRET,
    timeoutMs,
  };
}

/** `path` (starting with `/`) under the base URL, keeping the base URL's own path. */
export function eboxUrl(baseUrl: string, path: string): URL {
  return new URL(baseUrl.replace(/\/+$/, '') + path);
}
