import { createHash } from 'node:crypto';
import { mkdtempSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { ManualClock } from '../../src/clock/clock';
import { createDetachedCmsSignature } from '../../src/evidence/cms-detached-signature';
import { PemFileSigner } from '../../src/evidence/document-signer';
import { ensureDevPki, type DevPki, type DevPkiKeyPair } from '../../src/pki/dev-pki';
import type { ProofInput } from '../../src/verification/proof-evidence';
import { verifyProof } from '../../src/verification/verify-proof';
import type { VerificationPolicy } from '../../src/verification/verification-policy';
import type { CheckId, ProofReport } from '../../src/verification/verification-report';
import { opensslSignatureTimeStamp, type TsaFiles } from './openssl-tsa';

/*
 * A dev PKI, a receipt-like content and the means to sign it as CAdES-BES or CAdES-T (time-stamped by
 * openssl with the dev TSA key), then to verify it and state exactly which checks must fail.
 */

export const HOUR = 60 * 60 * 1000;
export const DAY = 24 * HOUR;

/** The content the tests sign. */
export const RECEIPT = Buffer.from(
  '<?xml version="1.0" encoding="UTF-8"?>\n<ReceiptContent><Ticket>0123456789ABC</Ticket></ReceiptContent>\n',
  'utf8',
);

/** A dev PKI in a fresh temp directory (its validity starts an hour before the real time). */
export interface VerificationFixture {
  dir: string;
  pki: DevPki;
  signer: PemFileSigner;
  tsa: TsaFiles;
  trust: Buffer[];
}

export async function verificationFixture(): Promise<VerificationFixture> {
  const dir = mkdtempSync(path.join(os.tmpdir(), 'rm-verify-'));
  // openssl stamps the real time: the PKI is made at the real time too.
  const pki = await ensureDevPki(path.join(dir, 'pki'), new ManualClock(Date.now()));
  return {
    dir,
    pki,
    signer: await signerFor(pki.signer, pki),
    tsa: pki.tsa,
    trust: [pki.ca.certificateDer],
  };
}

/** A DocumentSigner for a key pair, its chain the dev CA. */
export function signerFor(keyPair: DevPkiKeyPair, pki: DevPki, chain: Buffer[] = [pki.ca.certificateDer]) {
  return new PemFileSigner(keyPair.privateKey, keyPair.certificateDer, chain);
}

/** A CAdES-T signature (signing-time now unless given), time-stamped by openssl. */
export function cadesT(
  content: Buffer,
  signer: PemFileSigner,
  tsa: TsaFiles,
  signingTime: Date = new Date(),
): Promise<Buffer> {
  return createDetachedCmsSignature(content, signer, signingTime, {
    unsignedAttributes: opensslSignatureTimeStamp(tsa),
  });
}

/** A CAdES-BES signature (no time-stamp). */
export function cadesBes(
  content: Buffer,
  signer: PemFileSigner,
  signingTime: Date = new Date(),
): Promise<Buffer> {
  return createDetachedCmsSignature(content, signer, signingTime);
}

/** The policy the tests verify under: the dev CA, validated now unless said. */
export function policy(fixture: VerificationFixture, validationTime: Date = new Date()): VerificationPolicy {
  return { trustAnchors: fixture.trust, validationTime };
}

export function proof(
  signature: Buffer,
  content: Buffer = RECEIPT,
  extra: Partial<ProofInput> = {},
): ProofInput {
  return { label: 'test proof', signature, content, ...extra };
}

export function verify(input: ProofInput, verificationPolicy: VerificationPolicy): Promise<ProofReport> {
  return verifyProof(input, verificationPolicy);
}

/** The base64 SHA-256 a SignedFile's DigestValue carries. */
export function sha256Base64(data: Buffer): string {
  return createHash('sha256').update(data).digest('base64');
}

/**
 * Asserts that exactly the given checks fail, each with a message matching its pattern, that every
 * other check passes, and that the checks come in the documented order.
 */
export function expectOnlyFailures(report: ProofReport, failing: Partial<Record<CheckId, RegExp>>): void {
  const outcome = Object.fromEntries(
    report.checks.map((check) => [check.id, `${check.result} ${check.message}`]),
  );
  const expected = Object.fromEntries(
    report.checks.map((check) => {
      const pattern = failing[check.id];
      return [
        check.id,
        pattern
          ? expect.stringMatching(new RegExp(`^FAIL .*${pattern.source}`))
          : expect.stringMatching(/^PASS /),
      ];
    }),
  );
  expect(outcome).toEqual(expected);
  expect(report.passed).toBe(Object.keys(failing).length === 0);
  expect(report.checks.map((check) => check.id)).toEqual([
    'content-digest',
    'cms-signature',
    'signer-chain',
    'signed-attributes',
    'signing-certificate',
    'time-stamp-present',
    'time-stamp-imprint',
    'tsa-signature',
    'tsa-certificate',
    'times',
  ]);
}
