import { NotAuthenticatedError, NotAuthorizedError } from '../../src/errors/faults';
import { CertificateValidator } from '../../src/pki/certificate-validator';
import { KnownCertificates } from '../../src/pki/known-certificates';
import { senderIdentityFromCertificate } from '../../src/pki/sender-identity';
import { certificateFingerprint } from '../../src/policy/certificate-fingerprint';
import { enforceV1Policy, type AuthenticatedRequest } from '../../src/policy/enforce-v1-policy';
import type { V1PolicyDependencies } from '../../src/policy/policy-dependencies';
import { processSecurityHeader } from '../../src/wssecurity/process-security-header';
import type { SecurityFacts } from '../../src/wssecurity/security-facts';
import type { KeyReferenceOption, WssSignOptions } from '../support/wss-signer';
import {
  createWssTestContext,
  DEFAULT_SECURITY_SETTINGS,
  disposeWssTestContext,
  parse,
  TEST_START,
  type TestCredentials,
  type WssTestContext,
} from '../wssecurity/wss-test-context';
import { MemoryReplayGuard } from './memory-replay-guard';
import { issueFromDevCa } from './policy-test-certificates';

/*
 * Point 3 of the WS-Security issue: the signing certificate named by a BinarySecurityToken referenced
 * directly, by X509IssuerSerial, by subject key identifier or by thumbprint. The last three resolve
 * against the known certificates (RM_SENDER_CERTS_DIR), and whatever certificate the key comes from
 * goes through the same trust, identity and allowlist checks. ECDSA where (and only where) the key is EC.
 */

const CBE_SUBJECT = (cn: string, environment = 'INT') =>
  `CN=${cn}, OU=${environment}, OU=urn:be:fgov:kbo-bce:organization:cbe-number:0861023666, OU=Belgian Federal Government, O=Test, C=BE`;

let ctx: WssTestContext;
let validator: CertificateValidator;
/** EC P-256 and P-384 senders of the dev CA, with a subject key identifier. */
let ecP256: TestCredentials;
let ecP384: TestCredentials;
/** A dev CA sender certificate without the subjectKeyIdentifier extension. */
let noSkiExtension: TestCredentials;
/** A dev CA certificate whose subject names no CBE. */
let noCbe: TestCredentials;
/** A dev CA sender certificate valid for one day only. */
let shortLived: TestCredentials;
let known: KnownCertificates;

beforeAll(async () => {
  ctx = await createWssTestContext();
  validator = new CertificateValidator([ctx.pki.ca.certificateDer], ctx.clock);
  const now = ctx.clock.now();
  ecP256 = await issueFromDevCa(ctx.pki, CBE_SUBJECT('ec-256'), 'ec-p256', now, {
    subjectKeyIdentifier: 'from-key',
  });
  ecP384 = await issueFromDevCa(ctx.pki, CBE_SUBJECT('ec-384'), 'ec-p384', now, {
    subjectKeyIdentifier: 'from-key',
  });
  noSkiExtension = await issueFromDevCa(ctx.pki, CBE_SUBJECT('no-ski'), 'rsa-2048', now);
  noCbe = await issueFromDevCa(
    ctx.pki,
    'CN=no-cbe, OU=Belgian Federal Government, O=Test, C=BE',
    'rsa-2048',
    now,
    {
      subjectKeyIdentifier: 'from-key',
    },
  );
  shortLived = await issueFromDevCa(ctx.pki, CBE_SUBJECT('short'), 'rsa-2048', now, {
    subjectKeyIdentifier: 'from-key',
    notAfter: new Date(now.getTime() + 86_400_000),
  });
  known = new KnownCertificates(
    [ctx.sender, ctx.accSender, ctx.foreignSender, ecP256, ecP384, noSkiExtension, noCbe, shortLived].map(
      (credentials) => credentials.certificateDer,
    ),
  );
});
afterAll(() => disposeWssTestContext(ctx));
beforeEach(() => ctx.clock.set(TEST_START));

function deps(overrides: Partial<V1PolicyDependencies> = {}): V1PolicyDependencies {
  return {
    clock: ctx.clock,
    settings: DEFAULT_SECURITY_SETTINGS,
    certificateValidator: validator,
    senderIdentity: senderIdentityFromCertificate,
    replayGuard: new MemoryReplayGuard(),
    ...overrides,
  };
}

/** Processes with the known certificates, then enforces: the outcome and the facts. */
async function enforce(
  options: Partial<WssSignOptions>,
  dependencies = deps(),
  knownCertificates = known,
): Promise<{ facts: SecurityFacts; outcome: AuthenticatedRequest | unknown }> {
  const envelope = parse(ctx.sign(options));
  const facts = await processSecurityHeader(envelope, { knownCertificates });
  const outcome = await enforceV1Policy(envelope, facts, dependencies).catch((error: unknown) => error);
  return { facts, outcome };
}

async function expectAccepted(options: Partial<WssSignOptions>, certificate: TestCredentials) {
  const { outcome } = await enforce(options);
  if (outcome instanceof Error) throw outcome;
  const accepted = outcome as AuthenticatedRequest;
  expect(accepted.certificate.equals(certificate.certificateDer)).toBe(true);
  return accepted;
}

async function expectRefused(
  options: Partial<WssSignOptions>,
  type: typeof NotAuthenticatedError | typeof NotAuthorizedError,
  reason: RegExp,
  dependencies?: V1PolicyDependencies,
  knownCertificates?: KnownCertificates,
): Promise<SecurityFacts> {
  const { facts, outcome } = await enforce(options, dependencies, knownCertificates);
  expect(outcome).toBeInstanceOf(type);
  expect(outcome).toMatchObject({
    code: type === NotAuthenticatedError ? 'SOA-01001' : 'SOA-01002',
    reason: expect.stringMatching(reason),
  });
  return facts;
}

const KNOWN_KINDS = ['issuer-serial', 'ski', 'thumbprint'] as const satisfies readonly KeyReferenceOption[];
const ALL_KINDS = ['bst', ...KNOWN_KINDS] as const;

describe.each(ALL_KINDS)('key reference %s', (keyReference) => {
  test('a known, trusted sender is accepted, as the sender its certificate names', async () => {
    const accepted = await expectAccepted({ keyReference }, ctx.sender);
    expect(accepted.sender).toEqual({ cbe: '0861023666', applicationId: 'dev-sender-1' });
    expect(accepted.certificateChain.at(-1)?.equals(ctx.pki.ca.certificateDer)).toBe(true);
  });

  test('a certificate of an untrusted CA is refused, though known', async () => {
    await expectRefused(
      { keyReference, keyPem: ctx.foreignSender.keyPem, certPem: ctx.foreignSender.certPem },
      NotAuthenticatedError,
      /sender certificate not trusted/,
    );
  });

  test('an expired certificate is refused, though known', async () => {
    ctx.clock.set(new Date(TEST_START.getTime() + 2 * 86_400_000));
    await expectRefused(
      { keyReference, keyPem: shortLived.keyPem, certPem: shortLived.certPem, created: ctx.clock.now() },
      NotAuthenticatedError,
      /sender certificate not trusted/,
    );
  });

  test('the allowlist applies', async () => {
    const allowlist = (credentials: TestCredentials) =>
      deps({ allowedSenders: new Set([certificateFingerprint(credentials.certificateDer)]) });
    await expectRefused(
      { keyReference },
      NotAuthorizedError,
      /not on the allowlist/,
      allowlist(ctx.otherSender),
    );
    const { outcome } = await enforce({ keyReference }, allowlist(ctx.sender));
    expect(outcome).not.toBeInstanceOf(Error);
  });

  test('the identity rules apply: no CBE, another environment', async () => {
    await expectRefused(
      { keyReference, keyPem: noCbe.keyPem, certPem: noCbe.certPem },
      NotAuthorizedError,
      /no CBE number/,
    );
    await expectRefused(
      { keyReference, keyPem: ctx.accSender.keyPem, certPem: ctx.accSender.certPem },
      NotAuthorizedError,
      /environment ACC is not the service's INT/,
      deps({ environment: 'INT' }),
    );
  });

  test('ECDSA P-256 and P-384 keys are accepted with ECDSA-SHA256 and ECDSA-SHA512', async () => {
    for (const certificate of [ecP256, ecP384]) {
      for (const signatureAlgorithm of ['ecdsa-sha256', 'ecdsa-sha512'] as const) {
        const options = { keyReference, keyPem: certificate.keyPem, certPem: certificate.certPem };
        await expectAccepted({ ...options, signatureAlgorithm }, certificate);
      }
    }
  });

  test('an RSA method with an EC key, and an ECDSA method with an RSA key, are refused unverified', async () => {
    const ecWithRsaMethod = await expectRefused(
      { keyReference, keyPem: ecP256.keyPem, certPem: ecP256.certPem, signatureAlgorithm: 'rsa-sha256' },
      NotAuthenticatedError,
      /rsa-sha256 needs an RSA key, the key is ec/,
    );
    const rsaWithEcdsaMethod = await expectRefused(
      { keyReference, signatureAlgorithm: 'ecdsa-sha256' },
      NotAuthenticatedError,
      /ecdsa-sha256 needs an EC key, the key is rsa/,
    );
    for (const facts of [ecWithRsaMethod, rsaWithEcdsaMethod]) {
      expect(facts).toMatchObject({ signatureVerifications: 0, digestedBytes: 0 });
    }
  });
});

describe.each(KNOWN_KINDS)('key reference %s to a certificate the service does not know', (keyReference) => {
  test('is refused, and nothing is verified or digested', async () => {
    for (const knownCertificates of [
      KnownCertificates.none,
      new KnownCertificates([ctx.otherSender.certificateDer]),
    ]) {
      const facts = await expectRefused(
        { keyReference },
        NotAuthenticatedError,
        /the signature key is not resolved \(.*: no known certificate has this /,
        deps(),
        knownCertificates,
      );
      expect(facts).toMatchObject({ signatureVerifications: 0, digestedBytes: 0 });
    }
  });

  test('is refused when the header also carries the (unreferenced) certificate as a BinarySecurityToken', async () => {
    await expectRefused(
      { keyReference, includeUnreferencedToken: true },
      NotAuthenticatedError,
      /not resolved/,
      deps(),
      KnownCertificates.none,
    );
  });
});

describe.each(KNOWN_KINDS)('key reference %s with a BinarySecurityToken present', (keyReference) => {
  test('a token the signature does not reference is refused', async () => {
    await expectRefused(
      { keyReference, includeUnreferencedToken: true },
      NotAuthenticatedError,
      /1 BinarySecurityToken\(s\) of the Security header not referenced by the signature/,
    );
  });
});

describe('issuer-serial', () => {
  test('the serial of a known certificate under another issuer name is refused', async () => {
    await expectRefused(
      {
        keyReference: 'issuer-serial',
        issuerNameText: 'CN=Another CA,O=RegisteredMail development PKI,C=BE',
      },
      NotAuthenticatedError,
      /issuer-serial: no known certificate has this issuer and serial number/,
    );
  });

  test('the issuer of a known certificate with another serial is refused', async () => {
    await expectRefused(
      { keyReference: 'issuer-serial', serialNumberText: '12345' },
      NotAuthenticatedError,
      /no known certificate has this issuer and serial number/,
    );
  });

  test('the issuer name written with spaces and lower-case keywords (RFC 1779 style) is accepted', async () => {
    await expectAccepted(
      {
        keyReference: 'issuer-serial',
        issuerNameText:
          'cn=RegisteredMail Development Root CA, ou=NOT FOR PRODUCTION USE, o=RegisteredMail development PKI, c=BE',
      },
      ctx.sender,
    );
  });
});

describe('subject key identifier', () => {
  test('a certificate without the extension is named by SHA-1 of its public key bits, as WSS4J computes it', async () => {
    await expectAccepted(
      { keyReference: 'ski', keyPem: noSkiExtension.keyPem, certPem: noSkiExtension.certPem },
      noSkiExtension,
    );
  });

  test('a thumbprint or key identifier of another known certificate makes the signature fail', async () => {
    for (const keyReference of ['ski', 'thumbprint'] as const) {
      await expectRefused(
        { keyReference, certPem: ctx.otherSender.certPem },
        NotAuthenticatedError,
        /SignatureValue does not verify with the referenced certificate's key/,
        deps(),
        new KnownCertificates([ctx.sender.certificateDer, ctx.otherSender.certificateDer]),
      );
    }
  });
});

describe('embedded certificates', () => {
  test('a known certificate embedded in KeyInfo is never used', async () => {
    const embedded = `<ds:X509Data><ds:X509Certificate>${ctx.sender.certificateDer.toString('base64')}</ds:X509Certificate></ds:X509Data>`;
    for (const keyInfoXml of [
      embedded,
      `<wsse:SecurityTokenReference>${embedded}</wsse:SecurityTokenReference>`,
    ]) {
      await expectRefused({ keyInfoXml }, NotAuthenticatedError, /not resolved \(embedded: .*never used/);
    }
  });
});
