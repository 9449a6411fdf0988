import net from 'node:net';
import path from 'node:path';
import { projectRoot } from '../../src/app/project-paths';
import { startEboxSimulator, type EboxSimulator } from '../../src/ebox-simulator';
import { storedState } from '../support/data-dir-state';
import { expectFault } from '../support/fault-assertions';
import { startTestService, type TestService } from '../support/service-fixture';
import type { HttpResult } from '../support/soap-client';
import {
  partsOf,
  samplePdf,
  sendDocumentEnvelope,
  type SendDocumentSpec,
  type TestRecipient,
} from '../support/v1-requests';

/*
 * CheckEboxStatus at send time, over real HTTP against the running service and a real e-Box simulator
 * (the embedded default, or one started apart and named by RM_EBOX_URL). The simulator's profile
 * exceptions are those of fixtures/ebox-profiles.json.
 */

const NORMAL_CITIZEN = '85073003328';
const CITIZEN_WITHOUT_EBOX = '85010100115';
const CITIZEN_NOT_ACTIVATED = '85010100214';
const CITIZEN_PREFERS_PAPER = '85010100313';
const NORMAL_ENTERPRISE = '0200000538';
const ENTERPRISE_WITHOUT_EBOX = '0200000142';
const ENTERPRISE_NOT_ACTIVATED = '0200000241';
const ENTERPRISE_PREFERS_PAPER = '0200000340';

const NOT_ACTIVATED = {
  code: 'EBOX_B01',
  kind: 'BusinessError',
  message: 'The recipient has no activated e-Box',
} as const;
const NOT_PREFERRED = {
  code: 'EBOX_B02',
  kind: 'BusinessError',
  message: "The e-Box is not the recipient's preferred channel",
} as const;

let tokenCounter = 0;

function spec(recipient: TestRecipient, checkEboxStatus?: string): SendDocumentSpec {
  const token = `EBOX-${++tokenCounter}`;
  return {
    token,
    recipient,
    document: { content: samplePdf(token), contentId: 'document@test' },
    annexes: [{ content: Buffer.from(`annex of ${token}`), contentId: 'annex-1@test', mime: 'text/plain' }],
    checkEboxStatus,
  };
}

const citizen = (inss: string): TestRecipient => ({ kind: 'citizen', inss });
const enterprise = (cbe: string): TestRecipient => ({ kind: 'enterprise', cbe });

async function send(rm: TestService, request: SendDocumentSpec): Promise<HttpResult> {
  return rm.postSwa(rm.sign(sendDocumentEnvelope(request)), partsOf(request));
}

function expectAccepted(result: HttpResult): void {
  if (result.status !== 200) throw new Error(`send refused: ${result.body.toString().slice(0, 800)}`);
}

/** Sends a request that must be refused, and checks that nothing was staged or stored. */
async function expectRefusedStoringNothing(
  rm: TestService,
  request: SendDocumentSpec,
  expected: Parameters<typeof expectFault>[1],
): Promise<void> {
  const before = await storedState(rm);
  expectFault(await send(rm, request), expected);
  const after = await storedState(rm);
  expect(after.contents).toEqual(before.contents);
  expect(after.staging).toEqual([]);
  expect(after.items).toBe(before.items);
}

/** The cases every e-Box (embedded or external) must decide the same way. */
function describeChecks(start: () => Promise<TestService>, stop: () => Promise<void>): void {
  let rm: TestService;

  beforeAll(async () => {
    rm = await start();
  });
  afterAll(async () => {
    await rm?.close();
    await stop();
  });

  it('accepts a citizen with an activated e-Box under the default check (ACTIVATED)', async () => {
    expectAccepted(await send(rm, spec(citizen(NORMAL_CITIZEN))));
  });

  it('accepts PREFERRED for a citizen whose e-Box is the preferred channel', async () => {
    expectAccepted(await send(rm, spec(citizen(NORMAL_CITIZEN), 'PREFERRED')));
  });

  it('refuses ACTIVATED for a citizen without an e-Box (EBOX_B01) and stores nothing', async () => {
    await expectRefusedStoringNothing(rm, spec(citizen(CITIZEN_WITHOUT_EBOX), 'ACTIVATED'), NOT_ACTIVATED);
  });

  it('refuses the default check for a citizen whose e-Box is not activated (EBOX_B01)', async () => {
    await expectRefusedStoringNothing(rm, spec(citizen(CITIZEN_NOT_ACTIVATED)), NOT_ACTIVATED);
  });

  it('refuses PREFERRED for a citizen whose e-Box is not activated with EBOX_B01, not EBOX_B02', async () => {
    await expectRefusedStoringNothing(rm, spec(citizen(CITIZEN_NOT_ACTIVATED), 'PREFERRED'), NOT_ACTIVATED);
  });

  it('refuses PREFERRED for a citizen who prefers paper (EBOX_B02), and accepts ACTIVATED', async () => {
    await expectRefusedStoringNothing(rm, spec(citizen(CITIZEN_PREFERS_PAPER), 'PREFERRED'), NOT_PREFERRED);
    expectAccepted(await send(rm, spec(citizen(CITIZEN_PREFERS_PAPER), 'ACTIVATED')));
  });

  it('accepts BYPASS for a citizen without an e-Box', async () => {
    expectAccepted(await send(rm, spec(citizen(CITIZEN_WITHOUT_EBOX), 'BYPASS')));
  });

  it('decides enterprises the same way', async () => {
    expectAccepted(await send(rm, spec(enterprise(NORMAL_ENTERPRISE), 'PREFERRED')));
    // The 9-digit form of a CBE is looked up in its 10-digit form.
    expectAccepted(await send(rm, spec(enterprise(NORMAL_ENTERPRISE.slice(1)))));
    await expectRefusedStoringNothing(rm, spec(enterprise(ENTERPRISE_WITHOUT_EBOX)), NOT_ACTIVATED);
    await expectRefusedStoringNothing(rm, spec(enterprise(ENTERPRISE_NOT_ACTIVATED)), NOT_ACTIVATED);
    await expectRefusedStoringNothing(
      rm,
      spec(enterprise(ENTERPRISE_PREFERS_PAPER), 'PREFERRED'),
      NOT_PREFERRED,
    );
    expectAccepted(await send(rm, spec(enterprise(ENTERPRISE_PREFERS_PAPER))));
    expectAccepted(await send(rm, spec(enterprise(ENTERPRISE_WITHOUT_EBOX), 'BYPASS')));
  });
}

describe('CheckEboxStatus against the embedded e-Box simulator (RM_EBOX_URL unset)', () => {
  describeChecks(
    async () => {
      const rm = await startTestService();
      expect(rm.service.eboxSimulator).toBeDefined();
      return rm;
    },
    async () => undefined,
  );
});

describe('CheckEboxStatus against a separately started simulator (RM_EBOX_URL)', () => {
  let simulator: EboxSimulator | undefined;
  describeChecks(
    async () => {
      simulator = await startEboxSimulator({
        profilesFile: path.join(projectRoot(), 'fixtures', 'ebox-profiles.json'),
      });
      const rm = await startTestService({ RM_EBOX_URL: simulator.url });
      expect(rm.service.eboxSimulator).toBeUndefined();
      return rm;
    },
    async () => simulator?.close(),
  );
});

/** A 127.0.0.1 port that nothing listens on (taken, then released). */
async function closedPort(): Promise<number> {
  const server = net.createServer();
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const { port } = server.address() as net.AddressInfo;
  await new Promise<void>((resolve) => server.close(() => resolve()));
  return port;
}

describe('CheckEboxStatus when the e-Box profile service is unavailable', () => {
  let rm: TestService;

  beforeAll(async () => {
    rm = await startTestService({ RM_EBOX_URL: `http://127.0.0.1:${await closedPort()}` });
  });
  afterAll(async () => {
    await rm?.close();
  });

  it('refuses with SOA-02002 and Retry true, storing nothing', async () => {
    await expectRefusedStoringNothing(rm, spec(citizen(NORMAL_CITIZEN)), {
      code: 'SOA-02002',
      kind: 'SystemError',
      origin: 'Provider',
      message: 'Service temporarily not available. Please try later.',
      retry: 'true',
    });
  });

  it('still accepts BYPASS, which looks nothing up', async () => {
    expectAccepted(await send(rm, spec(citizen(NORMAL_CITIZEN), 'BYPASS')));
  });
});
