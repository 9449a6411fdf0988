import { Command } from 'commander';
import { ConfigError, loadConfig } from '../config/config';
import { processOutput, type CommandOutput } from './command-output';
import { CLI_EXIT, exitOnUsageError } from './exit-codes';
import {
  applyPendingMigrations,
  databaseOptionsOf,
  describeDatabase,
  pendingMigrations,
} from './migration-runner';

/**
 * Runs `migrate`: applies the pending migrations of the configured database and says which ran, or with
 * `check` only says which are pending.
 * @returns the exit status: ok; with `check`, notYet when migrations are pending; failed when the
 *   database cannot be opened or a migration fails; usage when the configuration is invalid
 */
export async function runMigrate(
  options: { check?: boolean },
  env: NodeJS.ProcessEnv,
  output: CommandOutput,
): Promise<number> {
  let database;
  try {
    database = databaseOptionsOf(loadConfig(env));
  } catch (error) {
    if (!(error instanceof ConfigError)) throw error;
    output.stderr(`registered-mail migrate: configuration: ${error.message}\n`);
    return CLI_EXIT.usage;
  }
  const where = describeDatabase(database);
  try {
    if (options.check) {
      const pending = await pendingMigrations(database);
      for (const name of pending) output.stdout(`pending: ${name}\n`);
      output.stdout(
        pending.length === 0
          ? `${where}: up to date, no pending migration\n`
          : `${where}: ${pending.length} pending migration(s), not applied\n`,
      );
      return pending.length === 0 ? CLI_EXIT.ok : CLI_EXIT.notYet;
    }
    const applied = await applyPendingMigrations(database);
    for (const name of applied) output.stdout(`applied: ${name}\n`);
    output.stdout(
      applied.length === 0
        ? `${where}: up to date, no pending migration\n`
        : `${where}: ${applied.length} migration(s) applied\n`,
    );
    return CLI_EXIT.ok;
  } catch (error) {
    output.stderr(
      `registered-mail migrate: ${where}: ${error instanceof Error ? error.message : String(error)}\n`,
    );
    return CLI_EXIT.failed;
  }
}

/** The `migrate` subcommand. */
export function migrateCommand(): Command {
  return exitOnUsageError(
    new Command('migrate')
      .description(
        'apply the pending database migrations of the configured database (RM_DATA_DIR) and list them; exit 0',
      )
      .option(
        '--check',
        'only list the pending migrations, apply nothing: exit 3 when some are pending, 0 when none',
      ),
  ).action(async (options: { check?: boolean }) => {
    process.exitCode = await runMigrate(options, process.env, processOutput);
  });
}
