import { SERVER_GLOBAL } from './postgres-global-setup';
import { stopPostgresServer, type PostgresServer } from './postgres-server';

/** jest globalTeardown of the "postgres" project: stops the run's server and removes its directory. */
export default function stopRunPostgres(): void {
  const holder = globalThis as Record<string, unknown>;
  const server = holder[SERVER_GLOBAL] as PostgresServer | undefined;
  if (server === undefined) return;
  delete holder[SERVER_GLOBAL];
  stopPostgresServer(server);
}
