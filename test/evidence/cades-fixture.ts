import { mkdtempSync, rmSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { ManualClock } from '../../src/clock/clock';
import { PemFileSigner } from '../../src/evidence/document-signer';
import { ensureDevPki, type DevPki } from '../../src/pki/dev-pki';
import { OpensslTimeStampAuthority } from '../support/openssl-tsa';

/** A dev PKI, its receipt signer and an openssl TSA with its TSA key, for the CAdES tests. */
export interface CadesFixture {
  dir: string;
  pki: DevPki;
  /** The dev signer with its chain (the dev CA). */
  signer: PemFileSigner;
  tsa: OpensslTimeStampAuthority;
  /** openssl and Bouncy Castle check certificates against the real time: the clock starts there. */
  clock: ManualClock;
  dispose(): void;
}

/** Generates a dev PKI in a temporary directory (a few seconds: once per test file). */
export async function createCadesFixture(): Promise<CadesFixture> {
  const dir = mkdtempSync(path.join(os.tmpdir(), 'rm-cades-'));
  const clock = new ManualClock(Date.now());
  const pki = await ensureDevPki(dir, clock);
  const tsa = new OpensslTimeStampAuthority(pki.tsa);
  return {
    dir,
    pki,
    signer: new PemFileSigner(pki.signer.privateKey, pki.signer.certificateDer, [pki.ca.certificateDer]),
    tsa,
    clock,
    dispose() {
      tsa.dispose();
      rmSync(dir, { recursive: true, force: true });
    },
  };
}
