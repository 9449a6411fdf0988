import fs from 'node:fs/promises';
import type { Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import os from 'node:os';
import type { DataSource } from 'typeorm';
import { systemClock, type Clock } from '../clock/clock';
import { databaseSettingsOf, loadConfig, type Config } from '../config/config';
import { createV1Handlers } from '../contract/v1/operations';
import { monitoringEnvironment } from '../contract/v1/health-check';
import {
  OWN_BINDING_NAME,
  OWN_SERVICE_PATH,
  OWN_WSDL_FILE_NAME,
  SERVICE_PATH,
  WSDL_FILE_NAME,
} from '../contract/wsdl-publisher';
import { createServiceHandlers } from '../contract/service/operations';
import type { SendServices } from '../contract/send-services';
import { GetProofService } from '../domain/get-proof';
import type { ParsedEnvelope } from '../soap/parse-envelope';
import type { Element } from '@xmldom/xmldom';
import { createSoapPortRoute } from './soap-port-route';
import { PayloadValidator } from '../contract/xsd-validator';
import { assertEboxStatus } from '../domain/ebox-status-check';
import { HealthCheckService } from '../domain/health-check-service';
import { GetStatusService } from '../domain/get-status';
import {
  assertDigestMethodsAccepted,
  assertRecipientValid,
  SendDocumentService,
} from '../domain/send-document';
import { ReceiptIssuer } from '../evidence/receipt-issuer';
import { createHttpServer } from '../http/server';
import type { TimeStampAuthority } from '../timestamping/time-stamp-authority';
import { createTsaHttpHandler, TSA_PATH } from '../timestamping/tsa-http-handler';
import { createLogger, type Logger } from '../logging/logger';
import { CertificateValidator } from '../pki/certificate-validator';
import { CrlRevocationChecker } from '../pki/crl-revocation-checker';
import type { DevPki } from '../pki/dev-pki';
import { senderIdentityFromCertificate } from '../pki/sender-identity';
import { enforceV1Policy } from '../policy/enforce-v1-policy';
import { buildFaultDocument } from '../soap/fault-envelope';
import { BlobStore } from '../storage/blob-store';
import { ContentStore } from '../storage/content-store';
import { CommitGroup } from '../storage/commit-group';
import { openDatabase } from '../storage/data-source';
import { inMemoryStagingLimits, StagingArea } from '../storage/staging-area';
import { TypeormItemStore } from '../storage/typeorm-item-store';
import { TypeormReplayStore } from '../storage/typeorm-replay-store';
import { processSecurityHeader } from '../wssecurity/process-security-header';
import { EnvelopeSigner } from '../wssecurity/sign-envelope';
import { connectEbox, recipientEboxProfiles } from './ebox-connection';
import type { EboxSimulator } from '../ebox-simulator';
import { createSanityChecks } from './health-checks';
import { loadKeyMaterial } from './key-material';
import { contractDirectories, projectRoot } from './project-paths';
import { signedFaultBody } from './soap-endpoint';
import { createTimeStampAuthority } from './time-stamping';
import { createProofSigner } from './proof-signing';
import { createDelivery, type Delivery } from './delivery';
import { ServiceMetrics } from '../metrics/service-metrics';
import type { WalCheckpointerOptions } from '../storage/wal-checkpointer';
import { walDurabilityOf } from '../storage/wal-durability';
import { timedTimeStampAuthority } from '../metrics/timed-time-stamp-authority';
import { singleProcessSource } from '../metrics/metrics-exposition';
import { createOperationsRoutes } from '../metrics/operations-routes';
import type { WorkerMetricsChannel } from '../metrics/cluster-metrics';
import path from 'node:path';

export interface StartOptions {
  /** Environment variables to configure from (default: process.env). */
  env?: NodeJS.ProcessEnv;
  /** Overrides PORT (0 = any free port, for tests). */
  port?: number;
  clock?: Clock;
  logger?: Logger;
  /**
   * In a cluster worker: the channel through which `/metrics` shows every worker's counters, and this
   * worker answers the others' scrapes (see `cluster-worker.ts`). Without it, the process's own.
   */
  metricsChannel?: WorkerMetricsChannel;
}

/** A running service. */
export interface RunningService {
  /** The URL the service answers on (its public URL when RM_PUBLIC_URL is set). */
  baseUrl: string;
  config: Config;
  /** The development PKI, when the service runs on one. */
  pki: DevPki | undefined;
  /** What proofs are time-stamped with: the embedded TSA (also at `POST /tsa`) or RM_TSA_URL's. */
  timeStampAuthority: TimeStampAuthority;
  dataSource: DataSource;
  /** The embedded e-Box simulator, when RM_EBOX_URL is not set. */
  eboxSimulator: EboxSimulator | undefined;
  /** The outbox worker and the consultation poller (running unless RM_DELIVERY_PAUSED). */
  delivery: Delivery;
  server: Server;
  close(): Promise<void>;
}

async function packageVersion(): Promise<string> {
  const manifest = JSON.parse(await fs.readFile(path.join(projectRoot(), 'package.json'), 'utf8')) as {
    version: string;
  };
  return manifest.version;
}

/** SQLite: checkpoints off the event loop (see wal-checkpointer.ts), counted in /metrics, a failure logged. */
function walCheckpointThreadOptions(metrics: ServiceMetrics, log: Logger): WalCheckpointerOptions {
  const observer = metrics.walCheckpointObserver();
  return {
    onCheckpoint: observer.onCheckpoint,
    onFailure: (error) => {
      observer.onFailure(error);
      log.error('WAL checkpoint thread failed; SQLite checkpoints inside commits again', {
        error: error.message,
      });
    },
  };
}

/** Wires every layer and starts listening. */
export async function startService(options: StartOptions = {}): Promise<RunningService> {
  const env = options.env ?? process.env;
  const config = loadConfig(env);
  if (options.port !== undefined) config.port = options.port;
  const clock = options.clock ?? systemClock;
  const log = options.logger ?? createLogger({ level: config.logLevel });

  await fs.mkdir(config.dataDir, { recursive: true });
  const keys = await loadKeyMaterial(config, clock);
  // RM_TSA_*: trusted time for every proof; refuses to start on a TSA certificate that cannot time-stamp.
  const timeStamping = await createTimeStampAuthority(config, keys, clock, log);
  const timeStampAuthority = timeStamping.authority;
  // One registry per service (never prom-client's global one): counters and histograms of this process.
  const metrics = new ServiceMetrics();
  options.metricsChannel?.attach(metrics.registry);
  const timedTsa = timedTimeStampAuthority(
    timeStampAuthority,
    metrics.timeStampObserver(timeStamping.embedded ? 'embedded' : 'external'),
  );
  // RM_CRL: revocation checked against CRLs loaded now (a bad CRL stops the start-up) and kept fresh.
  const revocation =
    config.crl.sources.length > 0
      ? await CrlRevocationChecker.load({
          sources: config.crl.sources,
          trustAnchors: keys.trustAnchors,
          clock,
          refreshSeconds: config.crl.refreshSeconds,
          cacheDir: path.join(config.dataDir, 'crl-cache'),
          log,
        })
      : undefined;
  const proofSigner = await createProofSigner(config, keys, timedTsa, revocation);
  const dataSource = await openDatabase(config.dataDir, {
    ...databaseSettingsOf(config),
    walCheckpointThread:
      config.databaseUrl === undefined ? walCheckpointThreadOptions(metrics, log) : undefined,
  });
  const writes = CommitGroup.of(dataSource);
  const walDurability = walDurabilityOf(dataSource);
  metrics.registerWritePath({
    transactions: () => writes.transactions,
    writes: () => writes.writes,
    walFsyncs: walDurability && (() => walDurability.flushes),
  });
  const blobs = new BlobStore(config.dataDir, config.blobDir);
  const contents = new ContentStore(dataSource, blobs, config.databaseContentMaxBytes);
  const staging = new StagingArea(
    config.dataDir,
    clock,
    inMemoryStagingLimits(config.databaseContentMaxBytes),
  );
  await staging.cleanOnStartup();

  const store = new TypeormItemStore(dataSource, contents);
  const replayGuard = new TypeormReplayStore(dataSource, clock);
  const sendService = new SendDocumentService({
    store,
    receiptIssuer: new ReceiptIssuer(proofSigner, clock),
    clock,
    logger: log,
  });
  const statusService = new GetStatusService(store);
  const { wsdlDir, xsdDir } = contractDirectories();
  const validator = await PayloadValidator.load(xsdDir);
  const certificateValidator = new CertificateValidator(keys.trustAnchors, clock, revocation);
  // Responses and faults are signed with the service key that signs receipts (RM_SIGNER_KEY/CERT, or the
  // dev PKI's signer), through the same DocumentSigner, so an HSM takes over both at once.
  const responseSigner = new EnvelopeSigner({ signer: keys.signer, clock });
  const version = await packageVersion();

  // RM_EBOX_*: the e-Box (the embedded simulator when RM_EBOX_URL is unset): CheckEboxStatus, delivery.
  const ebox = await connectEbox(env, clock, config.dataDir);
  const eboxProfiles = recipientEboxProfiles(ebox.profiles);
  const health = new HealthCheckService(
    createSanityChecks({
      dataSource,
      blobs,
      signer: keys.signer,
      clock,
      timeStamping: { authority: timeStampAuthority, external: timeStamping.embedded === undefined },
      ebox: ebox.settings,
    }),
    clock,
  );
  let baseUrl = '';
  const serviceUrl = () => `${baseUrl}${SERVICE_PATH}`;
  const delivery = createDelivery({
    config,
    clock,
    log,
    dataSource,
    contents,
    proofSigner,
    validator,
    ebox,
    serviceUrl,
    observer: metrics.publicationObserver(),
  });

  let listeningPort = config.port;
  // Both ports send through the same checks and services (the domain knows nothing of either port).
  const sendServices: SendServices = {
    async precheck(command) {
      assertDigestMethodsAccepted(command);
      assertRecipientValid(command.recipient);
      await assertEboxStatus(command.checkEboxStatus, command.recipient, eboxProfiles);
    },
    async send(input) {
      const outcome = await sendService.send(input);
      delivery.wake();
      return outcome;
    },
    openStaging: () => staging.openSession(),
  };
  const proofService = new GetProofService(store);

  const security = {
    async authenticate(envelope: ParsedEnvelope) {
      const facts = await processSecurityHeader(envelope, {
        knownCertificates: keys.knownSenders,
        certificateTrust: certificateValidator,
      });
      return enforceV1Policy(envelope, facts, {
        clock,
        settings: config.security,
        certificateValidator,
        senderIdentity: senderIdentityFromCertificate,
        allowedSenders: keys.allowedSenders,
        environment: config.environment,
        replayGuard,
      });
    },
    validatePayload: (payload: Element) => validator.validateElement(payload),
  };
  const endpointDependencies = { config, clock, log, responseSigner };
  const v1Port = await createSoapPortRoute(
    {
      wsdlDir,
      xsdDir,
      wsdlFileName: WSDL_FILE_NAME,
      bindingName: 'RegisteredMailSOAPBinding',
      servicePath: SERVICE_PATH,
      mtom: false,
      ...security,
      handlers: createV1Handlers({
        ...sendServices,
        status: (sender, ticket) => statusService.status(sender, ticket),
        health,
        component: { name: 'RegisteredMail', version },
        location: () => ({
          environment: monitoringEnvironment(config.environment),
          host: os.hostname(),
          port: listeningPort,
          url: config.publicUrl ? `${config.publicUrl}${SERVICE_PATH}` : undefined,
        }),
      }),
    },
    { ...endpointDependencies, requestObserver: metrics.soapRequestObserver(SERVICE_PATH) },
  );
  // This project's own operations (README, "RegisteredMailService"): MTOM or inline base64 documents.
  const ownPort = await createSoapPortRoute(
    {
      wsdlDir,
      xsdDir,
      wsdlFileName: OWN_WSDL_FILE_NAME,
      bindingName: OWN_BINDING_NAME,
      servicePath: OWN_SERVICE_PATH,
      mtom: true,
      ...security,
      handlers: createServiceHandlers({
        ...sendServices,
        history: (sender, ticket) => statusService.history(sender, ticket),
        proofs: (sender, ticket, kind) => proofService.proofs(sender, ticket, kind),
      }),
    },
    { ...endpointDependencies, requestObserver: metrics.soapRequestObserver(OWN_SERVICE_PATH) },
  );

  // GET /health, and GET /metrics unless RM_METRICS=false.
  const operationsRoutes = createOperationsRoutes({
    metricsEnabled: config.metricsEnabled,
    health,
    processes: options.metricsChannel ?? singleProcessSource(metrics.registry),
    dataSource,
    certificates: [
      { role: 'signer', certificate: keys.signer.certificate },
      ...(timeStamping.tsaCertificate
        ? [{ role: 'tsa' as const, certificate: timeStamping.tsaCertificate }]
        : []),
      ...keys.trustAnchors.map((certificate) => ({ role: 'trust_anchor' as const, certificate })),
      ...timeStamping.tsaTrustAnchors.map((certificate) => ({
        role: 'tsa_trust_anchor' as const,
        certificate,
      })),
    ],
    clock,
    log,
  });

  const server = createHttpServer(
    [v1Port, ownPort],
    {
      tls: config.tls,
      publicUrl: config.publicUrl,
      onUnhandled(error, response) {
        log.error('unhandled failure', { error: error instanceof Error ? error.message : String(error) });
        if (response.headersSent) return response.destroy();
        const fault = buildFaultDocument(error, {
          requestId: 'unhandled',
          faultNamespace: config.faultNamespace,
          environment: config.environment,
          now: clock.now(),
        });
        void signedFaultBody(fault.document, responseSigner, log).then(
          (body) => {
            if (response.headersSent) return response.destroy();
            response
              .writeHead(fault.status, { 'Content-Type': 'text/xml; charset=utf-8', Connection: 'close' })
              .end(body);
          },
          () => response.destroy(),
        );
      },
    },
    [
      ...(timeStamping.embedded
        ? [{ path: TSA_PATH, method: 'POST' as const, handle: createTsaHttpHandler(timeStamping.embedded) }]
        : []),
      ...operationsRoutes,
    ],
  );
  // Clients (Node's agent, JAX-WS) drop idle keep-alive connections after about 5 s, Node's server default
  // too: with equal timeouts a client may reuse a socket the server is closing ("socket hang up"). The
  // server waits longer, so the client is always the one that closes an idle connection.
  server.keepAliveTimeout = 65_000;
  server.headersTimeout = 66_000;
  await new Promise<void>((resolve, reject) => {
    server.once('error', reject);
    server.listen(config.port, config.host, () => resolve());
  });
  listeningPort = (server.address() as AddressInfo).port;
  const scheme = config.tls ? 'https' : 'http';
  const host = config.host === '0.0.0.0' || config.host === '::' ? 'localhost' : config.host;
  baseUrl = config.publicUrl ?? `${scheme}://${host}:${listeningPort}`;
  delivery.start();

  return {
    baseUrl,
    config,
    pki: keys.devPki,
    timeStampAuthority,
    dataSource,
    eboxSimulator: ebox.simulator,
    server,
    delivery,
    async close() {
      // New connections are refused at once; requests under way finish, then delivery finishes its
      // publications in flight, then the database closes. A keep-alive connection whose request ends
      // during the wait becomes idle and is closed at the next sweep rather than at its idle timeout.
      await new Promise<void>((resolve) => {
        const sweep = setInterval(() => server.closeIdleConnections(), 50);
        server.close(() => {
          clearInterval(sweep);
          resolve();
        });
        server.closeIdleConnections();
      });
      await delivery.stop();
      await dataSource.destroy();
      await ebox.close();
    },
  };
}
