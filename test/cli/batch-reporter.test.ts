import { Writable } from 'node:stream';
import { batchReporter, type ReporterStream } from '../../src/cli/batch-reporter';

/*
 * How `send` reports a batch: plain lines when standard error is not a terminal (or for one file), a
 * cli-progress bar on standard error otherwise, with the lines written above it. The terminal is a stream
 * that says it is one (isTTY), as a pseudo-terminal would.
 */

/** A stream that keeps what is written; `isTTY` as given. */
function stream(isTTY: boolean): ReporterStream & { text: () => string } {
  let written = '';
  const writable = new Writable({
    write(chunk: Buffer, _encoding, callback) {
      written += chunk.toString('utf8');
      callback();
    },
  }) as Writable & { isTTY?: boolean; columns?: number; text: () => string };
  writable.isTTY = isTTY;
  writable.columns = 120;
  writable.text = () => written;
  return writable;
}

// eslint-disable-next-line no-control-regex
const ESCAPE = /\x1b\[/;

describe('batchReporter', () => {
  test('without a terminal: sent lines on stdout, failures on stderr, nothing else', () => {
    const stdout = stream(false);
    const stderr = stream(false);
    const reporter = batchReporter(3, { stdout, stderr });
    reporter.sent('a.pdf: ticket A');
    reporter.failed('b.pdf: FAILED SOA-01001');
    reporter.sent('c.pdf: ticket C');
    reporter.stop();
    expect(stdout.text()).toBe('a.pdf: ticket A\nc.pdf: ticket C\n');
    expect(stderr.text()).toBe('b.pdf: FAILED SOA-01001\n');
  });

  test('one file on a terminal: a plain line, no bar', () => {
    const stdout = stream(true);
    const stderr = stream(true);
    const reporter = batchReporter(1, { stdout, stderr });
    reporter.sent('a.pdf: ticket A');
    reporter.stop();
    expect(stdout.text()).toBe('a.pdf: ticket A\n');
    expect(stderr.text()).toBe('');
  });

  test('several files with stderr a terminal: a progress bar on stderr, the lines above it', () => {
    const stdout = stream(true);
    const stderr = stream(true);
    const reporter = batchReporter(3, { stdout, stderr });
    reporter.sent('a.pdf: ticket A');
    reporter.failed('b.pdf: FAILED SOA-01001');
    reporter.sent('c.pdf: ticket C');
    reporter.stop();
    const drawn = stderr.text();
    expect(drawn).toMatch(ESCAPE);
    expect(drawn).toContain('3/3 files | 1 failed');
    // The lines reach the terminal through the bar's log, in order, none lost.
    expect(drawn.indexOf('a.pdf: ticket A')).toBeGreaterThan(-1);
    expect(drawn.indexOf('b.pdf: FAILED SOA-01001')).toBeGreaterThan(drawn.indexOf('a.pdf: ticket A'));
    expect(drawn.indexOf('c.pdf: ticket C')).toBeGreaterThan(drawn.indexOf('b.pdf: FAILED SOA-01001'));
    expect(stdout.text()).toBe('');
  });

  test('several files, stdout redirected, stderr a terminal: sent lines go to the file untouched', () => {
    const stdout = stream(false);
    const stderr = stream(true);
    const reporter = batchReporter(2, { stdout, stderr });
    reporter.sent('a.pdf: ticket A');
    reporter.sent('b.pdf: ticket B');
    reporter.stop();
    expect(stdout.text()).toBe('a.pdf: ticket A\nb.pdf: ticket B\n');
    expect(stderr.text()).toContain('2/2 files | 0 failed');
  });
});
