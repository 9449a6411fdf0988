import os from 'node:os';
import path from 'node:path';

/** How faults are written: the consumer form (`errors/v1`) or the provider form (`errors/serviceprovider/v1`). */
export type FaultNamespace = 'consumer' | 'provider';

/** Limits that bound memory and time for every request; each is answered by a SOA-03001 fault. */
export interface RequestLimits {
  /** Whole HTTP request body, attachments included. */
  maxRequestBytes: number;
  /** MIME parts, the envelope included. */
  maxParts: number;
  /** The SOAP envelope (root part or single-part body). */
  maxEnvelopeBytes: number;
  /** Element nesting depth of the envelope. */
  maxXmlDepth: number;
  /** Elements in the envelope. */
  maxXmlElements: number;
  /** Attributes in the envelope, namespace declarations included. */
  maxXmlAttributes: number;
  /** Attributes of one element, namespace declarations included. */
  maxXmlAttributesPerElement: number;
}

/** Revocation of sender certificates by CRLs. */
export interface CrlSettings {
  /** RM_CRL: file paths and http(s) URLs of DER or PEM CRLs; empty = revocation is not checked. */
  sources: string[];
  /** Every CRL is read again after this many seconds (and as soon as its nextUpdate passes). */
  refreshSeconds: number;
}

export interface SecuritySettings {
  /** Accept RSA-SHA1 signatures and SHA-1 digests (the published X509 policy's Basic256 suite). */
  allowSha1: boolean;
  /** How far a Timestamp's Created may lie in the future. */
  clockSkewSeconds: number;
  /** How old a Timestamp's Created may be. */
  timestampMaxAgeSeconds: number;
}

/** The whole configuration: defaults that run with nothing set, overridden by environment variables. */
export interface Config {
  port: number;
  host: string;
  /** The address clients use (for `soap:address` behind a proxy); derived from the request when unset. */
  publicUrl: string | undefined;
  tls: { keyFile: string; certFile: string } | undefined;
  dataDir: string;
  /**
   * RM_DATABASE_URL: the PostgreSQL database (`postgres://user:password@host:port/database`) that holds
   * the rows instead of the SQLite file in {@link dataDir}; undefined = that SQLite file. Content too
   * large for the database stays in {@link blobDir} either way.
   */
  databaseUrl: string | undefined;
  /**
   * RM_DATABASE_POOL_SIZE: with {@link databaseUrl}, the connections each process keeps at most (2 or
   * more); undefined = the storage's default (10).
   */
  databasePoolSize: number | undefined;
  /** Directory of PEM CA certificates trusted for senders; the dev CA when unset. */
  trustDir: string | undefined;
  /** Directory of PEM certificates of known senders: when set, the allowlist. */
  senderCertsDir: string | undefined;
  signer: { keyFile: string; certFile: string } | undefined;
  /** RM_SIGNER_P12 (+ RM_SIGNER_P12_PASSWORD): the signer's key and chain from PKCS#12 instead of PEM. */
  signerP12: { file: string; password: string } | undefined;
  /** RM_CADES_LEVEL: the CAdES baseline level of every proof. */
  cadesLevel: CadesLevel;
  /** PRD, ACC, INT, ...: when set, the sender certificate's environment OU must match. */
  environment: string | undefined;
  faultNamespace: FaultNamespace;
  security: SecuritySettings;
  limits: RequestLimits;
  crl: CrlSettings;
  tsa: TsaSettings;
  delivery: DeliverySettings;
  operator: OperatorSettings;
  logLevel: string;
  /**
   * RM_WORKERS: processes that serve requests (`registered-mail serve` forks them with node:cluster and
   * supervises them); 1 = one process. Default: the CPUs available (`os.availableParallelism()`).
   */
  workers: number;
  /**
   * RM_SIGN_IN_THREAD_POOL: the service's RSA signatures (receipts, proofs, time-stamp tokens, responses)
   * are computed in libuv's thread pool (true) or on the event loop (false). Default: true with one
   * process, false with several workers: their processes keep the cores busy already, and handing each
   * 0.25 ms signature to another thread costs more CPU (wake-ups, context switches) than it frees.
   */
  signInThreadPool: boolean;
  /**
   * RM_WORKER_V8_POOL_SIZE: V8's background threads in each worker process when RM_WORKERS > 1 (node's
   * `--v8-pool-size`; 0 lets node size the pool). Undefined when unset: the workers then get one, unless
   * the node options already set it (`app/worker-exec-argv.ts`).
   */
  workerV8PoolSize: number | undefined;
  /**
   * RM_DATABASE_CONTENT_MAX_BYTES: documents, annexes, receipts and proofs up to this size are stored in
   * the database with the rows that name them (held in memory while the request arrives); larger ones in
   * `<dataDir>/blobs`. 0: everything in the blob directory.
   */
  databaseContentMaxBytes: number;
  /**
   * RM_BLOB_DIR: the directory of the content larger than RM_DATABASE_CONTENT_MAX_BYTES (default
   * `<dataDir>/blobs`); several nodes on one database share one.
   */
  blobDir: string;
  /** RM_METRICS: `GET /metrics` answers (Prometheus text format); false = 404 there. Default true. */
  metricsEnabled: boolean;
}

/** Publication into the e-Box (the outbox worker) and the consultation poller. */
export interface DeliverySettings {
  /** RM_DELIVERY_PAUSED: accepted items stay PENDING in the outbox (benchmarks of the request path). */
  paused: boolean;
  /** RM_OUTBOX_POLL_MS: how often an idle worker looks for due items (an accepted item wakes it at once). */
  pollIntervalMs: number;
  /** RM_OUTBOX_LEASE_SECONDS: how long a claim holds; a dead worker's items are taken over after it. */
  leaseSeconds: number;
  /** RM_OUTBOX_BATCH: items claimed at once by one worker. */
  batchSize: number;
  /** RM_OUTBOX_CONCURRENCY: publications in flight at once per worker. */
  concurrency: number;
  /** RM_DELIVERY_RETRY_BASE_SECONDS: the first retry's delay, doubled at each further failure (jittered). */
  retryBaseSeconds: number;
  /** RM_DELIVERY_RETRY_MAX_SECONDS: the longest delay between two attempts. */
  retryMaxSeconds: number;
  /** RM_DELIVERY_RETRY_PERIOD_SECONDS: after this long since acceptance a transient failure is final. */
  retryPeriodSeconds: number;
  /** RM_CONSULTATION_POLL_SECONDS: how often the read status of SENT items is asked of the e-Box. */
  consultationPollSeconds: number;
  /** RM_CONSULTATION_BATCH: SENT items whose read status is asked per round. */
  consultationBatchSize: number;
}

/** Who issues evidence (ProofOfDispatch, consultation): the service's operator and its evidence policy. */
export interface OperatorSettings {
  /** RM_OPERATOR_NAME */
  name: string;
  /** RM_OPERATOR_CBE: the operator's CBE number (10 digits). */
  cbe: string;
  /** RM_EVIDENCE_POLICY_ID: the URI of the operator's evidence policy (an OID as `urn:oid:1.2.3`). */
  policyId: string;
}

/** Placeholders that run with nothing set; RM_ENVIRONMENT=PRD requires the real values. */
export const DEV_OPERATOR: OperatorSettings = {
  name: 'RegisteredMail development operator',
  cbe: '0999999922',
  policyId: 'urn:oid:1.3.6.1.4.1.32473.522.1',
};

export class ConfigError extends Error {}

/** The RFC 3161 time-stamp authority: the embedded one (default) or an external one (RM_TSA_URL). */
export interface TsaSettings {
  /** RM_TSA_KEY, RM_TSA_CERT: the embedded TSA's key and certificate (the dev PKI's TSA when unset). */
  keyPair: { keyFile: string; certFile: string } | undefined;
  /** RM_TSA_URL: an external TSA used instead of the embedded one. */
  url: string | undefined;
  /** RM_TSA_TIMEOUT_MS: the whole exchange with the external TSA. */
  timeoutMs: number;
  /** RM_TSA_POLICY_OID: the embedded TSA's policy; with RM_TSA_URL, the policy requested and required. */
  policyOid: string | undefined;
  /** RM_TSA_ACCURACY_MS: the accuracy the embedded TSA states. */
  accuracyMs: number;
  /** RM_TSA_TRUST_DIR: PEM CA certificates trusted for the external TSA's certificate (the dev CA when unset). */
  trustDir: string | undefined;
}

/** RM_TSA_*: an external TSA (RM_TSA_URL) excludes the embedded TSA's key (RM_TSA_KEY, RM_TSA_CERT). */
function tsaSettings(env: NodeJS.ProcessEnv): TsaSettings {
  const keyPair = pair(env, 'RM_TSA_KEY', 'RM_TSA_CERT');
  const url = optional(env, 'RM_TSA_URL');
  if (url !== undefined) {
    if (keyPair !== undefined)
      throw new ConfigError('set either RM_TSA_URL or RM_TSA_KEY and RM_TSA_CERT, not both');
    let parsed: URL | undefined;
    try {
      parsed = new URL(url);
    } catch {
      parsed = undefined;
    }
    if (parsed === undefined || !/^https?:$/.test(parsed.protocol))
      throw new ConfigError('RM_TSA_URL must be an absolute http or https URL');
  }
  const policyOid = optional(env, 'RM_TSA_POLICY_OID');
  if (policyOid !== undefined && !/^[0-2](\.(0|[1-9]\d*))+$/.test(policyOid))
    throw new ConfigError('RM_TSA_POLICY_OID must be an object identifier in dotted form (e.g. 1.2.3.4)');
  const trustDir = optional(env, 'RM_TSA_TRUST_DIR');
  if (trustDir !== undefined && url === undefined)
    throw new ConfigError('RM_TSA_TRUST_DIR is for an external TSA: set RM_TSA_URL too');
  return {
    keyPair,
    url,
    timeoutMs: positiveInteger(env, 'RM_TSA_TIMEOUT_MS', 10_000),
    policyOid,
    accuracyMs: positiveInteger(env, 'RM_TSA_ACCURACY_MS', 1000),
    trustDir,
  };
}

function deliverySettings(env: NodeJS.ProcessEnv): DeliverySettings {
  return {
    paused: flag(env, 'RM_DELIVERY_PAUSED'),
    pollIntervalMs: positiveInteger(env, 'RM_OUTBOX_POLL_MS', 1000),
    leaseSeconds: positiveInteger(env, 'RM_OUTBOX_LEASE_SECONDS', 120),
    batchSize: positiveInteger(env, 'RM_OUTBOX_BATCH', 16),
    concurrency: positiveInteger(env, 'RM_OUTBOX_CONCURRENCY', 4),
    retryBaseSeconds: positiveInteger(env, 'RM_DELIVERY_RETRY_BASE_SECONDS', 5),
    retryMaxSeconds: positiveInteger(env, 'RM_DELIVERY_RETRY_MAX_SECONDS', 900),
    retryPeriodSeconds: positiveInteger(env, 'RM_DELIVERY_RETRY_PERIOD_SECONDS', 48 * 3600),
    consultationPollSeconds: positiveInteger(env, 'RM_CONSULTATION_POLL_SECONDS', 60),
    consultationBatchSize: positiveInteger(env, 'RM_CONSULTATION_BATCH', 100),
  };
}

/** RM_OPERATOR_*, RM_EVIDENCE_POLICY_ID: development placeholders unless set; PRD needs them all. */
function operatorSettings(env: NodeJS.ProcessEnv): OperatorSettings {
  const name = optional(env, 'RM_OPERATOR_NAME');
  const cbe = optional(env, 'RM_OPERATOR_CBE');
  const policyId = optional(env, 'RM_EVIDENCE_POLICY_ID');
  if (optional(env, 'RM_ENVIRONMENT')?.toUpperCase() === 'PRD') {
    if (name === undefined || cbe === undefined || policyId === undefined) {
      throw new ConfigError(
        'RM_ENVIRONMENT=PRD needs RM_OPERATOR_NAME, RM_OPERATOR_CBE and RM_EVIDENCE_POLICY_ID (what every proof states)',
      );
    }
  }
  if (cbe !== undefined && !/^[01]\d{9}$/.test(cbe)) {
    throw new ConfigError('RM_OPERATOR_CBE must be a 10-digit CBE number');
  }
  if (policyId !== undefined && !/^[a-z][a-z0-9+.-]*:\S+$/i.test(policyId)) {
    throw new ConfigError('RM_EVIDENCE_POLICY_ID must be a URI (an OID as urn:oid:1.2.3)');
  }
  return {
    name: name ?? DEV_OPERATOR.name,
    cbe: cbe ?? DEV_OPERATOR.cbe,
    policyId: policyId ?? DEV_OPERATOR.policyId,
  };
}

/** CAdES baseline levels: B-T (signature-time-stamp) or B-LT (plus chains and CRLs in SignedData). */
export type CadesLevel = 'B-T' | 'B-LT';

/** RM_CADES_LEVEL: B-T by default. */
function cadesLevel(env: NodeJS.ProcessEnv): CadesLevel {
  const raw = (optional(env, 'RM_CADES_LEVEL') ?? 'B-T').toUpperCase();
  if (raw !== 'B-T' && raw !== 'B-LT') throw new ConfigError('RM_CADES_LEVEL must be B-T or B-LT');
  return raw;
}

/** RM_SIGNER_P12 and RM_SIGNER_P12_PASSWORD (empty password allowed); exclusive with RM_SIGNER_KEY/CERT. */
function signerP12(env: NodeJS.ProcessEnv): Config['signerP12'] {
  const file = optional(env, 'RM_SIGNER_P12');
  if (file === undefined) {
    if (env.RM_SIGNER_P12_PASSWORD !== undefined) {
      throw new ConfigError('RM_SIGNER_P12_PASSWORD is set without RM_SIGNER_P12');
    }
    return undefined;
  }
  if (optional(env, 'RM_SIGNER_KEY') !== undefined || optional(env, 'RM_SIGNER_CERT') !== undefined) {
    throw new ConfigError('set either RM_SIGNER_P12 or RM_SIGNER_KEY and RM_SIGNER_CERT, not both');
  }
  return { file, password: env.RM_SIGNER_P12_PASSWORD ?? '' };
}

const MiB = 1024 * 1024;

function integer(env: NodeJS.ProcessEnv, name: string, fallback: number): number {
  const raw = env[name];
  if (raw === undefined || raw === '') return fallback;
  const value = Number(raw);
  if (!Number.isSafeInteger(value) || value < 0)
    throw new ConfigError(`${name} must be a non-negative integer`);
  return value;
}

function port(env: NodeJS.ProcessEnv): number {
  const value = integer(env, 'PORT', 8080);
  if (value > 65535) throw new ConfigError('PORT must be an integer from 0 to 65535');
  return value;
}

/** RM_PUBLIC_URL: an absolute http(s) URL without query, fragment or credentials; trailing slashes dropped. */
function publicUrl(env: NodeJS.ProcessEnv): string | undefined {
  const raw = optional(env, 'RM_PUBLIC_URL');
  if (raw === undefined) return undefined;
  let url: URL;
  try {
    url = new URL(raw);
  } catch {
    throw new ConfigError('RM_PUBLIC_URL must be an absolute http or https URL');
  }
  if (!/^https?:$/.test(url.protocol) || url.search || url.hash || url.username || url.password) {
    throw new ConfigError(
      'RM_PUBLIC_URL must be an http or https URL without query, fragment or credentials',
    );
  }
  return raw.replace(/\/+$/, '');
}

/** RM_CRL: comma-separated file paths and http(s) URLs; other URL schemes are refused. */
function crlSources(env: NodeJS.ProcessEnv): string[] {
  const entries = (optional(env, 'RM_CRL') ?? '')
    .split(',')
    .map((entry) => entry.trim())
    .filter((entry) => entry !== '');
  for (const entry of entries) {
    if (/^[a-z][a-z0-9+.-]*:\/\//i.test(entry) && !/^https?:\/\//i.test(entry)) {
      throw new ConfigError(`RM_CRL: ${entry} is neither a file path nor an http(s) URL`);
    }
  }
  return entries;
}

function positiveInteger(env: NodeJS.ProcessEnv, name: string, fallback: number): number {
  const value = integer(env, name, fallback);
  if (value === 0) throw new ConfigError(`${name} must be a positive integer`);
  return value;
}

/** Beyond this many workers a typo is more likely than a machine that benefits (each holds its own keys). */
const MAX_WORKERS = 256;

/** RM_WORKERS: 1 to {@link MAX_WORKERS}; the CPUs available when unset. */
function workerCount(env: NodeJS.ProcessEnv): number {
  const value = positiveInteger(env, 'RM_WORKERS', os.availableParallelism());
  if (value > MAX_WORKERS) throw new ConfigError(`RM_WORKERS must be at most ${MAX_WORKERS}`);
  return value;
}

/** More V8 background threads than this in one process would be a typo, not a tuning. */
const MAX_V8_POOL_SIZE = 256;

/** RM_WORKER_V8_POOL_SIZE: 0 to {@link MAX_V8_POOL_SIZE}; undefined when unset (see `app/worker-exec-argv.ts`). */
function workerV8PoolSize(env: NodeJS.ProcessEnv): number | undefined {
  if (optional(env, 'RM_WORKER_V8_POOL_SIZE') === undefined) return undefined;
  const value = integer(env, 'RM_WORKER_V8_POOL_SIZE', 0);
  if (value > MAX_V8_POOL_SIZE)
    throw new ConfigError(`RM_WORKER_V8_POOL_SIZE must be at most ${MAX_V8_POOL_SIZE}`);
  return value;
}

function flag(env: NodeJS.ProcessEnv, name: string, fallback = false): boolean {
  const raw = env[name]?.toLowerCase();
  if (raw === undefined || raw === '') return fallback;
  if (raw === 'false' || raw === '0') return false;
  if (raw === 'true' || raw === '1') return true;
  throw new ConfigError(`${name} must be true or false`);
}

function optional(env: NodeJS.ProcessEnv, name: string): string | undefined {
  const raw = env[name];
  return raw === undefined || raw === '' ? undefined : raw;
}

function pair(env: NodeJS.ProcessEnv, keyName: string, certName: string) {
  const keyFile = optional(env, keyName);
  const certFile = optional(env, certName);
  if ((keyFile === undefined) !== (certFile === undefined)) {
    throw new ConfigError(`${keyName} and ${certName} must be set together`);
  }
  return keyFile && certFile ? { keyFile, certFile } : undefined;
}

/** RM_DATABASE_URL: a `postgres:` or `postgresql:` URL naming a database (the credentials may be in it). */
function databaseUrl(env: NodeJS.ProcessEnv): string | undefined {
  const raw = optional(env, 'RM_DATABASE_URL');
  if (raw === undefined) return undefined;
  let url: URL | undefined;
  try {
    url = new URL(raw);
  } catch {
    url = undefined;
  }
  // Never the value in the message: it may hold a password.
  if (url === undefined || !/^postgres(ql)?:$/.test(url.protocol)) {
    throw new ConfigError(
      'RM_DATABASE_URL must be a postgres:// URL (postgres://user:password@host:port/database)',
    );
  }
  return raw;
}

/** RM_DATABASE_POOL_SIZE: at least 2 (the migrations' advisory lock holds one connection of its own). */
function databasePoolSize(env: NodeJS.ProcessEnv): number | undefined {
  if (optional(env, 'RM_DATABASE_POOL_SIZE') === undefined) return undefined;
  const value = integer(env, 'RM_DATABASE_POOL_SIZE', 0);
  if (value < 2) throw new ConfigError('RM_DATABASE_POOL_SIZE must be an integer of at least 2');
  return value;
}

/**
 * Where the configured database is and how it is reached (RM_DATABASE_URL, RM_DATABASE_POOL_SIZE), as the
 * storage layer's `openDatabase` and `databaseOptionsIn` take them: every process opening the database
 * (serve, its primary, migrate) passes the same settings.
 */
export function databaseSettingsOf(config: Pick<Config, 'databaseUrl' | 'databasePoolSize'>): {
  databaseUrl: string | undefined;
  poolSize: number | undefined;
} {
  return { databaseUrl: config.databaseUrl, poolSize: config.databasePoolSize };
}

/** Reads the configuration from environment variables (see README, "Configuration"). */
export function loadConfig(env: NodeJS.ProcessEnv = process.env): Config {
  const faultNamespace = (optional(env, 'RM_FAULT_NAMESPACE') ?? 'consumer').toLowerCase();
  if (faultNamespace !== 'consumer' && faultNamespace !== 'provider') {
    throw new ConfigError('RM_FAULT_NAMESPACE must be consumer or provider');
  }
  const dataDir = path.resolve(optional(env, 'RM_DATA_DIR') ?? 'data');
  const workers = workerCount(env);
  return {
    port: port(env),
    host: optional(env, 'HOST') ?? '0.0.0.0',
    publicUrl: publicUrl(env),
    tls: pair(env, 'RM_TLS_KEY', 'RM_TLS_CERT'),
    dataDir,
    databaseUrl: databaseUrl(env),
    databasePoolSize: databasePoolSize(env),
    trustDir: optional(env, 'RM_TRUST_DIR'),
    senderCertsDir: optional(env, 'RM_SENDER_CERTS_DIR'),
    signer: pair(env, 'RM_SIGNER_KEY', 'RM_SIGNER_CERT'),
    signerP12: signerP12(env),
    cadesLevel: cadesLevel(env),
    environment: optional(env, 'RM_ENVIRONMENT')?.toUpperCase(),
    faultNamespace,
    security: {
      allowSha1: flag(env, 'RM_ALLOW_SHA1'),
      clockSkewSeconds: integer(env, 'RM_CLOCK_SKEW_SECONDS', 60),
      timestampMaxAgeSeconds: integer(env, 'RM_TIMESTAMP_MAX_AGE_SECONDS', 300),
    },
    limits: {
      maxRequestBytes: integer(env, 'RM_MAX_REQUEST_BYTES', 256 * MiB),
      maxParts: integer(env, 'RM_MAX_PARTS', 16),
      maxEnvelopeBytes: integer(env, 'RM_MAX_ENVELOPE_BYTES', 1 * MiB),
      maxXmlDepth: integer(env, 'RM_MAX_XML_DEPTH', 64),
      maxXmlElements: integer(env, 'RM_MAX_XML_ELEMENTS', 20_000),
      maxXmlAttributes: integer(env, 'RM_MAX_XML_ATTRIBUTES', 20_000),
      maxXmlAttributesPerElement: integer(env, 'RM_MAX_XML_ATTRIBUTES_PER_ELEMENT', 50),
    },
    crl: {
      sources: crlSources(env),
      refreshSeconds: positiveInteger(env, 'RM_CRL_REFRESH_SECONDS', 3600),
    },
    tsa: tsaSettings(env),
    delivery: deliverySettings(env),
    operator: operatorSettings(env),
    logLevel: optional(env, 'RM_LOG_LEVEL') ?? 'info',
    workers,
    signInThreadPool: flag(env, 'RM_SIGN_IN_THREAD_POOL', workers === 1),
    workerV8PoolSize: workerV8PoolSize(env),
    databaseContentMaxBytes: integer(env, 'RM_DATABASE_CONTENT_MAX_BYTES', 64 * 1024),
    blobDir: path.resolve(optional(env, 'RM_BLOB_DIR') ?? path.join(dataDir, 'blobs')),
    metricsEnabled: flag(env, 'RM_METRICS', true),
  };
}
