import { randomFillSync } from 'node:crypto';

/** Fills a buffer with random bytes (the CSPRNG's `randomFillSync` by default; tests give their own). */
export type FillRandom = (buffer: Buffer) => void;

/** Options of {@link RandomBytesPool}. */
export interface RandomBytesPoolOptions {
  /** Bytes drawn at a time (default 4096). */
  poolBytes?: number;
  fill?: FillRandom;
}

const DEFAULT_POOL_BYTES = 4096;

/**
 * Random bytes for the small values the request path draws (a ticket's random symbols, a time-stamp's
 * serial number), taken from a pool filled a few kilobytes at a time from the CSPRNG, as Node's own
 * `randomUUID` does. Each `crypto.randomBytes` call makes a job object and a trip into OpenSSL: about
 * 2 µs for a few bytes when idle, 10 under load, for one draw per request. Every byte is given out once;
 * a request larger than a quarter of the pool is drawn directly.
 */
export class RandomBytesPool {
  private readonly poolBytes: number;
  private readonly fill: FillRandom;
  private pool: Buffer = Buffer.alloc(0);
  private offset = 0;

  constructor(options: RandomBytesPoolOptions = {}) {
    this.poolBytes = options.poolBytes ?? DEFAULT_POOL_BYTES;
    this.fill = options.fill ?? ((buffer) => randomFillSync(buffer));
    if (!Number.isSafeInteger(this.poolBytes) || this.poolBytes < 4) {
      throw new RangeError(`the pool must hold at least 4 bytes, not ${this.poolBytes}`);
    }
  }

  /** `size` random bytes in a buffer of the caller's own (a copy: never shared with another caller). */
  take(size: number): Buffer {
    if (!Number.isSafeInteger(size) || size < 0) throw new RangeError(`not a byte count: ${size}`);
    if (size > this.poolBytes / 4) {
      const bytes = Buffer.allocUnsafe(size);
      this.fill(bytes);
      return bytes;
    }
    if (this.offset + size > this.pool.length) {
      // A new pool rather than a refill in place: the bytes left over are never given out.
      this.pool = Buffer.allocUnsafeSlow(this.poolBytes);
      this.fill(this.pool);
      this.offset = 0;
    }
    const bytes = Buffer.from(this.pool.subarray(this.offset, this.offset + size));
    this.offset += size;
    return bytes;
  }
}

const sharedPool = new RandomBytesPool();

/** `size` bytes from the CSPRNG, through this process's {@link RandomBytesPool}. */
export function pooledRandomBytes(size: number): Buffer {
  return sharedPool.take(size);
}
