import { readFile, stat } from 'node:fs/promises';
import { Command } from 'commander';
import { readCertificatesFromPemDirectory, readCertificatesFromPemFile } from '../pki/pem';
import type { ProofInput } from './proof-evidence';
import { proofsFromSavedResponse, SavedResponseError } from './saved-response';
import { decodeSignatureFile } from './signature-file';
import { verifyProofs } from './verify-proof';
import { formatReport, reportToJson } from './verification-report';

/** verify-proof exit statuses. */
export const VERIFY_PROOF_EXIT = {
  /** Every check of every proof passed. */
  passed: 0,
  /** A check failed. */
  failed: 1,
  /** The command was used wrongly or an input file could not be read. */
  usage: 2,
} as const;

/** The options of verify-proof, as commander parses them. */
export interface VerifyProofOptions {
  signature?: string;
  content?: string;
  response?: string;
  /** Undefined when no --trust was given. */
  trust?: string[];
  at?: string;
  json?: boolean;
}

/** Where verify-proof writes. */
export interface CommandOutput {
  stdout(text: string): void;
  stderr(text: string): void;
}

class UsageError extends Error {}

const ISO_TIME = /^\d{4}-\d{2}-\d{2}(?:T\d{2}:\d{2}(?::\d{2}(?:\.\d+)?)?(?:Z|[+-]\d{2}:\d{2}))?$/;

function validationTime(at: string | undefined): Date {
  if (at === undefined) return new Date();
  const time = new Date(at);
  if (!ISO_TIME.test(at) || Number.isNaN(time.getTime())) {
    throw new UsageError(`--at ${at}: not an ISO 8601 time with a time zone (e.g. 2026-04-02T08:15:30Z)`);
  }
  return time;
}

async function readInput(file: string, what: string): Promise<Buffer> {
  try {
    return await readFile(file);
  } catch {
    throw new UsageError(`${what} ${file}: cannot be read`);
  }
}

async function trustAnchors(paths: readonly string[] = []): Promise<Buffer[]> {
  if (paths.length === 0)
    throw new UsageError('--trust <pem file or dir> is required (the CA certificates to trust)');
  const anchors: Buffer[] = [];
  for (const path of paths) {
    try {
      const found = (await stat(path)).isDirectory()
        ? await readCertificatesFromPemDirectory(path)
        : await readCertificatesFromPemFile(path);
      if (found.length === 0) throw new Error('no certificate');
      anchors.push(...found);
    } catch {
      throw new UsageError(`--trust ${path}: no readable PEM certificate`);
    }
  }
  return anchors;
}

async function proofInputs(options: VerifyProofOptions): Promise<ProofInput[]> {
  const detached = options.signature !== undefined || options.content !== undefined;
  if (options.response !== undefined && detached) {
    throw new UsageError('give either --response, or --signature with --content, not both');
  }
  if (options.response !== undefined) {
    try {
      return proofsFromSavedResponse(await readInput(options.response, '--response'));
    } catch (error) {
      if (error instanceof SavedResponseError)
        throw new UsageError(`--response ${options.response}: ${error.message}`);
      throw error;
    }
  }
  if (options.signature === undefined || options.content === undefined) {
    throw new UsageError('give --signature <file> and --content <file>, or --response <file>');
  }
  let signature: Buffer;
  try {
    signature = decodeSignatureFile(await readInput(options.signature, '--signature'));
  } catch (error) {
    if (error instanceof UsageError) throw error;
    throw new UsageError(`--signature ${options.signature}: ${(error as Error).message}`);
  }
  return [{ label: options.signature, signature, content: await readInput(options.content, '--content') }];
}

/**
 * Runs verify-proof: reads the inputs, verifies every proof and writes the report (text, or JSON with
 * `json`).
 * @returns the exit status ({@link VERIFY_PROOF_EXIT})
 */
export async function runVerifyProof(options: VerifyProofOptions, output: CommandOutput): Promise<number> {
  let inputs: ProofInput[];
  let anchors: Buffer[];
  let at: Date;
  try {
    at = validationTime(options.at);
    anchors = await trustAnchors(options.trust);
    inputs = await proofInputs(options);
  } catch (error) {
    if (!(error instanceof UsageError)) throw error;
    output.stderr(`registered-mail verify-proof: ${error.message}\n`);
    return VERIFY_PROOF_EXIT.usage;
  }
  const report = await verifyProofs(inputs, { trustAnchors: anchors, validationTime: at });
  output.stdout(options.json ? `${JSON.stringify(reportToJson(report), null, 2)}\n` : formatReport(report));
  return report.passed ? VERIFY_PROOF_EXIT.passed : VERIFY_PROOF_EXIT.failed;
}

function collect(value: string, previous: string[] | undefined): string[] {
  return [...(previous ?? []), value];
}

/** The `verify-proof` subcommand (exit 0 all checks passed, 1 a check failed, 2 usage error). */
export function verifyProofCommand(): Command {
  return new Command('verify-proof')
    .description(
      'verify a proof offline (CAdES signature, certificate chains, RFC 3161 time-stamp); exit 0 only when every check passes',
    )
    .option('--signature <file>', 'the detached CMS signature: DER, or base64 as in a SignedFile Signature')
    .option('--content <file>', 'the signed bytes (e.g. Receipt.xml)')
    .option('--response <file>', 'a saved multipart/related SOAP response: verifies each SignedFile in it')
    .option(
      '--trust <pem file or dir>',
      'CA certificates trusted for the signer and the TSA (repeatable)',
      collect,
    )
    .option('--at <ISO time>', 'validation time (default: now)')
    .option('--json', 'write the report as JSON')
    .exitOverride((error) => {
      // commander's own usage errors (unknown option, missing value) exit 2 like ours; --help exits 0.
      process.exit(error.exitCode === 0 ? 0 : VERIFY_PROOF_EXIT.usage);
    })
    .action(async (options: VerifyProofOptions) => {
      process.exitCode = await runVerifyProof(options, {
        stdout: (text) => process.stdout.write(text),
        stderr: (text) => process.stderr.write(text),
      });
    });
}
