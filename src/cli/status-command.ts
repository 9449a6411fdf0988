import { Command } from 'commander';
import { getStatus, type ItemStatusResult } from '../client/get-status';
import { systemClock, type Clock } from '../clock/clock';
import { addClientOptions, clientContextFrom, type ClientOptions } from './client-options';
import { processOutput, type CommandOutput } from './command-output';
import { CLI_EXIT, exitOnUsageError } from './exit-codes';
import { describeFailure, exitCodeOf } from './failure-text';

/** The options of `status`, as commander parses them. */
export interface StatusOptions extends ClientOptions {
  json?: boolean;
}

/** The status and the history, one event a line, oldest first. */
export function formatStatus(result: ItemStatusResult): string {
  const events = result.events.map((event) => {
    // The detail usually names the e-Box message already.
    const messageId =
      event.eboxMessageId !== undefined && !(event.detail ?? '').includes(event.eboxMessageId)
        ? `e-Box message ${event.eboxMessageId}`
        : '';
    const extra = [event.detail ?? '', messageId].filter((text) => text !== '').join('; ');
    return `  ${event.time}  ${event.name.padEnd(18)} ${event.status.padEnd(8)} ${extra}`.trimEnd();
  });
  return [
    `ticket  ${result.ticket}`,
    `token   ${result.token}`,
    `status  ${result.status}`,
    'history:',
    ...events,
  ]
    .map((line) => `${line}\n`)
    .join('');
}

/**
 * Runs `status`: GetStatus of a ticket, written as text or (`json`) as the JSON of the answer.
 * @returns the exit status: ok; failed for a fault (REPO_B01: unknown ticket) or an exchange that failed;
 *   usage for unusable options
 */
export async function runStatus(
  ticket: string,
  options: StatusOptions,
  io: { env: NodeJS.ProcessEnv; clock: Clock; output: CommandOutput },
): Promise<number> {
  try {
    const context = await clientContextFrom(options, io.env, io.clock);
    const result = await getStatus(context, ticket);
    io.output.stdout(options.json ? `${JSON.stringify(result, null, 2)}\n` : formatStatus(result));
    return CLI_EXIT.ok;
  } catch (error) {
    io.output.stderr(`registered-mail status: ${describeFailure(error)}\n`);
    return exitCodeOf(error);
  }
}

/** The `status` subcommand. */
export function statusCommand(): Command {
  const command = new Command('status')
    .description('the status and history of an item (GetStatus)')
    .argument('<ticket>', 'the ticket the send answered')
    .option('--json', 'write the answer as JSON');
  return exitOnUsageError(addClientOptions(command)).action(
    async (ticket: string, options: StatusOptions) => {
      process.exitCode = await runStatus(ticket, options, {
        env: process.env,
        clock: systemClock,
        output: processOutput,
      });
    },
  );
}
