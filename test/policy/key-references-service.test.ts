import fs from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { systemClock } from '../../src/clock/clock';
import { ensureDevPki } from '../../src/pki/dev-pki';
import { expectFault } from '../support/fault-assertions';
import { startTestService, type TestService } from '../support/service-fixture';
import { healthCheckEnvelope } from '../support/v1-requests';
import type { KeyReferenceOption } from '../support/wss-signer';

/*
 * The key references through the running service: RM_SENDER_CERTS_DIR is loaded once at start-up into
 * the index that issuer-serial, subject key identifier and thumbprint references resolve against.
 */

const HEALTH_CHECK_ACTION = '"http://socialsecurity.be/registeredmail/v1/healthCheck"';
const KINDS: KeyReferenceOption[] = ['bst', 'issuer-serial', 'ski', 'thumbprint'];

let rm: TestService;
let dataDir: string;

beforeAll(async () => {
  // The dev PKI exists before the service starts, so that a sender certificate can be made known.
  dataDir = await fs.mkdtemp(path.join(os.tmpdir(), 'rm-key-references-'));
  const pki = await ensureDevPki(path.join(dataDir, 'dev-pki'), systemClock);
  const sendersDir = path.join(dataDir, 'known-senders');
  await fs.mkdir(sendersDir);
  await fs.copyFile(pki.senders[0].certPemPath, path.join(sendersDir, 'dev-sender-1.pem'));
  rm = await startTestService({ RM_SENDER_CERTS_DIR: sendersDir }, { dataDir });
});

afterAll(async () => {
  await rm?.close();
  await fs.rm(dataDir, { recursive: true, force: true });
});

test.each(KINDS)(
  'a healthCheck signed by the known sender with key reference %s is answered',
  async (keyReference) => {
    // Without the token among the signed parts, the kinds sign the very same SignedInfo: a fresh
    // Timestamp keeps the replay cache out of this test.
    rm.clock.advance(1000);
    const result = await rm.postXml(rm.sign(healthCheckEnvelope('PING'), { keyReference }), {
      SOAPAction: HEALTH_CHECK_ACTION,
    });
    expect(result.status).toBe(200);
    expect(result.body.toString('utf8')).toContain('HealthCheckResponse');
  },
);

test.each(KINDS.filter((kind) => kind !== 'bst'))(
  'a sender outside RM_SENDER_CERTS_DIR with key reference %s is refused: SOA-01001',
  async (keyReference) => {
    const signed = rm.sign(healthCheckEnvelope('PING'), { keyReference, sender: rm.senders[1] });
    const logged = rm.logs.length;
    expectFault(await rm.postXml(signed, { SOAPAction: HEALTH_CHECK_ACTION }), {
      code: 'SOA-01001',
      kind: 'SystemError',
      message: 'Service call not authenticated.',
    });
    expect(rm.logs.slice(logged).some((line) => line.includes('no known certificate has this'))).toBe(true);
  },
);
