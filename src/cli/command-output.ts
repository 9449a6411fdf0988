/** Where a client command writes (process.stdout and process.stderr, or a test's buffers). */
export interface CommandOutput {
  stdout(text: string): void;
  stderr(text: string): void;
}

/** The process's own standard output and error. */
export const processOutput: CommandOutput = {
  stdout: (text) => process.stdout.write(text),
  stderr: (text) => process.stderr.write(text),
};
