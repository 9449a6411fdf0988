import { MultiBar, Presets, type SingleBar } from 'cli-progress';

/** A stream the reporter writes to: a terminal (isTTY) or a pipe or file. */
export type ReporterStream = NodeJS.WritableStream & { isTTY?: boolean };

/** Tells how a batch of sends goes: one line per file, and a progress bar where it helps. */
export interface BatchReporter {
  /** A file was sent: its line goes to standard output. */
  sent(line: string): void;
  /** A file failed: its line goes to standard error. */
  failed(line: string): void;
  /** Writes what is still buffered and removes the bar; call once, when the batch is done. */
  stop(): void;
}

/** Plain lines: for one file, or when standard error is not a terminal. */
function plainReporter(stdout: ReporterStream, stderr: ReporterStream): BatchReporter {
  return {
    sent: (line) => void stdout.write(`${line}\n`),
    failed: (line) => void stderr.write(`${line}\n`),
    stop: () => undefined,
  };
}

/**
 * A cli-progress bar on standard error (files done of total, failures, time). Lines are written above
 * the bar through the bar's own log, so they do not garble it, whenever they would reach the same
 * terminal; sent lines redirected to a pipe or file go there directly.
 */
function progressBarReporter(total: number, stdout: ReporterStream, stderr: ReporterStream): BatchReporter {
  const bars = new MultiBar(
    {
      stream: stderr,
      format: 'sending [{bar}] {value}/{total} files | {failed} failed | {duration_formatted}',
      hideCursor: true,
    },
    Presets.shades_classic,
  );
  const bar: SingleBar = bars.create(total, 0, { failed: 0 });
  let failures = 0;
  // The bar hides the cursor and turns line wrapping off: give the terminal back before an interrupt ends
  // the process (cli-progress's own gracefulExit would stop the bar but keep the process running).
  const interrupted = () => {
    bars.update();
    bars.stop();
    process.exit(130);
  };
  process.once('SIGINT', interrupted);
  return {
    sent(line) {
      if (stdout.isTTY) bars.log(`${line}\n`);
      else stdout.write(`${line}\n`);
      bar.increment();
    },
    failed(line) {
      failures += 1;
      bars.log(`${line}\n`);
      bar.increment({ failed: failures });
    },
    stop() {
      process.removeListener('SIGINT', interrupted);
      // stop() draws the bar but not the lines logged since the last redraw: draw once more first.
      bars.update();
      bars.stop();
    },
  };
}

/**
 * The reporter of a batch of `total` files: a progress bar on standard error when there is more than one
 * file and standard error is a terminal, plain lines otherwise.
 */
export function batchReporter(
  total: number,
  streams: { stdout: ReporterStream; stderr: ReporterStream },
): BatchReporter {
  return total > 1 && streams.stderr.isTTY === true
    ? progressBarReporter(total, streams.stdout, streams.stderr)
    : plainReporter(streams.stdout, streams.stderr);
}
