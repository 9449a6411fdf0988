import { Writable } from 'node:stream';
import winston from 'winston';

/** A winston transport that keeps every line written (without its line end) in `lines`, for assertions. */
export function logLinesTransport(lines: string[]): winston.transport {
  return new winston.transports.Stream({
    stream: new Writable({
      write(chunk: Buffer, _encoding, callback) {
        lines.push(chunk.toString('utf8').trim());
        callback();
      },
    }),
  });
}
