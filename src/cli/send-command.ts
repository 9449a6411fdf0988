import { randomUUID } from 'node:crypto';
import { stat } from 'node:fs/promises';
import path from 'node:path';
import { Command, Option } from 'commander';
import type { ClientContext } from '../client/client-context';
import { ClientUsageError } from '../client/client-errors';
import { ACCEPTED_MEDIA_TYPES, mediaTypeOfFileName } from '../client/media-types';
import {
  sendRegisteredMail,
  type SendRegisteredMailRequest,
  type SendRegisteredMailResult,
} from '../client/send-registered-mail';
import { systemClock, type Clock } from '../clock/clock';
import type { CheckEboxStatus, Language, Recipient } from '../domain/model';
import { cbeArgument, inssArgument, positiveIntegerArgument } from './argument-parsers';
import { batchReporter, type ReporterStream } from './batch-reporter';
import { addClientOptions, clientContextFrom, type ClientOptions } from './client-options';
import { CLI_EXIT, exitOnUsageError } from './exit-codes';
import { describeFailure, exitCodeOf } from './failure-text';
import { proofFileName, saveProofFile, type SavedProof } from './proof-files';
import { runWithConcurrency } from './run-with-concurrency';

/** The options of `send`, as commander parses them. */
export interface SendOptions extends ClientOptions {
  inss?: string;
  cbe?: string;
  qualityCode?: string;
  type: string;
  title?: string;
  language?: Language;
  mime?: string;
  checkEbox?: CheckEboxStatus;
  token?: string;
  receiptsDir: string;
  concurrency: number;
}

/** What `send` reads and writes besides its options. */
export interface SendEnvironment {
  env: NodeJS.ProcessEnv;
  clock: Clock;
  stdout: ReporterStream;
  stderr: ReporterStream;
}

/** The contract's bounds (RegisteredMail_types_v1.xsd). */
const MAX = { token: 50, title: 400, fileName: 80, type: 80, qualityCode: 125 } as const;
const LANGUAGES: readonly Language[] = ['fr', 'nl', 'de', 'en', 'bi'];
const CHECK_EBOX_STATUSES: readonly CheckEboxStatus[] = ['ACTIVATED', 'PREFERRED', 'BYPASS'];

function checkLength(what: string, value: string, max: number): void {
  if (value.length < 1 || value.length > max) {
    throw new ClientUsageError(`${what} must have 1 to ${max} characters (it has ${value.length})`);
  }
}

/** The recipient the options name: exactly one of --inss and --cbe, with its quality code. */
function recipientOf(options: SendOptions): Recipient {
  if ((options.inss === undefined) === (options.cbe === undefined)) {
    throw new ClientUsageError('give the recipient: either --inss <INSS> or --cbe <CBE>');
  }
  const qualityCode = options.qualityCode ?? (options.inss !== undefined ? 'CITIZEN' : 'QUAL_EMP_NOSS');
  checkLength('--quality-code', qualityCode, MAX.qualityCode);
  return options.inss !== undefined
    ? { kind: 'citizen', inss: options.inss, qualityCode }
    : { kind: 'enterprise', cbe: options.cbe as string, qualityCode };
}

/** A name of at most 80 characters: the file's own, its stem shortened when needed (the extension kept). */
function downloadFileName(fileName: string): string {
  if (fileName.length <= MAX.fileName) return fileName;
  const extension = path.extname(fileName).slice(0, 16);
  return `${path.basename(fileName, path.extname(fileName)).slice(0, MAX.fileName - extension.length)}${extension}`;
}

/** Refuses, before anything is sent, options that break the contract and files that cannot be read. */
async function checkBatch(files: readonly string[], options: SendOptions): Promise<Recipient> {
  const recipient = recipientOf(options);
  checkLength('--type', options.type, MAX.type);
  if (options.title !== undefined) checkLength('--title', options.title, MAX.title);
  if (options.token !== undefined) {
    if (files.length > 1) throw new ClientUsageError('--token names one item: give it with one file only');
    if (options.token.length > MAX.token)
      throw new ClientUsageError(`--token has more than ${MAX.token} characters`);
  }
  for (const file of files) {
    const found = await stat(file).catch(() => undefined);
    if (!found?.isFile()) throw new ClientUsageError(`${file}: no such file`);
  }
  return recipient;
}

function requestFor(file: string, options: SendOptions, recipient: Recipient): SendRegisteredMailRequest {
  const fileName = path.basename(file);
  return {
    // A fresh Token per file: each file is its own item; --token (one file) makes a retry of an earlier send.
    token: options.token ?? randomUUID(),
    recipient,
    checkEboxStatus: options.checkEbox,
    document: {
      path: file,
      title: options.title ?? fileName.slice(0, MAX.title),
      downloadFileName: downloadFileName(fileName),
      mime: options.mime ?? mediaTypeOfFileName(fileName),
      type: options.type,
      language: options.language,
    },
  };
}

/** Sends one file and saves its receipt. */
async function sendOne(
  context: ClientContext,
  request: SendRegisteredMailRequest,
  receiptsDir: string,
): Promise<{ result: SendRegisteredMailResult; receipt: SavedProof }> {
  const result = await sendRegisteredMail(context, request);
  const receipt = await saveProofFile(
    path.join(receiptsDir, proofFileName(result.ticket, 'RECEIPT')),
    result.receipt,
  );
  return { result, receipt };
}

/**
 * Runs `send`: one SendRegisteredMail per file (at most `concurrency` at once), each line saying the
 * file, its ticket and token and where its receipt was saved, or why it failed.
 * @returns the exit status: ok when every file was sent; usage for unusable options or files (nothing is
 *   sent then); failed when any file failed
 */
export async function runSend(
  files: readonly string[],
  options: SendOptions,
  io: SendEnvironment,
): Promise<number> {
  let context: ClientContext;
  let recipient: Recipient;
  try {
    recipient = await checkBatch(files, options);
    context = await clientContextFrom(options, io.env, io.clock);
  } catch (error) {
    io.stderr.write(`registered-mail send: ${describeFailure(error)}\n`);
    return exitCodeOf(error);
  }
  const reporter = batchReporter(files.length, io);
  const outcomes = await runWithConcurrency(
    files,
    options.concurrency,
    (file) => sendOne(context, requestFor(file, options, recipient), options.receiptsDir),
    (file, outcome) => {
      if (outcome.ok) {
        const { result, receipt } = outcome.value;
        reporter.sent(
          `${file}: ticket ${result.ticket}, token ${result.token}, receipt ${receipt.contentPath}`,
        );
      } else {
        reporter.failed(`${file}: FAILED ${describeFailure(outcome.error)}`);
      }
    },
  );
  reporter.stop();
  const failures = outcomes.flatMap((outcome) => (outcome.ok ? [] : [outcome.error]));
  if (files.length > 1)
    io.stderr.write(`${files.length - failures.length} sent, ${failures.length} failed\n`);
  if (failures.length === 0) return CLI_EXIT.ok;
  return failures.every((error) => exitCodeOf(error) === CLI_EXIT.usage) ? CLI_EXIT.usage : CLI_EXIT.failed;
}

/** The `send` subcommand. */
export function sendCommand(): Command {
  const command = new Command('send')
    .description(
      'send each file as a registered mail (SendRegisteredMail, MTOM, signed) and save its receipt',
    )
    .argument('<file...>', 'the documents, one item each')
    .option('--inss <inss>', 'the recipient: a citizen (INSS)', inssArgument)
    .option('--cbe <cbe>', 'the recipient: an enterprise (CBE number)', cbeArgument)
    .option(
      '--quality-code <code>',
      "the recipient's quality code (default CITIZEN, or QUAL_EMP_NOSS with --cbe)",
    )
    .requiredOption('--type <type>', 'the document type, e.g. EDER501')
    .option('--title <title>', 'the title the recipient sees (default: the file name)')
    .addOption(new Option('--language <language>', "the document's language").choices(LANGUAGES))
    .addOption(
      new Option('--mime <type>', 'the media type (default: from the extension; none when unknown)').choices(
        ACCEPTED_MEDIA_TYPES,
      ),
    )
    .addOption(
      new Option(
        '--check-ebox <check>',
        "how the recipient's e-Box is checked (service default ACTIVATED)",
      ).choices(CHECK_EBOX_STATUSES),
    )
    .option('--token <token>', 'the Token of the item (one file only; default: a fresh one per file)')
    .option('--receipts-dir <dir>', 'where receipts are saved (<ticket>-receipt.xml and .p7s)', 'receipts')
    .addOption(
      new Option('--concurrency <n>', 'files in flight at once')
        .argParser(positiveIntegerArgument(64))
        .default(4),
    );
  return exitOnUsageError(addClientOptions(command)).action(async (files: string[], options: SendOptions) => {
    process.exitCode = await runSend(files, options, {
      env: process.env,
      clock: systemClock,
      stdout: process.stdout,
      stderr: process.stderr,
    });
  });
}
