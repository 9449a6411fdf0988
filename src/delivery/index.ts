/** Delivery into the e-Box: the clients of the e-Box API (publication, profiles, tokens) and their errors. */
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
