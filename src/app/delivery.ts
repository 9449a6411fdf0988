import type { DataSource } from 'typeorm';
import type { Clock } from '../clock/clock';
import type { Config } from '../config/config';
import { ConsultationPoller } from '../delivery/consultation-poller';
import { OutboxWorker, type OutboxWorkerObserver } from '../delivery/outbox-worker';
import { EvidenceIssuer, type EvidenceValidator } from '../evidence/evidence-issuer';
import type { ProofSigner } from '../evidence/proof-signer';
import type { Logger } from '../logging/logger';
import type { ContentStore } from '../storage/content-store';
import { TypeormOutboxStore } from '../storage/typeorm-outbox-store';
import type { EboxConnection } from './ebox-connection';

/** Delivery as the service runs it: the outbox worker and the consultation poller. */
export interface Delivery {
  worker: OutboxWorker;
  consultation: ConsultationPoller;
  store: TypeormOutboxStore;
  /** Starts both loops, unless RM_DELIVERY_PAUSED. */
  start(): void;
  /** An item was accepted: the worker looks for it now rather than at its next poll. */
  wake(): void;
  /** Stops claiming, lets publications and a consultation round under way finish, releases the rest. */
  stop(): Promise<void>;
}

export interface DeliveryDependencies {
  config: Config;
  clock: Clock;
  log: Logger;
  dataSource: DataSource;
  /** Where documents are read from and proofs stored. */
  contents: ContentStore;
  proofSigner: ProofSigner;
  /** The service's schema set, which holds the evidence schema. */
  validator: EvidenceValidator;
  ebox: EboxConnection;
  /** The service's URL, stated in every evidence (known once the server listens). */
  serviceUrl: () => string;
  /** Told how each publication attempt ended (metrics). */
  observer?: OutboxWorkerObserver;
}

/** Wires the outbox worker and the consultation poller (RM_OUTBOX_*, RM_DELIVERY_*, RM_CONSULTATION_*). */
export function createDelivery(dependencies: DeliveryDependencies): Delivery {
  const { config, clock, log, dataSource, contents, proofSigner, validator, ebox } = dependencies;
  const settings = config.delivery;
  const store = new TypeormOutboxStore(dataSource, contents);
  // The issuer identity is read when the first evidence is issued: the URL is known only after listen().
  let issuer: EvidenceIssuer | undefined;
  const evidence = {
    issue: (facts: Parameters<EvidenceIssuer['issue']>[0]) => {
      issuer ??= new EvidenceIssuer(proofSigner, clock, validator, {
        ...config.operator,
        serviceUrl: dependencies.serviceUrl(),
      });
      return issuer.issue(facts);
    },
  };
  const worker = new OutboxWorker({
    store,
    publisher: ebox.publication,
    profiles: ebox.profiles,
    evidence,
    blobs: contents,
    clock,
    log,
    observer: dependencies.observer,
    settings: {
      leaseMs: settings.leaseSeconds * 1000,
      batchSize: settings.batchSize,
      concurrency: settings.concurrency,
      pollIntervalMs: settings.pollIntervalMs,
      retryBaseMs: settings.retryBaseSeconds * 1000,
      retryMaxMs: settings.retryMaxSeconds * 1000,
      retryPeriodMs: settings.retryPeriodSeconds * 1000,
    },
  });
  const consultation = new ConsultationPoller({
    store,
    statuses: ebox.messageStatuses,
    evidence,
    clock,
    log,
    settings: {
      intervalMs: settings.consultationPollSeconds * 1000,
      batchSize: settings.consultationBatchSize,
    },
  });
  return {
    worker,
    consultation,
    store,
    start() {
      if (settings.paused) {
        log.info('delivery paused (RM_DELIVERY_PAUSED): accepted items stay in the outbox');
        return;
      }
      worker.start();
      consultation.start();
    },
    wake: () => worker.wake(),
    async stop() {
      await Promise.all([worker.stop(), consultation.stop()]);
    },
  };
}
