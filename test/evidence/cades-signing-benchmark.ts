import { createHash, randomBytes } from 'node:crypto';
import { mkdtempSync, rmSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { ManualClock } from '../../src/clock/clock';
import { createDetachedCmsSignature } from '../../src/evidence/cms-detached-signature';
import { PemFileSigner, type DocumentSigner } from '../../src/evidence/document-signer';
import { signatureTimeStampImprint } from '../../src/evidence/signature-time-stamp';
import { ensureDevPki } from '../../src/pki/dev-pki';
import { signTimeStampToken } from '../../src/timestamping/sign-time-stamp-token';
import { encodeMessageImprint, encodeTstInfo } from '../../src/timestamping/time-stamp-codec';
import { legacyCreateDetachedCmsSignature, legacySignTimeStampToken } from './legacy-cms-encoder';

/*
 * A micro-benchmark, not a test: how many CAdES-T signatures (createDetachedCmsSignature whose unsigned
 * signature-time-stamp comes from signTimeStampToken) one process makes per second, one after the other,
 * and the CPU each costs (process.cpuUsage: the event loop and the libuv threads that run the RSA
 * signatures), next to the floor of the same two RSA signatures alone. It runs the current encoders and
 * the pkijs/asn1js ones they replaced (legacy-cms-encoder.ts) on the same dev PKI.
 *
 *   TS_NODE_TRANSPILE_ONLY=1 node -r ts-node/register test/evidence/cades-signing-benchmark.ts [calls]
 */

type Sign = (content: Buffer) => Promise<Buffer>;

interface Encoders {
  detached: typeof createDetachedCmsSignature;
  timeStampToken: typeof signTimeStampToken;
}

function cadesT(encoders: Encoders, signer: DocumentSigner, tsaSigner: DocumentSigner): Sign {
  return (content) =>
    encoders.detached(content, signer, new Date(), {
      unsignedAttributes: async (signatureValue) => {
        const tstInfo = encodeTstInfo({
          policy: '1.3.6.1.4.1.32473.3161.1',
          imprintDer: encodeMessageImprint(signatureTimeStampImprint(signatureValue)),
          serialNumber: randomBytes(16),
          genTime: new Date(),
          accuracyMs: 1000,
          nonceDer: undefined,
          tsaName: undefined,
        });
        return [
          {
            type: '1.2.840.113549.1.9.16.2.14',
            values: [await encoders.timeStampToken(tstInfo, tsaSigner, true)],
          },
        ];
      },
    });
}

async function measure(name: string, calls: number, operation: Sign): Promise<void> {
  const content = Buffer.alloc(1024, 0x41);
  for (let i = 0; i < Math.min(200, calls); i += 1) await operation(content); // JIT and caches
  const cpuBefore = process.cpuUsage();
  const start = process.hrtime.bigint();
  for (let i = 0; i < calls; i += 1) await operation(content);
  const elapsedMs = Number(process.hrtime.bigint() - start) / 1e6;
  const cpu = process.cpuUsage(cpuBefore);
  const cpuMsPerCall = (cpu.user + cpu.system) / 1000 / calls;
  console.log(
    `${name.padEnd(44)} ${((calls * 1000) / elapsedMs).toFixed(0).padStart(6)} calls/s` +
      `   ${cpuMsPerCall.toFixed(3)} ms CPU/call`,
  );
}

async function main(): Promise<void> {
  const calls = Number(process.argv[2] ?? 2000);
  const dir = mkdtempSync(path.join(os.tmpdir(), 'rm-cades-bench-'));
  try {
    const pki = await ensureDevPki(dir, new ManualClock(Date.now()));
    const signer = new PemFileSigner(pki.signer.privateKey, pki.signer.certificateDer, [
      pki.ca.certificateDer,
    ]);
    const tsaSigner = new PemFileSigner(pki.tsa.privateKey, pki.tsa.certificateDer, [pki.ca.certificateDer]);
    const digest = (data: Buffer) => createHash('sha256').update(data).digest();

    await measure('floor: two RSA-2048 signatures', calls, async (content) => {
      const first = await signer.sign(content);
      return tsaSigner.sign(digest(first));
    });
    await measure(
      'CAdES-T, current encoders',
      calls,
      cadesT({ detached: createDetachedCmsSignature, timeStampToken: signTimeStampToken }, signer, tsaSigner),
    );
    await measure(
      'CAdES-T, legacy pkijs/asn1js encoders',
      calls,
      cadesT(
        { detached: legacyCreateDetachedCmsSignature, timeStampToken: legacySignTimeStampToken },
        signer,
        tsaSigner,
      ),
    );
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
}

main().catch((error: unknown) => {
  console.error(error);
  process.exitCode = 1;
});
