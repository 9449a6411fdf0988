/**
 * Delivery into the e-Box: the clients of the e-Box API (publication, profiles, tokens) and their errors,
 * and the outbox worker that publishes accepted items with their ProofOfDispatch.
 */
export { EboxPublicationClient } from './ebox-publication-client';
export { EboxProfileClient, type EboxProfile } from './ebox-profile-client';
export { EboxTokenClient } from './ebox-token-client';
export {
  DEFAULT_EBOX_TIMEOUT_MS,
  DEV_EBOX_CLIENT_ID,
  DEV_EBOX_CLIENT_SECRET,
  EboxSettingsError,
  eboxClientSettingsFromEnv,
  type EboxClientSettings,
} from './ebox-client-settings';
export { buildMessageToPublish, subjectOf, type MessageToPublish } from './build-message-to-publish';
export type { EboxRecipient, PublicationFile, PublicationItem, PublicationResult } from './publication-item';
export { PermanentPublicationError, PublicationError, TransientPublicationError } from './publication-errors';
export {
  OutboxWorker,
  type EvidenceSource,
  type ItemPublisher,
  type OutboxWorkerOptions,
  type OutboxWorkerSettings,
  type RecipientProfiles,
} from './outbox-worker';
export { eboxRecipientOf, publicationItemOf, type BlobSource } from './publication-item-of';
export {
  afterTransientFailure,
  retryDelayMs,
  type RandomSource,
  type RetryDecision,
  type RetrySettings,
  type TransientFailure,
} from './retry-schedule';
export {
  EboxMessageStatusClient,
  type EboxMessageStatus,
  type EboxReadStatus,
} from './ebox-message-status-client';
export {
  ConsultationPoller,
  type ConsultationEvidenceIssuer,
  type ConsultationPollerLog,
  type ConsultationPollerOptions,
  type ConsultationPollerSettings,
  type MessageStatusSource,
} from './consultation-poller';
