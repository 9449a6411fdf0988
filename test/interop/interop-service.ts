import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { startService, type RunningService } from '../../src/app/start-service';
import { OWN_SERVICE_PATH } from '../../src/contract/wsdl-publisher';
import { startEboxSimulator, type EboxSimulator } from '../../src/ebox-simulator';
import { verifyAllReceipts } from '../support/receipt-verification';

/**
 * The running service the interop tests talk to: its base URL (`<base>/RegisteredMail/v1`,
 * `<base>/RegisteredMail/v1?wsdl`), the dev PKI it trusts, and how to stop it.
 */
export interface InteropService {
  baseUrl: string;
  pki: {
    /**
     * Sender key stores: PKCS#12 whose key entry is named `name` (e.g. dev-sender-1), and the same key
     * (unencrypted PKCS#8 PEM) and certificate (PEM) for clients that take PEM files (zeep).
     */
    senders: { name: string; p12Path: string; password: string; keyPemPath: string; certPemPath: string }[];
    /** PEM of the CA that issued the service's signing certificate (for `openssl cms -verify`). */
    caCertPath: string;
  };
  close(): Promise<void>;
}

/** A started service plus the temporary directory it keeps its data in. */
export interface StartedInteropService extends InteropService {
  workDir: string;
  /**
   * The id of the message the embedded e-Box simulator holds for `ticket` (the service publishes with
   * the ticket as Idempotency-Key), or undefined when it holds none.
   */
  eboxMessageIdOf(ticket: string): string | undefined;
  /**
   * The URL of the e-Box simulator the service publishes to when it was started with
   * `{ eboxTestControl: true }` (its `/_test/*` endpoints are on); undefined otherwise.
   */
  eboxTestControlUrl: string | undefined;
  /**
   * Has the recipient read the message the e-Box holds for `ticket` (as opening it in the e-Box would),
   * in the simulator the service publishes to; the service sees it at its next consultation poll
   * (RM_CONSULTATION_POLL_SECONDS).
   * @returns the e-Box message id
   * @throws Error when the e-Box holds no message for the ticket
   */
  markEboxMessageRead(ticket: string): string;
}

/** How {@link startServiceForInterop} provides the e-Box. */
export interface InteropServiceOptions {
  /**
   * Start a separate simulator with test control (fault injection) and point the service at it with
   * RM_EBOX_URL, instead of the service's embedded one (which has no test control).
   */
  eboxTestControl?: boolean;
}

// =====================================================================================================
// LEAD: FILL IN / ADJUST. This is the only place the interop tests start the server.
// It runs the real service in this process with startService (src/app/start-service) on a free port,
// its data (and so its dev PKI) in a new temporary directory. It must use the system clock: the Java
// clients stamp their wsu:Timestamp with the real time. Delivery runs in the background against the
// embedded e-Box simulator (RM_EBOX_URL unset), so an accepted item is SENT within moments and the
// clients poll getStatus for it.
// =====================================================================================================
/**
 * Starts the service with `env` on top of a fresh RM_DATA_DIR (e.g. `{ RM_FAULT_NAMESPACE: 'provider' }`)
 * and returns what the interop tests need from it.
 */
export async function startServiceForInterop(
  env: Record<string, string> = {},
  options: InteropServiceOptions = {},
): Promise<StartedInteropService> {
  const workDir = fs.mkdtempSync(path.join(os.tmpdir(), 'rm-interop-service-'));
  let separateEbox: EboxSimulator | undefined;
  const removeWorkDir = async (): Promise<void> => {
    await separateEbox?.close();
    fs.rmSync(workDir, { recursive: true, force: true });
  };
  let running: RunningService;
  try {
    if (options.eboxTestControl) {
      separateEbox = await startEboxSimulator({ testControl: true, host: '127.0.0.1', port: 0 });
    }
    running = await startService({
      env: {
        RM_DATA_DIR: path.join(workDir, 'data'),
        RM_LOG_LEVEL: 'warn',
        HOST: '127.0.0.1',
        ...(separateEbox ? { RM_EBOX_URL: separateEbox.url } : {}),
        ...env,
      },
      port: 0,
    });
  } catch (error) {
    await removeWorkDir();
    throw error;
  }
  const ebox = separateEbox ?? running.eboxSimulator;
  const close = async (): Promise<void> => {
    await running.close();
    try {
      // Every receipt an interop client was given verifies with openssl and Bouncy Castle too.
      if (running.pki)
        await verifyAllReceipts(path.join(workDir, 'data'), { caFiles: [running.pki.ca.certPemPath] });
    } finally {
      await removeWorkDir();
    }
  };
  if (!running.pki) {
    await close();
    throw new Error('the service started without a dev PKI: the interop tests need its sender key stores');
  }
  return {
    baseUrl: running.baseUrl,
    pki: {
      senders: running.pki.senders.map(({ name, p12Path, password, keyPemPath, certPemPath }) => ({
        name,
        p12Path,
        password,
        keyPemPath,
        certPemPath,
      })),
      caCertPath: running.pki.ca.certPemPath,
    },
    workDir,
    eboxMessageIdOf: (ticket) =>
      ebox?.messages().find((message) => message.idempotencyKey === ticket)?.messageId,
    eboxTestControlUrl: separateEbox?.url,
    markEboxMessageRead: (ticket) => {
      const messageId = ebox?.messages().find((message) => message.idempotencyKey === ticket)?.messageId;
      if (!ebox || messageId === undefined || !ebox.markRead(messageId))
        throw new Error(`the e-Box holds no message for ticket ${ticket}`);
      return messageId;
    },
    close,
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

/** `<base>/RegisteredMailService` (the service's own port) and its `?wsdl`. */
export function ownServiceUrls(service: InteropService): { endpoint: string; wsdl: string } {
  const endpoint = `${service.baseUrl.replace(/\/$/, '')}${OWN_SERVICE_PATH}`;
  return { endpoint, wsdl: `${endpoint}?wsdl` };
}
