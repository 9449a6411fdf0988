import { createLogger, maskInss } from '../../src/logging/logger';
import { logLinesTransport } from '../support/log-lines';

/** A logger at `level` whose JSON lines are kept in `lines` instead of written out. */
function capturedLogger(level: string): { logger: ReturnType<typeof createLogger>; lines: string[] } {
  const lines: string[] = [];
  const logger = createLogger({ level });
  logger.clear().add(logLinesTransport(lines));
  return { logger, lines };
}

describe('logger', () => {
  it('masks an INSS, keeping the birth date only', () => {
    expect(maskInss('85073003328')).toBe('850730*****');
    expect(maskInss('recipient 85073003328 and 17073003384')).toBe('recipient 850730***** and 170730*****');
    expect(maskInss('ticket 1ZG0000036L3Z, CBE 0861023666')).toBe('ticket 1ZG0000036L3Z, CBE 0861023666');
  });

  it('writes JSON lines where INSS numbers are masked and buffers appear as their length', () => {
    const { logger, lines } = capturedLogger('info');
    logger.child({ requestId: 'r-1' }).info('recipient 85073003328', {
      recipient: { inss: '85073003328' },
      content: Buffer.from('secret document'),
    });
    const entry = JSON.parse(lines[0]) as Record<string, unknown>;
    expect(entry.requestId).toBe('r-1');
    expect(lines[0]).not.toContain('85073003328');
    expect(lines[0]).not.toContain('secret document');
    expect(entry.content).toBe('[15 bytes]');
  });

  it('writes the enabled levels only, for the root logger and its children', () => {
    const { logger, lines } = capturedLogger('warn');
    const child = logger.child({ requestId: 'r-2' });
    expect(child.info('not written')).toBe(child);
    logger.debug('not written either');
    child.warn('written');
    logger.error('also written');
    expect(lines.map((line) => (JSON.parse(line) as { message: string }).message)).toEqual([
      'written',
      'also written',
    ]);
    logger.level = 'info';
    child.info('now written');
    expect(lines).toHaveLength(3);
  });

  it("gives a child's child the metadata of both, its own keys winning, written by the root logger", () => {
    const { logger, lines } = capturedLogger('info');
    const worker = logger.child({ role: 'worker', scope: 'process' });
    const request = worker.child({ requestId: 'r-3', scope: 'request' });
    const sender = request.child({ sender: '0123456789/app' });
    sender.info('accepted', { ticket: 'T1' });
    request.warn('refused', { scope: 'call' });
    worker.info('idle');
    expect(lines.map((line) => JSON.parse(line) as Record<string, unknown>)).toEqual([
      expect.objectContaining({
        message: 'accepted',
        role: 'worker',
        requestId: 'r-3',
        scope: 'request',
        sender: '0123456789/app',
        ticket: 'T1',
      }),
      expect.objectContaining({ message: 'refused', role: 'worker', requestId: 'r-3', scope: 'call' }),
      expect.objectContaining({ message: 'idle', role: 'worker', scope: 'process' }),
    ]);
    expect(JSON.parse(lines[2])).not.toHaveProperty('requestId');
    // No child is another child's prototype: all share one, made once, whose prototype is the root.
    expect(Object.getPrototypeOf(sender)).toBe(Object.getPrototypeOf(worker));
    expect(Object.getPrototypeOf(request)).toBe(Object.getPrototypeOf(worker));
    expect(Object.getPrototypeOf(Object.getPrototypeOf(worker))).toBe(logger);
    // An Error logged by a child keeps its message and stack, with the child's fields.
    request.warn(new Error('boom'));
    expect(JSON.parse(lines[3])).toEqual(
      expect.objectContaining({
        level: 'warn',
        message: 'boom',
        requestId: 'r-3',
        stack: expect.stringContaining('Error: boom') as string,
      }),
    );
    // Levels still follow the root's.
    logger.level = 'warn';
    sender.info('not written');
    expect(lines).toHaveLength(4);
  });
});
