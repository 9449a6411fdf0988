import { createHash } from 'node:crypto';
import { mkdtempSync, rmSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { ManualClock } from '../../src/clock/clock';
import { PayloadValidator } from '../../src/contract/xsd-validator';
import { PemFileSigner, type DocumentSigner } from '../../src/evidence/document-signer';
import { buildEvidence, type EvidenceEventFacts } from '../../src/evidence/evidence-content';
import { EvidenceIssuer, InvalidEvidenceError } from '../../src/evidence/evidence-issuer';
import { ProofSigner } from '../../src/evidence/proof-signer';
import { readTimeStampToken } from '../../src/evidence/signature-time-stamp';
import { SigningUnavailableError } from '../../src/errors/faults';
import { ensureDevPki, type DevPki } from '../../src/pki/dev-pki';
import {
  TimeStampUnavailableError,
  type MessageImprint,
  type TimeStampAuthority,
} from '../../src/timestamping/time-stamp-authority';
import { opensslCmsVerify, testWithTool } from '../support/external-tools';
import { OpensslTimeStampAuthority } from '../support/openssl-tsa';
import { signatureParts, verifyReceipts } from '../support/receipt-verification';
import { consignmentFacts, consignmentFailureFacts, handoverFacts, SAMPLE_ISSUER } from './evidence-facts';

const withOpenssl = testWithTool('openssl', ['version']);
const XSD_DIR = path.resolve(__dirname, '../../xsd');
const UUID = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/;

/** The real signer and TSA, counting what reaches them: nothing may, for evidence that is refused. */
class Counted {
  signatures = 0;
  timeStamps = 0;

  signer(inner: DocumentSigner): DocumentSigner {
    return {
      certificate: inner.certificate,
      chain: inner.chain,
      sign: (data) => {
        this.signatures += 1;
        return inner.sign(data);
      },
    };
  }

  tsa(inner: TimeStampAuthority): TimeStampAuthority {
    return {
      timestamp: (imprint: MessageImprint) => {
        this.timeStamps += 1;
        return inner.timestamp(imprint);
      },
    };
  }
}

describe('EvidenceIssuer', () => {
  let dir: string;
  let pki: DevPki;
  let signer: DocumentSigner;
  let tsa: OpensslTimeStampAuthority;
  let validator: PayloadValidator;
  // Now: after the (2024) events the samples state, and within the dev PKI's validity for openssl.
  const clock = new ManualClock(Date.now());

  beforeAll(async () => {
    dir = mkdtempSync(path.join(os.tmpdir(), 'rm-evidence-'));
    pki = await ensureDevPki(dir, clock);
    signer = new PemFileSigner(pki.signer.privateKey, pki.signer.certificateDer, [pki.ca.certificateDer]);
    tsa = new OpensslTimeStampAuthority({ keyPemPath: pki.tsa.keyPemPath, certPemPath: pki.tsa.certPemPath });
    validator = await PayloadValidator.load(XSD_DIR);
  });
  afterAll(() => {
    validator.dispose();
    tsa.dispose();
    rmSync(dir, { recursive: true, force: true });
  });

  function issuer(counted = new Counted(), authority: TimeStampAuthority = tsa): EvidenceIssuer {
    const proofSigner = new ProofSigner(counted.signer(signer), {
      tsa: counted.tsa(authority),
      level: 'B-T',
    });
    return new EvidenceIssuer(proofSigner, clock, validator, SAMPLE_ISSUER);
  }

  withOpenssl('issues the evidence, its hash, a CAdES-T signature and the time', async () => {
    const evidence = await issuer().issue(consignmentFacts);
    expect(evidence.evidenceId).toMatch(UUID);
    expect(evidence.event).toBe('ContentConsignment');
    expect(evidence.content).toEqual(
      buildEvidence({ ...consignmentFacts, evidenceId: evidence.evidenceId, issuer: SAMPLE_ISSUER }),
    );
    expect(() => validator.validateDocument(evidence.content)).not.toThrow();
    expect(evidence.contentSha256).toEqual(createHash('sha256').update(evidence.content).digest());
    expect(evidence.issuedAt).toEqual(clock.now());

    const parts = await signatureParts(evidence.signature);
    if (parts.timeStampToken === undefined) throw new Error('no signature-time-stamp');
    const token = await readTimeStampToken(parts.timeStampToken);
    expect(token.digest).toEqual(createHash('sha256').update(parts.signatureValue).digest());
  });

  withOpenssl('every evidence gets its own identifier', async () => {
    const first = await issuer().issue(handoverFacts);
    const second = await issuer().issue(handoverFacts);
    expect(first.evidenceId).not.toBe(second.evidenceId);
  });

  withOpenssl('the signature verifies with openssl cms -verify over exactly the evidence bytes', async () => {
    const evidence = await issuer().issue(consignmentFailureFacts);
    const result = opensslCmsVerify(evidence.signature, evidence.content, pki.ca.certPemPath);
    expect(result.output).toContain('Verification successful');
    expect(result.status).toBe(0);

    const tampered = Buffer.from(evidence.content.toString('utf8').replace('EBOX_B01', 'EBOX_B02'), 'utf8');
    expect(opensslCmsVerify(evidence.signature, tampered, pki.ca.certPemPath).status).not.toBe(0);
  });

  withOpenssl('each event verifies like a receipt: openssl cms and ts, and Bouncy Castle', async () => {
    const issued = await Promise.all(
      [consignmentFacts, handoverFacts, consignmentFailureFacts].map((facts) => issuer().issue(facts)),
    );
    await verifyReceipts(
      issued.map((evidence) => ({
        label: `${evidence.event} evidence`,
        content: evidence.content,
        signature: evidence.signature,
      })),
      { caFiles: [pki.ca.certPemPath] },
    );
  });

  const INVALID: ReadonlyArray<[string, EvidenceEventFacts, RegExp]> = [
    [
      'an INSS of 10 digits',
      { ...consignmentFacts, recipient: { kind: 'citizen', inss: '8507300332', qualityCode: 'CITIZEN' } },
      /recipient INSS is not valid/,
    ],
    [
      'an INSS with wrong check digits',
      { ...consignmentFacts, recipient: { kind: 'citizen', inss: '85073003329', qualityCode: 'CITIZEN' } },
      /recipient INSS is not valid/,
    ],
    [
      'a recipient CBE with wrong check digits',
      { ...consignmentFacts, recipient: { kind: 'enterprise', cbe: '0123456789', qualityCode: 'QUAL_SSC' } },
      /recipient CBE is not valid/,
    ],
    [
      'a 9-digit sender CBE (not normalised)',
      { ...consignmentFacts, sender: { ...consignmentFacts.sender, cbe: '861023666' } },
      /sender CBE is not valid/,
    ],
    ['a token of 51 characters (schema)', { ...consignmentFacts, token: 'x'.repeat(51) }, /XSD.*Token/],
    [
      'a SHA-1 digest (schema)',
      {
        ...consignmentFacts,
        document: { ...consignmentFacts.document, digest: { method: 'SHA-1', value: Buffer.alloc(20) } },
      },
      /XSD.*DigestMethod/,
    ],
    [
      'an event the schema does not know',
      { ...consignmentFacts, event: 'Delivered' as never },
      /ERDSEventId/,
    ],
    [
      'a failure without reasons',
      { ...consignmentFailureFacts, reasons: [] as never },
      /ContentConsignmentFailure needs at least one reason/,
    ],
    [
      'a success with reasons',
      { ...consignmentFacts, reasons: [{ code: 'EBOX_B01' }] as never },
      /ContentConsignment takes no reasons/,
    ],
    [
      'an event before the submission',
      { ...consignmentFacts, eventTime: new Date('2024-07-01T09:29:59.999Z') },
      /event time is before the submission time/,
    ],
    [
      'an invalid event time',
      { ...consignmentFacts, eventTime: new Date(Number.NaN) },
      /event time is not a time/,
    ],
  ];

  test.each(INVALID)(
    'refuses %s before anything is signed or time-stamped',
    async (_name, facts, message) => {
      const counted = new Counted();
      const failure = issuer(counted).issue(facts);
      await expect(failure).rejects.toBeInstanceOf(InvalidEvidenceError);
      await expect(failure).rejects.toThrow(message);
      expect(counted).toMatchObject({ signatures: 0, timeStamps: 0 });
    },
  );

  test('refuses an issuer identity the schema refuses, at every issue', async () => {
    const counted = new Counted();
    const proofSigner = new ProofSigner(counted.signer(signer), { tsa: counted.tsa(tsa), level: 'B-T' });
    const badPolicy = new EvidenceIssuer(proofSigner, clock, validator, {
      ...SAMPLE_ISSUER,
      policyId: '1.2.3',
    });
    await expect(badPolicy.issue(consignmentFacts)).rejects.toThrow(/EvidenceIssuerPolicyID/);
    expect(counted).toMatchObject({ signatures: 0, timeStamps: 0 });
  });

  test('refuses an operator CBE with wrong check digits at construction', () => {
    const proofSigner = new ProofSigner(signer, { tsa, level: 'B-T' });
    expect(
      () => new EvidenceIssuer(proofSigner, clock, validator, { ...SAMPLE_ISSUER, cbe: '0123456789' }),
    ).toThrow(InvalidEvidenceError);
  });

  test('a signer failure is SigningUnavailableError (SEPIA_T02, retry)', async () => {
    const broken: DocumentSigner = {
      certificate: signer.certificate,
      chain: signer.chain,
      sign: () => Promise.reject(new Error('token removed')),
    };
    const proofSigner = new ProofSigner(broken, { tsa, level: 'B-T' });
    const failure = new EvidenceIssuer(proofSigner, clock, validator, SAMPLE_ISSUER).issue(handoverFacts);
    await expect(failure).rejects.toBeInstanceOf(SigningUnavailableError);
    await expect(failure).rejects.toMatchObject({ code: 'SEPIA_T02', retry: true });
  });

  test('a TSA that gives no token is SigningUnavailableError (SEPIA_T02, retry)', async () => {
    const silent: TimeStampAuthority = {
      timestamp: () => Promise.reject(new TimeStampUnavailableError('no answer')),
    };
    const failure = issuer(new Counted(), silent).issue(handoverFacts);
    await expect(failure).rejects.toBeInstanceOf(SigningUnavailableError);
    await expect(failure).rejects.toMatchObject({ code: 'SEPIA_T02', retry: true });
  });
});
