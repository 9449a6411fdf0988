import type { Command } from 'commander';

/** The exit statuses of the client commands (migrate, send, status, proof). */
export const CLI_EXIT = {
  /** Done. */
  ok: 0,
  /** The service answered a fault, could not be reached, or its answer could not be trusted. */
  failed: 1,
  /** The command was used wrongly, or an input (key store, certificate, file) cannot be read. */
  usage: 2,
  /** Not yet: migrations are pending (`migrate --check`), a proof is not issued yet (`proof`). */
  notYet: 3,
} as const;

/**
 * Makes commander's own usage errors (an unknown option, a missing argument or value, an invalid choice)
 * exit with {@link CLI_EXIT.usage} instead of 1; `--help` still exits 0.
 */
export function exitOnUsageError(command: Command): Command {
  return command.exitOverride((error) => {
    process.exit(error.exitCode === 0 ? CLI_EXIT.ok : CLI_EXIT.usage);
  });
}
