import { pooledRandomBytes, RandomBytesPool } from '../../src/random/random-bytes-pool';

/** A fill that writes 0, 1, 2, ... across calls, and counts its calls. */
function countingFill() {
  let next = 0;
  const calls: number[] = [];
  return {
    calls,
    fill: (buffer: Buffer) => {
      calls.push(buffer.length);
      for (let i = 0; i < buffer.length; i += 1) buffer[i] = next++ & 0xff;
    },
  };
}

describe('RandomBytesPool', () => {
  it('gives every byte of a filled pool out once, in order, and fills a new pool when one runs short', () => {
    const source = countingFill();
    const pool = new RandomBytesPool({ poolBytes: 16, fill: source.fill });
    expect([...pool.take(4)]).toEqual([0, 1, 2, 3]);
    expect([...pool.take(4)]).toEqual([4, 5, 6, 7]);
    expect([...pool.take(3)]).toEqual([8, 9, 10]);
    expect(source.calls).toEqual([16]);
    expect([...pool.take(4)]).toEqual([11, 12, 13, 14]);
    // One byte left (15): not enough for 2, so a new pool; the leftover byte is never given out.
    expect([...pool.take(2)]).toEqual([16, 17]);
    expect(source.calls).toEqual([16, 16]);
    expect(pool.take(0)).toHaveLength(0);
  });

  it('draws a request larger than a quarter of the pool directly, leaving the pool as it was', () => {
    const source = countingFill();
    const pool = new RandomBytesPool({ poolBytes: 16, fill: source.fill });
    expect([...pool.take(2)]).toEqual([0, 1]);
    expect([...pool.take(5)]).toEqual([16, 17, 18, 19, 20]);
    expect(source.calls).toEqual([16, 5]);
    expect([...pool.take(2)]).toEqual([2, 3]);
  });

  it('hands out copies: changing one changes neither the pool nor another caller', () => {
    const source = countingFill();
    const pool = new RandomBytesPool({ poolBytes: 16, fill: source.fill });
    const first = pool.take(4);
    first.fill(0xee);
    const second = pool.take(4);
    expect([...second]).toEqual([4, 5, 6, 7]);
    expect(second.buffer === first.buffer && second.byteOffset === first.byteOffset).toBe(false);
  });

  it('refuses nonsense sizes', () => {
    const pool = new RandomBytesPool();
    expect(() => pool.take(-1)).toThrow(RangeError);
    expect(() => pool.take(1.5)).toThrow(RangeError);
    expect(() => new RandomBytesPool({ poolBytes: 2 })).toThrow(RangeError);
  });

  it('draws from the CSPRNG by default: 20 000 draws of 16 bytes are all different', () => {
    const seen = new Set<string>();
    for (let i = 0; i < 20_000; i += 1) seen.add(pooledRandomBytes(16).toString('hex'));
    expect(seen.size).toBe(20_000);
    // Every byte value turns up (320 000 bytes: each value ~1250 times).
    const counts = new Array<number>(256).fill(0);
    for (let i = 0; i < 1000; i += 1) for (const byte of pooledRandomBytes(320)) counts[byte] += 1;
    expect(Math.min(...counts)).toBeGreaterThan(0);
  });
});
