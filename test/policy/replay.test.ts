import { CertificateValidator } from '../../src/pki/certificate-validator';
import {
  NotAuthenticatedError,
  NotAuthorizedError,
  TemporarilyUnavailableError,
} from '../../src/errors/faults';
import { senderIdentityFromCertificate } from '../../src/pki/sender-identity';
import { certificateFingerprint } from '../../src/policy/certificate-fingerprint';
import { enforceV1Policy } from '../../src/policy/enforce-v1-policy';
import type { V1PolicyDependencies } from '../../src/policy/policy-dependencies';
import { replayKey, type ReplayGuard } from '../../src/policy/replay-guard';
import { processSecurityHeader } from '../../src/wssecurity/process-security-header';
import {
  createWssTestContext,
  DEFAULT_SECURITY_SETTINGS,
  disposeWssTestContext,
  firstElement,
  parse,
  tamper,
  TEST_START,
  type WssTestContext,
} from '../wssecurity/wss-test-context';
import { MemoryReplayGuard } from './memory-replay-guard';

/*
 * The replay rule of the v1 policy: the accepted message is recorded (key over Created and
 * SignatureValue, until the instant the Timestamp makes it unacceptable anyway), a message seen before is
 * SOA-01001 "replayed", and a message the policy refuses for another reason is not recorded.
 */

const TYPES_NS = 'http://socialsecurity.be/registeredmail/types/v1';

let ctx: WssTestContext;
let validator: CertificateValidator;
beforeAll(async () => {
  ctx = await createWssTestContext();
  validator = new CertificateValidator([ctx.pki.ca.certificateDer], ctx.clock);
});
afterAll(() => disposeWssTestContext(ctx));
beforeEach(() => ctx.clock.set(TEST_START));

function deps(replayGuard: ReplayGuard, overrides: Partial<V1PolicyDependencies> = {}): V1PolicyDependencies {
  return {
    clock: ctx.clock,
    settings: DEFAULT_SECURITY_SETTINGS,
    certificateValidator: validator,
    senderIdentity: senderIdentityFromCertificate,
    replayGuard,
    ...overrides,
  };
}

async function enforce(xml: string, dependencies: V1PolicyDependencies) {
  const envelope = parse(xml);
  return enforceV1Policy(envelope, await processSecurityHeader(envelope), dependencies);
}

async function refusal(promise: Promise<unknown>): Promise<unknown> {
  return promise.then(
    () => undefined,
    (error: unknown) => error,
  );
}

describe('replayKey', () => {
  const signatureValue = Buffer.from('0123456789abcdef', 'hex');

  test('is the hex SHA-256 of the instant and the SignatureValue, the same for the same message', () => {
    const created = new Date('2025-06-02T09:00:00.000Z');
    expect(replayKey(created, signatureValue)).toMatch(/^[0-9a-f]{64}$/);
    expect(replayKey(new Date(created), Buffer.from(signatureValue))).toBe(
      replayKey(created, signatureValue),
    );
  });

  test('changes with a millisecond of Created or a bit of the SignatureValue', () => {
    const created = new Date('2025-06-02T09:00:00.000Z');
    const other = Buffer.from(signatureValue);
    other[7] ^= 1;
    expect(replayKey(new Date(created.getTime() + 1), signatureValue)).not.toBe(
      replayKey(created, signatureValue),
    );
    expect(replayKey(created, other)).not.toBe(replayKey(created, signatureValue));
  });
});

describe('the policy and the replay guard', () => {
  test('the same signed message twice: accepted once, then SOA-01001 "replayed"', async () => {
    const guard = new MemoryReplayGuard();
    const xml = ctx.sign();
    const accepted = await enforce(xml, deps(guard));
    const error = await refusal(enforce(xml, deps(guard)));
    expect(error).toBeInstanceOf(NotAuthenticatedError);
    expect(error).toMatchObject({ code: 'SOA-01001', reason: expect.stringMatching(/^replayed: /) });
    expect([...guard.entries.values()]).toEqual([
      {
        key: replayKey(TEST_START, accepted.replay.signatureValue),
        expiresAt: accepted.replay.acceptableUntil,
      },
    ]);
  });

  test('the entry lasts until the earlier of Expires and Created + the maximum age', async () => {
    const shortLived = new MemoryReplayGuard();
    await enforce(ctx.sign({ expiresInSeconds: 120 }), deps(shortLived));
    expect([...shortLived.entries.values()][0].expiresAt).toEqual(new Date(TEST_START.getTime() + 120_000));

    const noExpires = new MemoryReplayGuard();
    await enforce(ctx.sign({ expiresInSeconds: null }), deps(noExpires));
    expect([...noExpires.entries.values()][0].expiresAt).toEqual(new Date(TEST_START.getTime() + 300_000));
  });

  test('the same content signed anew (a later Timestamp) is another message and passes', async () => {
    const guard = new MemoryReplayGuard();
    await enforce(ctx.sign(), deps(guard));
    ctx.clock.advance(1);
    await expect(enforce(ctx.sign(), deps(guard))).resolves.toBeDefined();
    expect(guard.entries.size).toBe(2);
  });

  test('a message refused by the signature rules is not recorded', async () => {
    const guard = new MemoryReplayGuard();
    const tampered = tamper(ctx.sign(), (document) => {
      firstElement(document, TYPES_NS, 'Ticket').firstChild!.nodeValue = '0123456789ABD';
    });
    expect(await refusal(enforce(tampered, deps(guard)))).toBeInstanceOf(NotAuthenticatedError);
    expect(guard.entries.size).toBe(0);
  });

  test('a message refused by authorisation is not recorded', async () => {
    const guard = new MemoryReplayGuard();
    const notAllowed = deps(guard, {
      allowedSenders: new Set([certificateFingerprint(ctx.otherSender.certificateDer)]),
    });
    expect(await refusal(enforce(ctx.sign(), notAllowed))).toBeInstanceOf(NotAuthorizedError);
    expect(guard.entries.size).toBe(0);
  });

  test("the guard's storage failure reaches the caller as it is (SOA-02002)", async () => {
    const unavailable: ReplayGuard = {
      recordFirstSighting: async () => {
        throw new TemporarilyUnavailableError({ cause: new Error('database is locked') });
      },
    };
    const error = await refusal(enforce(ctx.sign(), deps(unavailable)));
    expect(error).toBeInstanceOf(TemporarilyUnavailableError);
    expect(error).toMatchObject({ code: 'SOA-02002' });
  });
});
