import { readFileSync } from 'node:fs';
import type { EboxProfile } from './model';

/** The recipients whose profile is not the default, keyed by INSS and by CBE. */
export interface ProfileExceptions {
  citizens: Record<string, EboxProfile>;
  enterprises: Record<string, EboxProfile>;
}

/** Every valid INSS or CBE not listed as an exception has this profile. */
export const DEFAULT_PROFILE: EboxProfile = { exists: true, activated: true, preferredChannel: 'EBOX' };

const CHANNELS = new Set(['EBOX', 'PAPER', 'EMAIL']);

function parseProfile(raw: unknown, where: string): EboxProfile {
  const value = raw as Partial<EboxProfile> | null;
  if (
    typeof value !== 'object' ||
    value === null ||
    typeof value.exists !== 'boolean' ||
    typeof value.activated !== 'boolean' ||
    !CHANNELS.has(String(value.preferredChannel))
  ) {
    throw new Error(`e-Box profiles: ${where} needs exists, activated (booleans) and preferredChannel`);
  }
  const profile: EboxProfile = {
    exists: value.exists,
    activated: value.activated,
    preferredChannel: value.preferredChannel as EboxProfile['preferredChannel'],
  };
  if (typeof value.lastConnectionDate === 'string') profile.lastConnectionDate = value.lastConnectionDate;
  return profile;
}

function parseSection(raw: unknown, name: string): Record<string, EboxProfile> {
  if (raw === undefined) return {};
  if (typeof raw !== 'object' || raw === null) throw new Error(`e-Box profiles: ${name} must be an object`);
  const section: Record<string, EboxProfile> = {};
  for (const [id, profile] of Object.entries(raw)) section[id] = parseProfile(profile, `${name}.${id}`);
  return section;
}

/** Reads a profiles file `{citizens: {inss: profile}, enterprises: {cbe: profile}}`; none = no exceptions. */
export function loadProfileExceptions(file: string | undefined): ProfileExceptions {
  if (file === undefined) return { citizens: {}, enterprises: {} };
  const raw = JSON.parse(readFileSync(file, 'utf8')) as Record<string, unknown>;
  return {
    citizens: parseSection(raw.citizens, 'citizens'),
    enterprises: parseSection(raw.enterprises, 'enterprises'),
  };
}

/** The profile of a (valid) identifier: its exception, or the default. */
export function profileOf(
  exceptions: ProfileExceptions,
  kind: 'citizen' | 'enterprise',
  id: string,
): EboxProfile {
  const listed = kind === 'citizen' ? exceptions.citizens[id] : exceptions.enterprises[id];
  return listed ?? DEFAULT_PROFILE;
}
