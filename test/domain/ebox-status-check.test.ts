import {
  assertEboxStatus,
  type EboxLookupRecipient,
  type RecipientEboxProfile,
  type RecipientEboxProfiles,
} from '../../src/domain/ebox-status-check';
import type { Recipient } from '../../src/domain/model';
import {
  EboxNotActivatedError,
  EboxNotPreferredError,
  TemporarilyUnavailableError,
  UnexpectedError,
} from '../../src/errors/faults';

/** A profile directory in memory that remembers what it was asked. */
function profilesOf(profile: RecipientEboxProfile | Error): RecipientEboxProfiles & {
  asked: EboxLookupRecipient[];
} {
  const asked: EboxLookupRecipient[] = [];
  return {
    asked,
    async lookup(recipient) {
      asked.push(recipient);
      if (profile instanceof Error) throw profile;
      return profile;
    },
  };
}

const CITIZEN: Recipient = { kind: 'citizen', inss: '85073003328', qualityCode: 'CITIZEN' };
const ACTIVE = { exists: true, activated: true, preferred: true };
const PAPER = { exists: true, activated: true, preferred: false };
const DORMANT = { exists: true, activated: false, preferred: false };
const NONE = { exists: false, activated: false, preferred: false };

describe('assertEboxStatus', () => {
  it('looks nothing up for BYPASS', async () => {
    const profiles = profilesOf(new Error('must not be called'));
    await expect(assertEboxStatus('BYPASS', CITIZEN, profiles)).resolves.toBeUndefined();
    expect(profiles.asked).toEqual([]);
  });

  it('ACTIVATED needs an existing, activated e-Box', async () => {
    await expect(assertEboxStatus('ACTIVATED', CITIZEN, profilesOf(PAPER))).resolves.toBeUndefined();
    await expect(assertEboxStatus('ACTIVATED', CITIZEN, profilesOf(DORMANT))).rejects.toThrow(
      EboxNotActivatedError,
    );
    await expect(assertEboxStatus('ACTIVATED', CITIZEN, profilesOf(NONE))).rejects.toThrow(
      EboxNotActivatedError,
    );
  });

  it('PREFERRED needs activation first (EBOX_B01), then the preferred channel (EBOX_B02)', async () => {
    await expect(assertEboxStatus('PREFERRED', CITIZEN, profilesOf(ACTIVE))).resolves.toBeUndefined();
    await expect(assertEboxStatus('PREFERRED', CITIZEN, profilesOf(DORMANT))).rejects.toThrow(
      EboxNotActivatedError,
    );
    await expect(assertEboxStatus('PREFERRED', CITIZEN, profilesOf(PAPER))).rejects.toThrow(
      EboxNotPreferredError,
    );
  });

  it('looks an enterprise up by its 10-digit CBE, without the quality code', async () => {
    const profiles = profilesOf(ACTIVE);
    await assertEboxStatus('ACTIVATED', { kind: 'enterprise', cbe: '200000538', qualityCode: 'Q' }, profiles);
    expect(profiles.asked).toEqual([{ kind: 'enterprise', cbe: '0200000538' }]);
  });

  it('turns a failed lookup into SOA-02002 with Retry, and lets service errors through', async () => {
    const failed = assertEboxStatus('ACTIVATED', CITIZEN, profilesOf(new Error('ECONNREFUSED')));
    await expect(failed).rejects.toThrow(TemporarilyUnavailableError);
    await expect(failed).rejects.toMatchObject({ code: 'SOA-02002', retry: true });
    await expect(assertEboxStatus('ACTIVATED', CITIZEN, profilesOf(new UnexpectedError()))).rejects.toThrow(
      UnexpectedError,
    );
  });
});
