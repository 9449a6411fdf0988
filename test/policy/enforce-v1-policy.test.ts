import { type Document } from '@xmldom/xmldom';
import type { SecuritySettings } from '../../src/config/config';
import { NotAuthenticatedError, NotAuthorizedError } from '../../src/errors/faults';
import { CertificateValidator } from '../../src/pki/certificate-validator';
import { senderIdentityFromCertificate } from '../../src/pki/sender-identity';
import { certificateFingerprint } from '../../src/policy/certificate-fingerprint';
import { enforceV1Policy } from '../../src/policy/enforce-v1-policy';
import type { SenderCertificateValidator, V1PolicyDependencies } from '../../src/policy/policy-dependencies';
import { processSecurityHeader } from '../../src/wssecurity/process-security-header';
import { DS_NS, WSSE_NS, WSU_NS } from '../../src/wssecurity/namespaces';
import type { SecurityFacts } from '../../src/wssecurity/security-facts';
import { WSS_URIS } from '../support/wss-signer';
import {
  createWssTestContext,
  disposeWssTestContext,
  DEFAULT_SECURITY_SETTINGS,
  firstElement,
  parse,
  SAMPLE_ENVELOPE,
  tamper,
  type WssTestContext,
} from '../wssecurity/wss-test-context';
import { MemoryReplayGuard } from './memory-replay-guard';
import { issueFromDevCa } from './policy-test-certificates';

const SOAP_NS = 'http://schemas.xmlsoap.org/soap/envelope/';
const TYPES_NS = 'http://socialsecurity.be/registeredmail/types/v1';

let ctx: WssTestContext;
let validator: CertificateValidator;
beforeAll(async () => {
  ctx = await createWssTestContext();
  validator = new CertificateValidator([ctx.pki.ca.certificateDer], ctx.clock);
});
afterAll(() => {
  disposeWssTestContext(ctx);
});

beforeEach(() => ctx.clock.set(new Date('2025-06-02T09:00:00.000Z')));

/** For tests about something other than trust: accepts any certificate. */
const acceptAnyCertificate: SenderCertificateValidator = {
  validate: async (der) => ({ valid: true, chain: [der] }),
};

function deps(overrides: Partial<V1PolicyDependencies> = {}, settings: Partial<SecuritySettings> = {}) {
  return {
    clock: ctx.clock,
    settings: { ...DEFAULT_SECURITY_SETTINGS, ...settings },
    certificateValidator: validator,
    senderIdentity: senderIdentityFromCertificate,
    replayGuard: new MemoryReplayGuard(),
    ...overrides,
  } satisfies V1PolicyDependencies;
}

async function enforce(xml: string, dependencies: V1PolicyDependencies = deps()) {
  const envelope = parse(xml);
  const facts = await processSecurityHeader(envelope);
  return { envelope, facts, result: enforceV1Policy(envelope, facts, dependencies) };
}

/** Expects SOA-01001 with a reason matching `reason`; returns the facts for further checks. */
async function expectNotAuthenticated(xml: string, reason: RegExp, dependencies?: V1PolicyDependencies) {
  const { facts, result } = await enforce(xml, dependencies);
  const error = await result.then(
    () => undefined,
    (caught: unknown) => caught,
  );
  expect(error).toBeInstanceOf(NotAuthenticatedError);
  expect(error).toMatchObject({ code: 'SOA-01001', reason: expect.stringMatching(reason) });
  return facts;
}

async function expectNotAuthorized(xml: string, reason: RegExp, dependencies?: V1PolicyDependencies) {
  const { result } = await enforce(xml, dependencies);
  const error = await result.then(
    () => undefined,
    (caught: unknown) => caught,
  );
  expect(error).toBeInstanceOf(NotAuthorizedError);
  expect(error).toMatchObject({ code: 'SOA-01002', reason: expect.stringMatching(reason) });
}

function securityHeader(document: Document) {
  return firstElement(document, WSSE_NS, 'Security');
}

function soapBody(document: Document) {
  return firstElement(document, SOAP_NS, 'Body');
}

/** A Body with an attacker's payload, in place of the signed one, which goes where `stash` puts it. */
function replaceBody(
  document: Document,
  stash: (signedBody: ReturnType<typeof soapBody>) => void,
  id?: ['wsu:Id' | 'Id', string],
) {
  const signedBody = soapBody(document);
  const forged = document.createElementNS(SOAP_NS, 'soapenv:Body');
  if (id?.[0] === 'wsu:Id') forged.setAttributeNS(WSU_NS, 'wsu:Id', id[1]);
  if (id?.[0] === 'Id') forged.setAttribute('Id', id[1]);
  const request = document.createElementNS(
    'http://socialsecurity.be/registeredmail/v1',
    'v1:GetStatusRequest',
  );
  const ticket = document.createElementNS(TYPES_NS, 'typ:Ticket');
  ticket.appendChild(document.createTextNode('EVILTICKET999'));
  request.appendChild(ticket);
  forged.appendChild(request);
  signedBody.parentNode!.replaceChild(forged, signedBody);
  stash(signedBody);
}

function noDigesting(facts: SecurityFacts) {
  expect(facts.digestedBytes).toBe(0);
}

describe('a good request', () => {
  test('passes, and the payload is the very node of the parsed document under the signed Body', async () => {
    const { envelope, facts, result } = await enforce(ctx.sign());
    const accepted = await result;
    expect(accepted.payload).toBe(envelope.payload);
    expect(accepted.payload.parentNode).toBe(envelope.body);
    const signedBody = facts.securityHeaders[0].signatures[0].references.find(
      (ref) => ref.element === envelope.body,
    );
    expect(signedBody?.digest.outcome).toBe('valid');
    expect(accepted.sender).toEqual({ cbe: '0861023666', applicationId: 'dev-sender-1' });
    expect(accepted.certificate.equals(ctx.sender.certificateDer)).toBe(true);
    expect(accepted.certificateChain).toHaveLength(2);
    expect(accepted.replay.acceptableUntil.toISOString()).toBe('2025-06-02T09:05:00.000Z');
    expect(accepted.replay.signatureValue.length).toBe(256);
  });

  test('passes with RSA-SHA512 and SHA-512 digests', async () => {
    await expect(
      (await enforce(ctx.sign({ signatureAlgorithm: 'rsa-sha512', digestAlgorithm: 'sha512' }))).result,
    ).resolves.toBeDefined();
  });

  test('passes when the token is not signed, without InclusiveNamespaces and mustUnderstand (zeep)', async () => {
    const xml = ctx.sign({ signToken: false, inclusivePrefixes: false, omitMustUnderstand: true });
    await expect((await enforce(xml)).result).resolves.toBeDefined();
  });

  test('passes with a Body identified by an unqualified Id', async () => {
    await expect((await enforce(ctx.sign({ bodyIdAttribute: 'Id' }))).result).resolves.toBeDefined();
  });

  test('passes with exactly 30 references', async () => {
    await expect((await enforce(ctx.sign({ extraSignedHeaders: 27 }))).result).resolves.toBeDefined();
  });

  test('passes without Expires (Created and the maximum age bound it)', async () => {
    const { result } = await enforce(ctx.sign({ expiresInSeconds: null }));
    expect((await result).replay.acceptableUntil.toISOString()).toBe('2025-06-02T09:05:00.000Z');
  });

  test('passes with another certificate in KeyInfo, which is ignored', async () => {
    const { result } = await enforce(ctx.sign({ extraKeyInfoCertPem: ctx.otherSender.certPem }));
    expect((await result).sender.applicationId).toBe('dev-sender-1');
  });
});

describe('signature wrapping', () => {
  test('signed Body moved into a header wrapper, replaced by a Body with the same wsu:Id', async () => {
    const xml = tamper(ctx.sign(), (document) =>
      replaceBody(
        document,
        (signed) => {
          const wrapper = document.createElementNS('urn:wrapper', 'w:Wrapper');
          securityHeader(document).parentNode!.appendChild(wrapper);
          wrapper.appendChild(signed);
        },
        ['wsu:Id', 'id-body-1'],
      ),
    );
    await expectNotAuthenticated(xml, /2 elements carry the Id 'id-body-1'/);
  });

  test('signed Body moved into a header wrapper, replaced by a Body with another wsu:Id', async () => {
    const xml = tamper(ctx.sign(), (document) =>
      replaceBody(
        document,
        (signed) => {
          const wrapper = document.createElementNS('urn:wrapper', 'w:Wrapper');
          securityHeader(document).parentNode!.appendChild(wrapper);
          wrapper.appendChild(signed);
        },
        ['wsu:Id', 'id-evil'],
      ),
    );
    await expectNotAuthenticated(xml, /the SOAP Body of the envelope is not signed/);
  });

  test('signed Body moved into the Security header, replaced by a Body without Id', async () => {
    const xml = tamper(ctx.sign(), (document) =>
      replaceBody(document, (signed) => securityHeader(document).appendChild(signed)),
    );
    await expectNotAuthenticated(xml, /the SOAP Body of the envelope is not signed/);
  });

  test('signed Body moved into a ds:Object of the Signature', async () => {
    const xml = tamper(ctx.sign(), (document) =>
      replaceBody(document, (signed) => {
        const object = document.createElementNS(DS_NS, 'ds:Object');
        firstElement(document, DS_NS, 'Signature').appendChild(object);
        object.appendChild(signed);
      }),
    );
    await expectNotAuthenticated(xml, /malformed signature: unexpected or misplaced .*Object/);
  });

  test('signed Body moved inside the new Body (wrapper element), the new payload first', async () => {
    const xml = tamper(ctx.sign(), (document) =>
      replaceBody(document, (signed) => {
        const wrapper = document.createElementNS('urn:wrapper', 'w:Wrapper');
        wrapper.appendChild(signed);
        soapBody(document).firstChild!.appendChild(wrapper);
      }),
    );
    await expectNotAuthenticated(xml, /the SOAP Body of the envelope is not signed/);
  });

  test('a duplicate wsu:Id elsewhere makes the reference ambiguous', async () => {
    const xml = tamper(ctx.sign(), (document) => {
      const decoy = document.createElementNS('urn:decoy', 'd:Decoy');
      decoy.setAttributeNS(WSU_NS, 'wsu:Id', 'TS-1');
      soapBody(document).firstChild!.appendChild(decoy);
    });
    await expectNotAuthenticated(xml, /2 elements carry the Id 'TS-1'/);
  });

  test('Id vs wsu:Id: a forged Body with Id= the signed Body’s wsu:Id', async () => {
    const xml = tamper(ctx.sign(), (document) =>
      replaceBody(
        document,
        (signed) => {
          const wrapper = document.createElementNS('urn:wrapper', 'w:Wrapper');
          securityHeader(document).parentNode!.appendChild(wrapper);
          wrapper.appendChild(signed);
        },
        ['Id', 'id-body-1'],
      ),
    );
    await expectNotAuthenticated(xml, /2 elements carry the Id 'id-body-1'/);
  });

  test('no Reference to the Body', async () => {
    await expectNotAuthenticated(
      ctx.sign({ signBody: false }),
      /the SOAP Body of the envelope is not signed/,
    );
  });

  test('Timestamp not signed', async () => {
    await expectNotAuthenticated(
      ctx.sign({ signTimestamp: false }),
      /the Timestamp of the Security header is not signed/,
    );
  });

  test('signed Timestamp moved out, a fresh unsigned one in its place', async () => {
    const xml = tamper(ctx.sign(), (document) => {
      const signed = firstElement(document, WSU_NS, 'Timestamp');
      const fresh = signed.cloneNode(true) as typeof signed;
      fresh.removeAttributeNS(WSU_NS, 'Id');
      signed.parentNode!.replaceChild(fresh, signed);
      const wrapper = document.createElementNS('urn:wrapper', 'w:Wrapper');
      // Keeps the namespaces of the signed canonical form in scope: the moved Timestamp's digest stays valid.
      wrapper.setAttributeNS('http://www.w3.org/2000/xmlns/', 'xmlns:wsse', WSSE_NS);
      securityHeader(document).parentNode!.appendChild(wrapper);
      wrapper.appendChild(signed);
    });
    const facts = await expectNotAuthenticated(xml, /the Timestamp of the Security header is not signed/);
    expect(facts.securityHeaders[0].signatures[0].references[0].digest.outcome).toBe('valid');
  });

  test('two Timestamps', async () => {
    const xml = tamper(ctx.sign(), (document) => {
      const timestamp = firstElement(document, WSU_NS, 'Timestamp');
      const second = timestamp.cloneNode(true) as typeof timestamp;
      second.removeAttributeNS(WSU_NS, 'Id');
      securityHeader(document).appendChild(second);
    });
    await expectNotAuthenticated(xml, /holds 2 Timestamps/);
  });

  test('two Signatures', async () => {
    const xml = tamper(ctx.sign(), (document) => {
      const signature = firstElement(document, DS_NS, 'Signature');
      securityHeader(document).appendChild(signature.cloneNode(true));
    });
    noDigesting(await expectNotAuthenticated(xml, /holds 2 signatures/));
  });

  test('two Security headers', async () => {
    const xml = tamper(ctx.sign(), (document) => {
      const security = securityHeader(document);
      security.parentNode!.appendChild(security.cloneNode(true));
    });
    await expectNotAuthenticated(xml, /2 wsse:Security headers/);
  });

  test('a Security header addressed to another actor', async () => {
    const xml = tamper(ctx.sign(), (document) => {
      securityHeader(document).setAttributeNS(SOAP_NS, 'soapenv:actor', 'urn:some-intermediary');
    });
    await expectNotAuthenticated(xml, /addressed to actor urn:some-intermediary/);
  });

  test('a wsse:Security element inside the Body', async () => {
    const xml = tamper(ctx.sign(), (document) => {
      soapBody(document).firstChild!.appendChild(document.createElementNS(WSSE_NS, 'wsse:Security'));
    });
    await expectNotAuthenticated(xml, /outside the SOAP Header/);
  });

  test('text spliced with a comment inside a signed element', async () => {
    const xml = tamper(ctx.sign(), (document) => {
      const ticket = firstElement(document, TYPES_NS, 'Ticket');
      const text = ticket.firstChild!;
      ticket.insertBefore(document.createTextNode('0123456'), text);
      ticket.insertBefore(document.createComment('x'), text);
      text.nodeValue = '789ABC';
    });
    const facts = await expectNotAuthenticated(xml, /the signed element contains comments/);
    // The digest alone does not see it: canonicalization drops comments.
    expect(facts.securityHeaders[0].signatures[0].references[1].digest.outcome).toBe('valid');
  });
});

describe('cryptographic failures', () => {
  test('a tampered payload: digest mismatch', async () => {
    const xml = tamper(ctx.sign(), (document) => {
      firstElement(document, TYPES_NS, 'Ticket').firstChild!.nodeValue = '0123456789ABD';
    });
    await expectNotAuthenticated(xml, /reference #id-body-1: digest mismatch/);
  });

  test("SignatureValue made with another key while the BST is the victim's certificate", async () => {
    const facts = await expectNotAuthenticated(
      ctx.sign({ signingKeyPem: ctx.otherSender.keyPem }),
      /SignatureValue does not verify with the token's key/,
    );
    noDigesting(facts);
  });

  test("attacker's signature, victim's BST, attacker's certificate in KeyInfo: KeyInfo is not used", async () => {
    await expectNotAuthenticated(
      ctx.sign({ signingKeyPem: ctx.otherSender.keyPem, extraKeyInfoCertPem: ctx.otherSender.certPem }),
      /SignatureValue does not verify with the token's key/,
    );
  });

  test('a key identified otherwise than by a direct reference is refused', async () => {
    await expectNotAuthenticated(
      ctx.sign({
        keyInfoXml: `<ds:X509Data><ds:X509Certificate>${ctx.sender.certificateDer.toString('base64')}</ds:X509Certificate></ds:X509Data>`,
      }),
      /signature key is not resolved \(embedded: .* never used/,
    );
  });

  test('an RSA key shorter than 2048 bits is refused', async () => {
    const weak = await issueFromDevCa(
      ctx.pki,
      'CN=weak, OU=urn:be:fgov:kbo-bce:organization:cbe-number:0861023666, C=BE',
      'rsa-1024',
      ctx.clock.now(),
    );
    await expectNotAuthenticated(
      ctx.sign({ keyPem: weak.keyPem, certPem: weak.certPem }),
      /1024 bits, fewer than 2048/,
    );
  });

  test('an EC token key is refused (an RSA method must not verify as ECDSA)', async () => {
    const ec = await issueFromDevCa(ctx.pki, 'CN=ec, C=BE', 'ec-p256', ctx.clock.now());
    const facts = await expectNotAuthenticated(
      ctx.sign({ keyPem: ec.keyPem, certPem: ec.certPem }),
      /rsa-sha256 needs an RSA key, the key is ec/,
    );
    expect(facts.signatureVerifications).toBe(0);
  });
});

describe('algorithms', () => {
  test('an HMAC signature method is refused', async () => {
    noDigesting(
      await expectNotAuthenticated(
        ctx.sign({ signatureMethodUri: WSS_URIS.hmacSha1 }),
        /signature method .*hmac-sha1 is refused/,
      ),
    );
  });

  test('RSA-SHA1 is refused unless allowSha1', async () => {
    const xml = ctx.sign({ signatureAlgorithm: 'rsa-sha1', digestAlgorithm: 'sha1' });
    await expectNotAuthenticated(xml, /rsa-sha1 is refused \(SHA-1 is not allowed\)/);
    await expect((await enforce(xml, deps({}, { allowSha1: true }))).result).resolves.toBeDefined();
  });

  test('SHA-1 digests are refused unless allowSha1', async () => {
    const xml = ctx.sign({ digestAlgorithm: 'sha1' });
    await expectNotAuthenticated(xml, /digest method .*#sha1 is refused/);
    await expect((await enforce(xml, deps({}, { allowSha1: true }))).result).resolves.toBeDefined();
  });

  test.each([WSS_URIS.xpathTransform, WSS_URIS.xsltTransform])(
    'transform %s is refused, nothing digested',
    async (transformUri) => {
      noDigesting(await expectNotAuthenticated(ctx.sign({ transformUri }), /transform .* is refused/));
    },
  );

  test('more than 30 references are refused without digesting', async () => {
    const facts = await expectNotAuthenticated(
      ctx.sign({ extraSignedHeaders: 28 }),
      /31 references, more than the limit of 30/,
    );
    noDigesting(facts);
    expect(facts.signatureVerifications).toBe(0);
  });

  test('an unsigned request is refused and digests nothing', async () => {
    noDigesting(await expectNotAuthenticated(SAMPLE_ENVELOPE, /0 wsse:Security headers/));
  });

  test('a Security header without Signature is refused and digests nothing', async () => {
    const xml = tamper(ctx.sign(), (document) => {
      const signature = firstElement(document, DS_NS, 'Signature');
      signature.parentNode!.removeChild(signature);
    });
    noDigesting(await expectNotAuthenticated(xml, /holds 0 signatures/));
  });
});

describe('Timestamp', () => {
  test('Created more than the clock skew in the future', async () => {
    await expectNotAuthenticated(
      ctx.sign({ created: new Date('2025-06-02T09:01:01.000Z') }),
      /more than 60 s in the future/,
    );
    await expect(
      (await enforce(ctx.sign({ created: new Date('2025-06-02T09:01:00.000Z') }))).result,
    ).resolves.toBeDefined();
  });

  test('older than the maximum age', async () => {
    const xml = ctx.sign({ expiresInSeconds: 3600 });
    ctx.clock.advance(300_000);
    await expect((await enforce(xml)).result).resolves.toBeDefined();
    ctx.clock.advance(1);
    await expectNotAuthenticated(xml, /older than 300 s/);
  });

  test('expired', async () => {
    const xml = ctx.sign({ expiresInSeconds: 60 });
    ctx.clock.advance(60_000);
    await expect((await enforce(xml)).result).resolves.toBeDefined();
    ctx.clock.advance(1);
    await expectNotAuthenticated(xml, /Timestamp expired at 2025-06-02T09:01:00.000Z/);
  });

  test.each([
    ['an offset', '2025-06-02T11:00:00.000+02:00', /is not a UTC xs:dateTime ending in Z/],
    ['no time zone', '2025-06-02T09:00:00.000', /is not a UTC xs:dateTime ending in Z/],
    ['an invalid date', '2025-02-30T09:00:00Z', /is not a valid xs:dateTime/],
  ])('Created with %s is refused', async (_case, createdText, reason) => {
    await expectNotAuthenticated(ctx.sign({ createdText }), reason);
  });

  test('Expires not after Created', async () => {
    await expectNotAuthenticated(
      ctx.sign({ expiresText: '2025-06-02T09:00:00.000Z' }),
      /Expires is not after Created/,
    );
  });

  test('a Timestamp with something else than Created and Expires', async () => {
    const xml = tamper(ctx.sign({ signTimestamp: false }), (document) => {
      firstElement(document, WSU_NS, 'Timestamp').appendChild(document.createElementNS('urn:x', 'x:Extra'));
    });
    await expectNotAuthenticated(
      xml,
      /must hold one Created and at most one Expires, holds: wsu:Created, wsu:Expires, \{urn:x\}Extra/,
    );
  });
});

describe('trust and identity', () => {
  test('a certificate the validator refuses: SOA-01001', async () => {
    const xml = ctx.sign({ keyPem: ctx.foreignSender.keyPem, certPem: ctx.foreignSender.certPem });
    await expectNotAuthenticated(xml, /sender certificate not trusted: /);
  });

  test('the validator sees the token certificate', async () => {
    const seen: Buffer[] = [];
    await (
      await enforce(
        ctx.sign(),
        deps({
          certificateValidator: {
            validate: async (der) => (seen.push(der), { valid: false, reason: 'revoked' }),
          },
        }),
      )
    ).result.catch(() => undefined);
    expect(seen).toHaveLength(1);
    expect(seen[0].equals(ctx.sender.certificateDer)).toBe(true);
  });

  test('a trusted certificate without CBE: SOA-01002', async () => {
    const noCbe = await issueFromDevCa(
      ctx.pki,
      'CN=no-cbe, OU=Belgian Federal Government, O=Test, C=BE',
      'rsa-2048',
      ctx.clock.now(),
    );
    await expectNotAuthorized(ctx.sign({ keyPem: noCbe.keyPem, certPem: noCbe.certPem }), /no CBE number/);
  });

  test('an identity reader failing otherwise: SOA-01002', async () => {
    const failing = deps({
      senderIdentity: () => Promise.reject(new Error('boom')),
      certificateValidator: acceptAnyCertificate,
    });
    await expectNotAuthorized(ctx.sign(), /sender identity cannot be read: boom/, failing);
  });

  test('another environment than the service’s: SOA-01002', async () => {
    const xml = ctx.sign({ keyPem: ctx.accSender.keyPem, certPem: ctx.accSender.certPem });
    await expectNotAuthorized(xml, /environment ACC is not the service's INT/, deps({ environment: 'INT' }));
    await expect((await enforce(xml, deps({ environment: 'acc' }))).result).resolves.toBeDefined();
  });

  test('not on the allowlist: SOA-01002; on it: accepted', async () => {
    const xml = ctx.sign();
    await expectNotAuthorized(
      xml,
      /not on the allowlist/,
      deps({ allowedSenders: new Set([certificateFingerprint(ctx.otherSender.certificateDer)]) }),
    );
    const allowed = deps({ allowedSenders: new Set([certificateFingerprint(ctx.sender.certificateDer)]) });
    await expect((await enforce(xml, allowed)).result).resolves.toBeDefined();
  });
});
