import { stat } from 'node:fs/promises';
import path from 'node:path';
import { Command, Option } from 'commander';
import { ServiceFaultError } from '../client/client-errors';
import { getProof, PROOF_SELECTIONS } from '../client/get-proof';
import { systemClock, type Clock } from '../clock/clock';
import type { ProofSelection } from '../domain/model';
import type { ProofNotIssuedError } from '../errors/faults';
import { addClientOptions, clientContextFrom, type ClientOptions } from './client-options';
import { processOutput, type CommandOutput } from './command-output';
import { CLI_EXIT, exitOnUsageError } from './exit-codes';
import { describeFailure, exitCodeOf } from './failure-text';
import { proofFileName, saveProofFile } from './proof-files';

/** The options of `proof`, as commander parses them. */
export interface ProofOptions extends ClientOptions {
  kind: ProofSelection;
  out: string;
}

/** The fault of a proof not issued yet (the catalogue's code, checked by the compiler). */
const PROOF_NOT_ISSUED: ProofNotIssuedError['code'] = 'PROOF_B01';

/** Whether `out` names a directory: one that exists, or a path written with a trailing separator. */
async function isDirectory(out: string): Promise<boolean> {
  if (/[\\/]$/.test(out)) return true;
  return (await stat(out).catch(() => undefined))?.isDirectory() ?? false;
}

/**
 * Runs `proof`: GetProof of a ticket, each proof saved exactly as answered (content and `.p7s`
 * signature). A single kind goes to `out` when it names a file, else to `<out>/<ticket>-<kind>.xml`;
 * ALL goes to the directory `out`.
 * @returns the exit status: ok; notYet when the proof is not issued yet (PROOF_B01); failed for another
 *   fault (REPO_B01: unknown ticket) or a failed exchange; usage for unusable options
 */
export async function runProof(
  ticket: string,
  options: ProofOptions,
  io: { env: NodeJS.ProcessEnv; clock: Clock; output: CommandOutput },
): Promise<number> {
  try {
    const context = await clientContextFrom(options, io.env, io.clock);
    const result = await getProof(context, ticket, options.kind);
    const intoDirectory = options.kind === 'ALL' || (await isDirectory(options.out));
    for (const proof of result.proofs) {
      const target = intoDirectory ? path.join(options.out, proofFileName(ticket, proof.kind)) : options.out;
      const saved = await saveProofFile(target, proof.file);
      io.output.stdout(`${proof.kind}: ${saved.contentPath} (signature ${saved.signaturePath})\n`);
    }
    return CLI_EXIT.ok;
  } catch (error) {
    if (error instanceof ServiceFaultError && error.fault.code === PROOF_NOT_ISSUED) {
      io.output.stderr(
        `registered-mail proof: the ${options.kind} proof of ${ticket} is not issued yet (${PROOF_NOT_ISSUED}: ${error.fault.message}); ask again later\n`,
      );
      return CLI_EXIT.notYet;
    }
    io.output.stderr(`registered-mail proof: ${describeFailure(error)}\n`);
    return exitCodeOf(error);
  }
}

/** The `proof` subcommand. */
export function proofCommand(): Command {
  const command = new Command('proof')
    .description('save the proof(s) of an item, exactly as issued (GetProof); exit 3 when not issued yet')
    .argument('<ticket>', 'the ticket the send answered')
    .addOption(
      new Option('--kind <kind>', 'the proof: RECEIPT, DISPATCH, CONSULTATION, or ALL issued so far')
        .choices(PROOF_SELECTIONS)
        .makeOptionMandatory(),
    )
    .option('--out <file or dir>', 'where to save: a file (one kind), or a directory', '.');
  return exitOnUsageError(addClientOptions(command)).action(async (ticket: string, options: ProofOptions) => {
    process.exitCode = await runProof(ticket, options, {
      env: process.env,
      clock: systemClock,
      output: processOutput,
    });
  });
}
