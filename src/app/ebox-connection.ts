import path from 'node:path';
import type { Clock } from '../clock/clock';
import {
  EboxMessageStatusClient,
  EboxProfileClient,
  EboxPublicationClient,
  EboxTokenClient,
  PermanentPublicationError,
  eboxClientSettingsFromEnv,
  type EboxClientSettings,
} from '../delivery';
import type { RecipientEboxProfiles } from '../domain/ebox-status-check';
import { startEboxSimulator, type EboxSimulator } from '../ebox-simulator';
import { UnexpectedError } from '../errors/faults';
import { projectRoot } from './project-paths';

/** The e-Box the service talks to: RM_EBOX_URL's, or the embedded simulator when it is not set. */
export interface EboxConnection {
  settings: EboxClientSettings;
  /** OAuth2 tokens, shared by every client of this connection. */
  tokens: EboxTokenClient;
  profiles: EboxProfileClient;
  publication: EboxPublicationClient;
  /** Read status of published messages (consultation). */
  messageStatuses: EboxMessageStatusClient;
  /** The embedded simulator, when RM_EBOX_URL is not set. */
  simulator: EboxSimulator | undefined;
  /** Stops the embedded simulator, if any. */
  close(): Promise<void>;
}

/**
 * Connects to the e-Box: when RM_EBOX_URL is unset, starts the embedded simulator (on 127.0.0.1, a free
 * port, with the profile exceptions of `fixtures/ebox-profiles.json`, its messages kept in
 * `<dataDir>/ebox-simulator.jsonl` so that a restarted service finds its earlier publications) and points
 * the clients at it.
 * @throws EboxSettingsError when an RM_EBOX_* setting is malformed (the simulator is then stopped again)
 */
export async function connectEbox(
  env: NodeJS.ProcessEnv,
  clock: Clock,
  dataDir: string,
): Promise<EboxConnection> {
  const simulator = usesEmbeddedEboxSimulator(env)
    ? await startEmbeddedEboxSimulator(clock, dataDir)
    : undefined;
  try {
    const settings = eboxClientSettingsFromEnv(env, simulator?.url);
    const tokens = new EboxTokenClient(settings, clock);
    return {
      settings,
      tokens,
      profiles: new EboxProfileClient(settings, tokens, clock),
      publication: new EboxPublicationClient(settings, tokens, clock),
      messageStatuses: new EboxMessageStatusClient(settings, tokens, clock),
      simulator,
      close: async () => simulator?.close(),
    };
  } catch (error) {
    await simulator?.close();
    throw error;
  }
}

/** Whether the service runs its own e-Box simulator: RM_EBOX_URL is not set. */
export function usesEmbeddedEboxSimulator(env: NodeJS.ProcessEnv): boolean {
  return env.RM_EBOX_URL === undefined || env.RM_EBOX_URL === '';
}

/**
 * Starts the embedded e-Box simulator: on 127.0.0.1 and a free port, with the profile exceptions of
 * `fixtures/ebox-profiles.json`, its messages kept in `<dataDir>/ebox-simulator.jsonl`. Its `url` is what
 * RM_EBOX_URL would be (the cluster's primary runs one and hands that URL to every worker).
 */
export function startEmbeddedEboxSimulator(clock: Clock, dataDir: string): Promise<EboxSimulator> {
  return startEboxSimulator({
    clock,
    profilesFile: path.join(projectRoot(), 'fixtures', 'ebox-profiles.json'),
    host: '127.0.0.1',
    port: 0,
    dataFile: path.join(dataDir, 'ebox-simulator.jsonl'),
  });
}

/**
 * The domain's profile port over the e-Box profile client. A transient failure (network, timeout, 5xx,
 * 429) passes on untyped and becomes SOA-02002 (Retry true) in the domain check; a permanent refusal of
 * a recipient that passed our own INSS/CBE checks, or of our credentials, is a fault of this service:
 * SOA-00001, details in the log.
 */
export function recipientEboxProfiles(client: EboxProfileClient): RecipientEboxProfiles {
  return {
    async lookup(recipient) {
      try {
        return await client.lookup(recipient);
      } catch (error) {
        if (error instanceof PermanentPublicationError) throw new UnexpectedError({ cause: error });
        throw error;
      }
    },
  };
}
