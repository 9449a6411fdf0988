#!/usr/bin/env node
import path from 'node:path';
import { projectRoot } from '../app/project-paths';
import { startEboxSimulator } from './simulator';

/**
 * `npm run ebox`: the e-Box simulator on its own port. Settings: RM_EBOX_PORT (8090), RM_EBOX_HOST
 * (127.0.0.1), RM_EBOX_PROFILES (fixtures/ebox-profiles.json), RM_EBOX_DATA_FILE (none: memory only),
 * RM_EBOX_CLIENT_ID / RM_EBOX_CLIENT_SECRET (development defaults), RM_EBOX_TEST_CONTROL=true (fault
 * injection; never on by default).
 */
async function main(): Promise<void> {
  const env = process.env;
  const port = Number(env.RM_EBOX_PORT ?? '8090');
  if (!Number.isInteger(port) || port < 0 || port > 65535)
    throw new Error('RM_EBOX_PORT is not a port number');
  const credentials =
    env.RM_EBOX_CLIENT_ID && env.RM_EBOX_CLIENT_SECRET
      ? { clientId: env.RM_EBOX_CLIENT_ID, clientSecret: env.RM_EBOX_CLIENT_SECRET }
      : undefined;
  const simulator = await startEboxSimulator({
    port,
    host: env.RM_EBOX_HOST || '127.0.0.1',
    profilesFile: env.RM_EBOX_PROFILES || path.join(projectRoot(), 'fixtures', 'ebox-profiles.json'),
    dataFile: env.RM_EBOX_DATA_FILE || undefined,
    testControl: env.RM_EBOX_TEST_CONTROL === 'true',
    credentials,
  });
  process.stdout.write(
    `e-Box simulator listening on ${simulator.url}` +
      (env.RM_EBOX_TEST_CONTROL === 'true' ? ' (test control enabled)' : '') +
      '\n',
  );
  const stop = () => {
    simulator.close().then(
      () => process.exit(0),
      () => process.exit(1),
    );
  };
  process.once('SIGTERM', stop);
  process.once('SIGINT', stop);
}

main().catch((error: unknown) => {
  process.stderr.write(
    `e-Box simulator failed to start: ${error instanceof Error ? error.message : String(error)}\n`,
  );
  process.exit(1);
});
