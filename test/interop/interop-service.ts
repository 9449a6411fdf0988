import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';

/**
 * The running service the interop tests talk to: its base URL (`<base>/RegisteredMail/v1`,
 * `<base>/RegisteredMail/v1?wsdl`), the dev PKI it trusts, and how to stop it.
 */
export interface InteropService {
  baseUrl: string;
  pki: {
    /** Sender key stores: PKCS#12 whose key entry is named `name` (e.g. dev-sender-1). */
    senders: { name: string; p12Path: string; password: string }[];
    /** PEM of the CA that issued the service's signing certificate (for `openssl cms -verify`). */
    caCertPath: string;
  };
  close(): Promise<void>;
}

/** The assumed signature of `startService` in src/app/start-service.ts. */
type StartService = (options: { env: Record<string, string>; port: 0 }) => Promise<InteropService>;

/** A started service plus the temporary directory it keeps its data in. */
export interface StartedInteropService extends InteropService {
  workDir: string;
}

// =====================================================================================================
// LEAD: FILL IN / ADJUST. This is the only place the interop tests start the server.
// Assumed: startService({ env, port: 0 }) from src/app/start-service resolves once it listens, with
// { baseUrl, pki: { senders, caCertPath }, close }. The service must use the system clock here: the Java
// clients stamp their wsu:Timestamp with the real time.
// The module is loaded with jest.requireActual (not a static import) only so that this file type-checks
// before src/app/start-service.ts exists; switch to `import { startService } from '../../src/app/start-service'`
// once it does.
// =====================================================================================================
/**
 * Starts the real service in this process on a free port, with its data in a new temporary directory
 * and `env` on top (e.g. `{ RM_FAULT_NAMESPACE: 'provider' }`).
 */
export async function startServiceForInterop(
  env: Record<string, string> = {},
): Promise<StartedInteropService> {
  const workDir = fs.mkdtempSync(path.join(os.tmpdir(), 'rm-interop-service-'));
  const { startService } = jest.requireActual<{ startService: StartService }>('../../src/app/start-service');
  let service: InteropService;
  try {
    service = await startService({ env: { RM_DATA_DIR: path.join(workDir, 'data'), ...env }, port: 0 });
  } catch (error) {
    fs.rmSync(workDir, { recursive: true, force: true });
    throw error;
  }
  return {
    baseUrl: service.baseUrl,
    pki: service.pki,
    workDir,
    close: async () => {
      await service.close();
      fs.rmSync(workDir, { recursive: true, force: true });
    },
  };
}

/** The sender key store the clients sign with, as the environment the Java clients read. */
export function senderEnvironment(service: InteropService): Record<string, string> {
  const sender = service.pki.senders[0];
  if (!sender) throw new Error('the service started without any dev sender key store');
  return { RM_P12: sender.p12Path, RM_P12_ALIAS: sender.name, RM_P12_PASSWORD: sender.password };
}

/** `<base>/RegisteredMail/v1` and its `?wsdl`. */
export function serviceUrls(service: InteropService): { endpoint: string; wsdl: string } {
  const endpoint = `${service.baseUrl.replace(/\/$/, '')}/RegisteredMail/v1`;
  return { endpoint, wsdl: `${endpoint}?wsdl` };
}
