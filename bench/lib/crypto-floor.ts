import { createHash, createPrivateKey, sign, verify, X509Certificate } from 'node:crypto';
import { median } from './medians';

/*
 * The crypto floor: what Node's crypto alone takes for the verifications, signatures and digests one
 * operation cannot do without, measured in this process with the service's own keys. CPU per request
 * divided by the floor says how much the rest (XML, HTTP, MIME, database, files) costs on top.
 *
 * Per operation (RSA-2048, SHA-256, as the dev PKI and the v1 policy make them):
 * - sendDocument: 1 verify (the request's signature), 3 signs (the receipt's CMS, its RFC 3161
 *   time-stamp token, the response's signature), SHA-256 of the document and of the receipt;
 * - getStatus: 1 verify, 1 sign (the response);
 * - end to end, per item: sendDocument's floor plus the ProofOfDispatch (2 signs: CMS and time-stamp
 *   token; SHA-256 of the evidence).
 * Each primitive's CPU time is the median of many repetitions (the RSA primitives timed in turn within
 * each repetition); the floors are sums of medians. A measured phase gets the average of a measure just before
 * and one just after it ({@link averageCryptoFloors}).
 */

/** Medians in milliseconds of the primitives, and the floors built from them. */
export interface CryptoFloor {
  /** Repetitions of each primitive in one measure. */
  repetitions: number;
  /** How many measures were averaged (before and after a phase: 2). */
  measures: number;
  primitivesMs: {
    /** RSA-SHA256 verification with a sender's public key (over a SignedInfo-sized input). */
    verify: number;
    /** RSA-SHA256 signature with the service's signer key. */
    signerSign: number;
    /** RSA-SHA256 signature with the embedded TSA's key. */
    tsaSign: number;
    /** SHA-256 of one document. */
    sha256Document: number;
    /** SHA-256 of one receipt. */
    sha256Receipt: number;
    /** SHA-256 of one ProofOfDispatch evidence. */
    sha256Evidence: number;
  };
  /** Bytes hashed for each digest. */
  sizes: { documentBytes: number; receiptBytes: number; evidenceBytes: number };
  /** The floors per operation, milliseconds. */
  floorMs: { sendDocument: number; getStatus: number; endToEnd: number };
}

export interface CryptoFloorInput {
  senderCertPem: string;
  senderKeyPem: string;
  signerKeyPem: string;
  tsaKeyPem: string;
  documentBytes: number;
  receiptBytes: number;
  evidenceBytes: number;
  /** Repetitions per primitive (default 200). */
  repetitions?: number;
}

/** The largest buffer hashed at once; bigger documents are timed on it and scaled (hashing is linear). */
const HASH_SAMPLE_MAX = 16 * 1024 * 1024;

/** CPU time of this process (every thread, user and system) in ms: what the service's figure counts too. */
function cpuNowMs(): number {
  const { user, system } = process.cpuUsage();
  return (user + system) / 1000;
}

/**
 * The median CPU time of each operation over `repetitions` runs, the operations timed in turn within
 * each run: the machine's speed drifts within a second (other tenants), so timing one operation's runs
 * after another's would let the drift pass for a difference between them. CPU time, not wall time, as
 * the service's figure is CPU time (its processes' own accounting): a primitive's time then excludes any
 * moment the harness waited for a CPU. The two clock readings' own cost, the median of an empty measure,
 * is taken off.
 */
export function interleavedMediansMs<Name extends string>(
  repetitions: number,
  operations: Record<Name, () => void>,
): Record<Name, number> {
  const entries = Object.entries(operations) as Array<[Name, () => void]>;
  for (let i = 0; i < Math.min(10, repetitions); i += 1) for (const [, operation] of entries) operation();
  const samples = entries.map((): number[] => []);
  const emptySamples: number[] = [];
  for (let i = 0; i < repetitions; i += 1) {
    const emptyStarted = cpuNowMs();
    emptySamples.push(cpuNowMs() - emptyStarted);
    entries.forEach(([, operation], index) => {
      const started = cpuNowMs();
      operation();
      samples[index].push(cpuNowMs() - started);
    });
  }
  const clockCost = median(emptySamples);
  return Object.fromEntries(
    entries.map(([name], index) => [name, Math.max(0, median(samples[index]) - clockCost)]),
  ) as Record<Name, number>;
}

/** SHA-256 of `size` bytes: timed directly up to {@link HASH_SAMPLE_MAX}, scaled beyond. */
function sha256Ms(size: number, repetitions: number): number {
  if (size <= 0) return 0;
  const sampleSize = Math.min(size, HASH_SAMPLE_MAX);
  const sample = Buffer.alloc(sampleSize, 0x5a);
  // Large buffers take long enough per hash for fewer repetitions to give a stable median.
  const count = sampleSize > 1024 * 1024 ? Math.max(5, Math.min(repetitions, 20)) : repetitions;
  const measured = interleavedMediansMs(count, {
    sha256: () => createHash('sha256').update(sample).digest(),
  }).sha256;
  return (measured * size) / sampleSize;
}

/** The floors of each operation, summed from the primitives. */
function floorsOf(p: CryptoFloor['primitivesMs']): CryptoFloor['floorMs'] {
  const sendDocument = p.verify + 2 * p.signerSign + p.tsaSign + p.sha256Document + p.sha256Receipt;
  return {
    sendDocument,
    getStatus: p.verify + p.signerSign,
    endToEnd: sendDocument + p.signerSign + p.tsaSign + p.sha256Evidence,
  };
}

/** Measures the primitives now, in this process, and sums them into the floors. */
export function measureCryptoFloor(input: CryptoFloorInput): CryptoFloor {
  const repetitions = input.repetitions ?? 200;
  // What is signed is always a digest-bearing structure of a few hundred bytes (SignedInfo, signed
  // attributes, TSTInfo): its size barely matters next to the RSA operation.
  const toBeSigned = Buffer.alloc(400, 0x41);
  const senderKey = createPrivateKey(input.senderKeyPem);
  const senderPublicKey = new X509Certificate(input.senderCertPem).publicKey;
  const signature = sign('sha256', toBeSigned, senderKey);
  const signerKey = createPrivateKey(input.signerKeyPem);
  const tsaKey = createPrivateKey(input.tsaKeyPem);

  const primitivesMs = {
    ...interleavedMediansMs(repetitions, {
      verify: () => {
        if (!verify('sha256', toBeSigned, senderPublicKey, signature)) throw new Error('verify failed');
      },
      signerSign: () => sign('sha256', toBeSigned, signerKey),
      tsaSign: () => sign('sha256', toBeSigned, tsaKey),
    }),
    sha256Document: sha256Ms(input.documentBytes, repetitions),
    sha256Receipt: sha256Ms(input.receiptBytes, repetitions),
    sha256Evidence: sha256Ms(input.evidenceBytes, repetitions),
  };
  return {
    repetitions,
    measures: 1,
    primitivesMs,
    sizes: {
      documentBytes: input.documentBytes,
      receiptBytes: input.receiptBytes,
      evidenceBytes: input.evidenceBytes,
    },
    floorMs: floorsOf(primitivesMs),
  };
}

/**
 * One floor from several measures of the same inputs (before and after a measured phase): each
 * primitive's mean, so that the floor stands for the machine's speed over the whole phase.
 */
export function averageCryptoFloors(measures: readonly CryptoFloor[]): CryptoFloor {
  if (measures.length === 0) throw new Error('no floor to average');
  const names = Object.keys(measures[0].primitivesMs) as Array<keyof CryptoFloor['primitivesMs']>;
  const primitivesMs = { ...measures[0].primitivesMs };
  for (const name of names) {
    primitivesMs[name] = measures.reduce((sum, floor) => sum + floor.primitivesMs[name], 0) / measures.length;
  }
  return {
    repetitions: measures[0].repetitions,
    measures: measures.reduce((sum, floor) => sum + floor.measures, 0),
    primitivesMs,
    sizes: measures[0].sizes,
    floorMs: floorsOf(primitivesMs),
  };
}
