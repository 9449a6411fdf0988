import { performance } from 'node:perf_hooks';
import { averageCryptoFloors, interleavedMediansMs, type CryptoFloor } from '../../bench/lib/crypto-floor';

function floor(verify: number, sign: number): CryptoFloor {
  const primitivesMs = {
    verify,
    signerSign: sign,
    tsaSign: sign,
    sha256Document: 0.01,
    sha256Receipt: 0.02,
    sha256Evidence: 0.03,
  };
  const sendDocument = verify + 3 * sign + 0.03;
  return {
    repetitions: 200,
    measures: 1,
    primitivesMs,
    sizes: { documentBytes: 1024, receiptBytes: 4000, evidenceBytes: 5000 },
    floorMs: { sendDocument, getStatus: verify + sign, endToEnd: sendDocument + 2 * sign + 0.03 },
  };
}

describe('averageCryptoFloors', () => {
  it('averages each primitive and sums the floors again from the averages', () => {
    const average = averageCryptoFloors([floor(0.02, 0.2), floor(0.04, 0.3)]);
    expect(average.measures).toBe(2);
    expect(average.repetitions).toBe(200);
    expect(average.primitivesMs.verify).toBeCloseTo(0.03, 10);
    expect(average.primitivesMs.signerSign).toBeCloseTo(0.25, 10);
    expect(average.floorMs.sendDocument).toBeCloseTo(0.03 + 3 * 0.25 + 0.03, 10);
    expect(average.floorMs.getStatus).toBeCloseTo(0.28, 10);
    expect(average.floorMs.endToEnd).toBeCloseTo(0.81 + 0.5 + 0.03, 10);
  });

  it('returns a single measure as it is, and refuses none', () => {
    const single = averageCryptoFloors([floor(0.02, 0.2)]);
    expect(single.primitivesMs).toEqual(floor(0.02, 0.2).primitivesMs);
    expect(single.measures).toBe(1);
    expect(single.floorMs.sendDocument).toBeCloseTo(floor(0.02, 0.2).floorMs.sendDocument, 10);
    expect(() => averageCryptoFloors([])).toThrow('no floor');
  });
});

describe('interleavedMediansMs', () => {
  it("counts the CPU an operation uses, not the time it waits (as the service's figure counts)", () => {
    const waitWithoutCpu = () => Atomics.wait(new Int32Array(new SharedArrayBuffer(4)), 0, 0, 4);
    const spin = () => {
      const until = performance.now() + 4;
      while (performance.now() < until);
    };
    // The process's CPU time counts every thread: a burst of the runtime's own background work (a
    // concurrent GC or compiler thread, left over from the files this Jest worker ran before) can land in
    // the wait's samples. It only ever adds, so a few attempts settle it; counting wall time instead would
    // fail every one (both take about 4 ms of wall time; only the spin is on the CPU).
    let medians = interleavedMediansMs(7, { waitWithoutCpu, spin });
    for (let attempt = 1; attempt < 5 && medians.waitWithoutCpu >= 0.3 * medians.spin; attempt += 1) {
      medians = interleavedMediansMs(7, { waitWithoutCpu, spin });
    }
    expect(medians.waitWithoutCpu).toBeLessThan(0.3 * medians.spin);
    expect(medians.spin).toBeGreaterThan(0.5);
  });
});
