import { existsSync } from 'node:fs';
import path from 'node:path';
import { Option, type Command } from 'commander';
import type { ClientContext } from '../client/client-context';
import { ClientUsageError } from '../client/client-errors';
import { loadClientKey } from '../client/client-key-store';
import { loadResponseTrust } from '../client/response-trust';
import { serviceEndpointUrl } from '../client/service-endpoint';
import type { Clock } from '../clock/clock';
import { ConfigError, loadConfig, type Config } from '../config/config';
import { DEFAULT_DEV_SENDERS, DEV_PKCS12_PASSWORD } from '../pki/dev-pki';
import { collect, positiveIntegerArgument } from './argument-parsers';

/** The options every client command (send, status, proof) takes, as commander parses them. */
export interface ClientOptions {
  url?: string;
  key?: string;
  password?: string;
  serviceCert?: string[];
  trust?: string[];
  timeout: number;
}

/** Seconds without progress after which an exchange fails, unless `--timeout` says otherwise. */
const DEFAULT_TIMEOUT_SECONDS = 120;

/** Adds the connection, key and trust options to a client command. */
export function addClientOptions(command: Command): Command {
  return command
    .option(
      '--url <url>',
      'the service, e.g. https://rm.example.be (default: http://localhost:$PORT, or RM_PUBLIC_URL)',
    )
    .option(
      '--key <pkcs12>',
      "the sender's PKCS#12 key store (default: RM_CLIENT_KEY, else the dev PKI's dev-sender-1 under RM_DATA_DIR)",
    )
    .option(
      '--password <password>',
      'its password (default: RM_CLIENT_KEY_PASSWORD; changeit for the dev key)',
    )
    .option(
      '--service-cert <pem>',
      "the service's certificate: answers must be signed with it (default: RM_SIGNER_CERT, else the dev PKI's signer)",
      collect,
    )
    .option(
      '--trust <pem file or dir>',
      'instead of --service-cert: CA certificates trusted to sign answers',
      collect,
    )
    .addOption(
      new Option('--timeout <seconds>', 'give up an exchange after this long without progress')
        .argParser(positiveIntegerArgument(86_400))
        .default(DEFAULT_TIMEOUT_SECONDS),
    );
}

function configOf(env: NodeJS.ProcessEnv): Config {
  try {
    return loadConfig(env);
  } catch (error) {
    if (error instanceof ConfigError) throw new ClientUsageError(`configuration: ${error.message}`);
    throw error;
  }
}

/** The dev PKI that `registered-mail serve` creates under the data directory (src/pki/dev-pki.ts). */
function devPkiFile(config: Config, ...segments: string[]): string | undefined {
  const file = path.join(config.dataDir, 'dev-pki', ...segments);
  return existsSync(file) ? file : undefined;
}

/** The service's base URL: RM_PUBLIC_URL, else this host on PORT (https when RM_TLS_* is set). */
function defaultUrl(config: Config): string {
  return config.publicUrl ?? `${config.tls ? 'https' : 'http'}://localhost:${config.port}`;
}

function keyStore(
  options: ClientOptions,
  env: NodeJS.ProcessEnv,
  config: Config,
): { file: string; password: string } {
  const given = options.key ?? (env.RM_CLIENT_KEY || undefined);
  const password = options.password ?? env.RM_CLIENT_KEY_PASSWORD;
  if (given !== undefined) return { file: given, password: password ?? '' };
  const devKey = devPkiFile(config, 'senders', `${DEFAULT_DEV_SENDERS[0].name}.p12`);
  if (devKey === undefined) {
    throw new ClientUsageError(
      `no key store: give --key <pkcs12> (or RM_CLIENT_KEY); ${config.dataDir} holds no dev PKI sender`,
    );
  }
  return { file: devKey, password: password ?? DEV_PKCS12_PASSWORD };
}

/**
 * The certificate(s) that may sign answers: as given; else the service's own signer certificate of this
 * configuration (RM_SIGNER_CERT, or the dev PKI's signer when the service signs with the dev PKI).
 */
function serviceCertificates(options: ClientOptions, config: Config): string[] | undefined {
  if (options.serviceCert !== undefined || options.trust !== undefined) return options.serviceCert;
  if (config.signer !== undefined) return [config.signer.certFile];
  if (config.signerP12 !== undefined) return undefined;
  const devSigner = devPkiFile(config, 'signer', 'signer.cert.pem');
  return devSigner === undefined ? undefined : [devSigner];
}

/**
 * The {@link ClientContext} of a client command: its options, with defaults from the service's own
 * configuration (the environment variables `serve` reads, see README), so that on the service's machine
 * `registered-mail status <ticket>` needs nothing else.
 * @throws ClientUsageError when an option or the configuration cannot be used
 */
export async function clientContextFrom(
  options: ClientOptions,
  env: NodeJS.ProcessEnv,
  clock: Clock,
): Promise<ClientContext> {
  const config = configOf(env);
  const endpoint = serviceEndpointUrl(options.url ?? defaultUrl(config));
  const trust = await loadResponseTrust(
    { serviceCertificates: serviceCertificates(options, config), authorities: options.trust },
    clock,
  );
  const key = keyStore(options, env, config);
  return {
    endpoint,
    signer: await loadClientKey(key.file, key.password),
    trust,
    clock,
    timeoutMs: options.timeout * 1000,
  };
}
