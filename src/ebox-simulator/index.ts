export { startEboxSimulator, type EboxSimulator, type EboxSimulatorOptions } from './simulator';
export { DEV_CREDENTIALS, type ClientCredentials } from './token-issuer';
export { DEFAULT_PROFILE, type ProfileExceptions } from './profiles';
export type { EboxParty, EboxProfile, SimulatedAttachment, SimulatedMessage } from './model';
