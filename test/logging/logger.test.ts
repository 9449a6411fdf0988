import { Writable } from 'node:stream';
import winston from 'winston';
import { createLogger, maskInss } from '../../src/logging/logger';

describe('logger', () => {
  it('masks an INSS, keeping the birth date only', () => {
    expect(maskInss('85073003328')).toBe('850730*****');
    expect(maskInss('recipient 85073003328 and 17073003384')).toBe('recipient 850730***** and 170730*****');
    expect(maskInss('ticket 1ZG0000036L3Z, CBE 0861023666')).toBe('ticket 1ZG0000036L3Z, CBE 0861023666');
  });

  it('writes JSON lines where INSS numbers are masked and buffers appear as their length', () => {
    const lines: string[] = [];
    const logger = createLogger({ level: 'info' });
    logger.clear().add(
      new winston.transports.Stream({
        stream: new Writable({
          write(chunk: Buffer, _encoding, callback) {
            lines.push(chunk.toString());
            callback();
          },
        }),
      }),
    );
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
});
