import { ClientError, ClientUsageError, ServiceFaultError } from '../client/client-errors';
import { CLI_EXIT } from './exit-codes';

/**
 * A failure in one line, for a person: a fault's code and message (and whether the service says to retry),
 * a client error's message; never a stack trace.
 */
export function describeFailure(error: unknown): string {
  if (error instanceof ServiceFaultError) {
    const { fault } = error;
    const retry = fault.retry ? ' (the service says a retry may succeed)' : '';
    return `${fault.code} ${fault.message}${retry}`;
  }
  if (error instanceof ClientError) return error.message;
  return `unexpected error: ${error instanceof Error ? error.message : String(error)}`;
}

/** The exit status a failure stands for: {@link CLI_EXIT.usage} for the caller's input, else failed. */
export function exitCodeOf(error: unknown): number {
  return error instanceof ClientUsageError ? CLI_EXIT.usage : CLI_EXIT.failed;
}
