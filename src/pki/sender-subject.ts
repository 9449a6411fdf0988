/*
 * The shape of a sender certificate's subject on the Belgian social security platform:
 * `C=BE, O=<organisation>, OU=Belgian Federal Government,
 *  OU=urn:be:fgov:kbo-bce:organization:cbe-number:<CBE>, OU=<environment>, CN=<application id>`.
 */

/** The OU that every platform sender certificate carries. */
export const FEDERAL_GOVERNMENT_OU = 'Belgian Federal Government';

/** Prefix of the OU that names the sender's enterprise number (CBE / KBO). */
export const CBE_OU_PREFIX = 'urn:be:fgov:kbo-bce:organization:cbe-number:';

/** The environment OUs a sender certificate may carry. */
export const SENDER_ENVIRONMENTS = ['PRD', 'ACC', 'INT', 'TST', 'DEV', 'SIM'] as const;

/** One of {@link SENDER_ENVIRONMENTS}. */
export type SenderEnvironment = (typeof SENDER_ENVIRONMENTS)[number];

/** Whether a string is one of {@link SENDER_ENVIRONMENTS}. */
export function isSenderEnvironment(value: string): value is SenderEnvironment {
  return (SENDER_ENVIRONMENTS as readonly string[]).includes(value);
}

/** What a sender certificate's subject states. */
export interface SenderSubject {
  organisation: string;
  cbe: string;
  applicationId: string;
  /** Omitted from the subject when undefined. */
  environment: string | undefined;
}

/**
 * The subject as relative distinguished names in encoding order (one attribute each), in the JSON
 * form that @peculiar/x509 accepts.
 */
export function senderSubjectRdns(subject: SenderSubject): Record<string, string[]>[] {
  return [
    { C: ['BE'] },
    { O: [subject.organisation] },
    { OU: [FEDERAL_GOVERNMENT_OU] },
    { OU: [`${CBE_OU_PREFIX}${subject.cbe}`] },
    ...(subject.environment === undefined ? [] : [{ OU: [subject.environment] }]),
    { CN: [subject.applicationId] },
  ];
}
