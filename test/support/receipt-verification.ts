import { spawn } from 'node:child_process';
import { createHash } from 'node:crypto';
import { existsSync, mkdirSync, mkdtempSync, readFileSync, renameSync, rmSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { CMS_OIDS } from '../../src/evidence/cms-detached-signature';
import { loadPkiLibraries } from '../../src/pki/crypto-engines';
import { derToPem } from '../../src/pki/pem';
import { ItemProofEntity, ItemReceiptEntity } from '../../src/storage/entities';
import { findOnPath, runTool, unavailable } from '../interop/run-tool';
import { opensslCmsVerify } from './external-tools';
import { defaultContentStore } from './stored-content';
import { hasTestDatabase, openTestDatabase } from './test-database';

/*
 * Every receipt the test suite produces must verify with tools nobody here wrote: `openssl cms -verify`
 * (signature and chain), `openssl ts -verify` (the signature-time-stamp over the SHA-256 of the
 * extracted signature value) and a Bouncy Castle program (VerifyReceipt.java: CMS signature,
 * signing-certificate-v2, time-stamp imprint and signature), one JVM for all receipts of a data dir.
 */

/** A receipt and its detached signature, with a name for messages. */
export interface ReceiptToVerify {
  label: string;
  content: Buffer;
  signature: Buffer;
}

/** What the verification trusts. */
export interface ReceiptTrust {
  /** PEM files of the CAs the signer and the TSA chain up to. */
  caFiles: string[];
}

/** The parts of a CAdES signature the external tools are given separately. */
export interface SignatureParts {
  /** The SignerInfo's signature value (what the signature-time-stamp covers). */
  signatureValue: Buffer;
  /** The signature-time-stamp token (ContentInfo DER); undefined when there is none. */
  timeStampToken: Buffer | undefined;
  /** SignedData.certificates (DER). */
  certificates: Buffer[];
  /** SignedData.crls (DER). */
  crls: Buffer[];
}

/** Reads the signature value, the signature-time-stamp token, the certificates and CRLs with pkijs. */
export async function signatureParts(signature: Buffer): Promise<SignatureParts> {
  const { pkijs } = await loadPkiLibraries();
  const contentInfo = pkijs.ContentInfo.fromBER(new Uint8Array(signature));
  const signedData = new pkijs.SignedData({ schema: contentInfo.content });
  const signerInfo = signedData.signerInfos[0];
  const tokens = (signerInfo.unsignedAttrs?.attributes ?? [])
    .filter((attribute) => attribute.type === CMS_OIDS.signatureTimeStampToken)
    .flatMap((attribute) => attribute.values.map((value) => Buffer.from(value.toBER(false))));
  if (tokens.length > 1) throw new Error('more than one signature-time-stamp');
  return {
    signatureValue: Buffer.from(signerInfo.signature.valueBlock.valueHexView),
    timeStampToken: tokens[0],
    certificates: (signedData.certificates ?? []).map((certificate) =>
      Buffer.from(certificate.toSchema().toBER(false)),
    ),
    crls: (signedData.crls ?? []).map((crl) => Buffer.from(crl.toSchema().toBER(false))),
  };
}

/**
 * Checks each receipt with openssl (cms -verify; ts -verify of the token over the SHA-256 of the
 * signature value) and with the Bouncy Castle program (one JVM run for all).
 * @throws Error listing every receipt that failed, with the tools' output
 */
export async function verifyReceipts(receipts: ReceiptToVerify[], trust: ReceiptTrust): Promise<void> {
  if (receipts.length === 0) return;
  const work = mkdtempSync(path.join(os.tmpdir(), 'rm-receipt-verify-'));
  try {
    const caFile = path.join(work, 'trust-anchors.pem');
    writeFileSync(caFile, trust.caFiles.map((file) => readFileSync(file, 'utf8')).join('\n'));
    const failures: string[] = [];
    for (const receipt of receipts) {
      const problem = await opensslProblem(receipt, caFile, work);
      if (problem !== undefined) failures.push(`${receipt.label}: ${problem}`);
    }
    failures.push(...(await bouncyCastleProblems(receipts)));
    if (failures.length > 0) {
      throw new Error(`${failures.length} receipt check(s) failed:\n${failures.join('\n')}`);
    }
  } finally {
    rmSync(work, { recursive: true, force: true });
  }
}

/**
 * Verifies every proof stored for `dataDir` (in its database: see test-database.ts) with
 * {@link verifyReceipts}: the receipts (item_receipt) and the proofs issued after them, of dispatch and
 * of consultation (item_proof), each content read from the content store. The service must be closed (or idle). Trusts `trust.caFiles`, by default the dev CA of
 * `<dataDir>/dev-pki`.
 * @returns how many proofs were verified
 */
export async function verifyAllReceipts(dataDir: string, trust?: ReceiptTrust): Promise<number> {
  if (!(await hasTestDatabase(dataDir))) return 0;
  const dataSource = await openTestDatabase(dataDir);
  let receipts: { label: string; content: Buffer; signature: Buffer }[];
  try {
    const receiptRows = await dataSource.manager.find(ItemReceiptEntity, { order: { issuedAt: 'ASC' } });
    const proofRows = await dataSource.manager.find(ItemProofEntity, { order: { issuedAt: 'ASC' } });
    const rows: StoredProofRow[] = [
      ...receiptRows.map((row) => ({ ...row, what: 'receipt' })),
      ...proofRows.map((row) => ({ ...row, what: `${row.kind} proof` })),
    ];
    const contents = defaultContentStore(dataSource, dataDir);
    receipts = [];
    for (const row of rows) {
      receipts.push({
        label: `${row.what} of ${row.ticket} in ${dataDir}`,
        content: await contents.read(row.contentSha256),
        signature: Buffer.from(row.signature, 'base64'),
      });
    }
  } finally {
    await dataSource.destroy();
  }
  if (receipts.length === 0) return 0;
  const devCa = path.join(dataDir, 'dev-pki', 'ca', 'root-ca.cert.pem');
  const caFiles = trust?.caFiles ?? (existsSync(devCa) ? [devCa] : []);
  if (caFiles.length === 0)
    throw new Error(`verifyAllReceipts: no trust anchor for ${dataDir}: pass caFiles`);
  await verifyReceipts(receipts, { caFiles });
  return receipts.length;
}

/** A stored signed content (a receipt or a later proof): where its bytes are and its signature. */
interface StoredProofRow {
  ticket: string;
  /** For messages: `receipt`, `DISPATCH proof`... */
  what: string;
  contentSha256: string;
  signature: string;
}

/** openssl's verdicts on one receipt; undefined when both pass. */
async function opensslProblem(
  receipt: ReceiptToVerify,
  caFile: string,
  work: string,
): Promise<string | undefined> {
  if (!opensslAvailable()) return undefined;
  const cms = opensslCmsVerify(receipt.signature, receipt.content, caFile);
  if (cms.status !== 0) return `openssl cms -verify exited ${cms.status}: ${cms.output.trim()}`;

  const parts = await signatureParts(receipt.signature);
  if (parts.timeStampToken === undefined) return 'no signature-time-stamp (not CAdES-T)';
  const tokenFile = path.join(work, 'token.der');
  const untrustedFile = path.join(work, 'untrusted.pem');
  writeFileSync(tokenFile, parts.timeStampToken);
  // The TSA certificate may travel in the SignedData (B-LT) instead of the token.
  writeFileSync(untrustedFile, parts.certificates.map((der) => derToPem(der, 'CERTIFICATE')).join(''));
  const digest = createHash('sha256').update(parts.signatureValue).digest('hex');
  try {
    await runTool('openssl', [
      'ts',
      '-verify',
      '-digest',
      digest,
      '-in',
      tokenFile,
      '-token_in',
      '-CAfile',
      caFile,
      ...(parts.certificates.length > 0 ? ['-untrusted', untrustedFile] : []),
    ]);
  } catch (error) {
    return `openssl ts -verify: ${(error as Error).message}`;
  }
  return undefined;
}

let opensslChecked: boolean | undefined;

function opensslAvailable(): boolean {
  opensslChecked ??=
    findOnPath('openssl') !== undefined || unavailable('openssl is not on the PATH').available;
  return opensslChecked;
}

/* ---------------------------------------------------------------------------------------------- */
/* Bouncy Castle                                                                                   */
/* ---------------------------------------------------------------------------------------------- */

const JAR_DIR = process.env.RM_JAVA_JAR_DIR ?? '/usr/share/java';
/** Debian's libbcprov-java and libbcpkix-java (bcpkix needs bcutil since 1.69). */
const BOUNCY_CASTLE_JARS = ['bcprov.jar', 'bcpkix.jar', 'bcutil.jar'].map((jar) => path.join(JAR_DIR, jar));
const VERIFIER_SOURCE = path.join(__dirname, '..', 'interop', 'java', 'interop', 'VerifyReceipt.java');
const CACHE_ROOT = path.join(os.tmpdir(), 'registered-mail-verify-receipt');

interface BouncyCastleVerifier {
  java: string;
  classpath: string;
}

let verifier: Promise<BouncyCastleVerifier | undefined> | undefined;

/** javac/java and the jars, with VerifyReceipt compiled once (cached by source and JDK across runs). */
function bouncyCastleVerifier(): Promise<BouncyCastleVerifier | undefined> {
  verifier ??= (async () => {
    const javac = findOnPath('javac');
    const java = findOnPath('java');
    const missing = [
      ...(javac ? [] : ['javac (Debian package openjdk-17-jdk-headless)']),
      ...(java ? [] : ['java (Debian package openjdk-17-jre-headless)']),
      ...BOUNCY_CASTLE_JARS.filter((jar) => !existsSync(jar)),
    ];
    if (missing.length > 0 || !javac || !java) {
      unavailable(`the Bouncy Castle receipt check cannot run; missing: ${missing.join(', ')}`);
      return undefined;
    }
    const { stderr } = await runTool(java, ['-version']);
    const key = createHash('sha256')
      .update(readFileSync(VERIFIER_SOURCE))
      .update(stderr.split('\n')[0])
      .update(BOUNCY_CASTLE_JARS.join(':'))
      .digest('hex')
      .slice(0, 20);
    const classes = path.join(CACHE_ROOT, key);
    if (!existsSync(path.join(classes, 'READY'))) {
      // Compiled beside the final directory and renamed: concurrent jest workers never see half a build.
      const scratch = `${classes}.tmp-${process.pid}-${Date.now()}`;
      mkdirSync(scratch, { recursive: true });
      try {
        const classpath = BOUNCY_CASTLE_JARS.join(path.delimiter);
        await runTool(javac, [
          '-encoding',
          'UTF-8',
          '-nowarn',
          '-cp',
          classpath,
          '-d',
          scratch,
          VERIFIER_SOURCE,
        ]);
        writeFileSync(path.join(scratch, 'READY'), new Date().toISOString());
        try {
          renameSync(scratch, classes);
        } catch (error) {
          if (!existsSync(path.join(classes, 'READY'))) throw error;
        }
      } finally {
        rmSync(scratch, { recursive: true, force: true });
      }
    }
    return { java, classpath: [classes, ...BOUNCY_CASTLE_JARS].join(path.delimiter) };
  })();
  return verifier;
}

/** One receipt's verdict from VerifyReceipt.java. */
export interface BouncyCastleVerdict {
  ok: boolean;
  /** The checks passed, in order: cms-signature, content-type-and-signing-time, signing-certificate-v2, time-stamp-imprint, time-stamp-signature. */
  passed: string[];
  signingTime: string | null;
  genTime: string | null;
  error: string | null;
}

/** Runs VerifyReceipt once over all receipts; returns a message per receipt that failed. */
async function bouncyCastleProblems(receipts: ReceiptToVerify[]): Promise<string[]> {
  const verdicts = await bouncyCastleVerdicts(receipts);
  if (verdicts === undefined) return [];
  return verdicts.flatMap((verdict, index) =>
    verdict.ok
      ? []
      : [`${receipts[index].label}: Bouncy Castle: ${verdict.error} (passed: ${verdict.passed.join(', ')})`],
  );
}

/**
 * The Bouncy Castle verdict on each receipt (one JVM run for all), or undefined when Java or the jars
 * are missing on a machine that is not CI.
 */
export async function bouncyCastleVerdicts(
  receipts: ReceiptToVerify[],
): Promise<BouncyCastleVerdict[] | undefined> {
  const tool = await bouncyCastleVerifier();
  if (tool === undefined) return undefined;
  const work = mkdtempSync(path.join(os.tmpdir(), 'rm-receipt-bc-'));
  try {
    receipts.forEach((receipt, index) => {
      writeFileSync(path.join(work, `r${index}.xml`), receipt.content);
      writeFileSync(path.join(work, `r${index}.p7s`), receipt.signature);
    });
    const { status, stdout, stderr } = await spawnCollecting(tool.java, [
      '-cp',
      tool.classpath,
      'interop.VerifyReceipt',
      work,
    ]);
    const lines = stdout
      .split('\n')
      .filter((line) => line.startsWith('{"event":"receipt"'))
      .map((line) => JSON.parse(line) as BouncyCastleVerdict & { name: string });
    return receipts.map((_, index) => {
      const line = lines.find((entry) => entry.name === `r${index}`);
      if (line === undefined) {
        throw new Error(`VerifyReceipt exited ${status} without a verdict on receipt ${index}: ${stderr}`);
      }
      const { ok, passed, signingTime, genTime, error } = line;
      return { ok, passed, signingTime, genTime, error };
    });
  } finally {
    rmSync(work, { recursive: true, force: true });
  }
}

/** Runs a program to its end without blocking the event loop; its exit status is the caller's to judge. */
function spawnCollecting(
  command: string,
  args: string[],
): Promise<{ status: number | null; stdout: string; stderr: string }> {
  return new Promise((resolve, reject) => {
    const child = spawn(command, args, { stdio: ['ignore', 'pipe', 'pipe'] });
    let stdout = '';
    let stderr = '';
    child.stdout.setEncoding('utf8').on('data', (chunk: string) => (stdout += chunk));
    child.stderr.setEncoding('utf8').on('data', (chunk: string) => (stderr += chunk));
    const timer = setTimeout(() => child.kill('SIGKILL'), 120_000);
    child.on('error', (error) => {
      clearTimeout(timer);
      reject(error);
    });
    child.on('close', (status) => {
      clearTimeout(timer);
      resolve({ status, stdout, stderr });
    });
  });
}
