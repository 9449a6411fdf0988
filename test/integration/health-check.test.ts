import { readFileSync } from 'node:fs';
import { X509Certificate } from 'node:crypto';
import { DOMParser, type Element } from '@xmldom/xmldom';
import { contractDirectories } from '../../src/app/project-paths';
import { PayloadValidator } from '../../src/contract/xsd-validator';
import { issueSenderCertificate } from '../../src/pki/dev-pki';
import { expectFault } from '../support/fault-assertions';
import { startTestService, type TestSender, type TestService } from '../support/service-fixture';
import type { HttpResult } from '../support/soap-client';
import { healthCheckEnvelope } from '../support/v1-requests';

/*
 * healthCheck over HTTP, signed as every operation of the WSDL's policy: PING, DEFAULT and DEEP answers
 * valid against the monitoring schema, with sanity checks of the database, the blob store and the
 * receipt signing certificate, whose remaining validity drives its level.
 */

const SOAP11 = 'http://schemas.xmlsoap.org/soap/envelope/';
const MON = 'http://services.fgov.be/monitoring/v1';
const HEALTH_CHECK_ACTION = 'http://socialsecurity.be/registeredmail/v1/healthCheck';
const DAY_MS = 86_400_000;

let validator: PayloadValidator;

beforeAll(async () => {
  validator = await PayloadValidator.load(contractDirectories().xsdDir);
});

afterAll(async () => {
  validator.dispose();
});

/** One SanityCheck of a HealthCheckResponse. */
interface SanityCheckView {
  id: string;
  type: string;
  resourceName: string;
  resourceType: string;
  level: string;
  message: string | undefined;
}

/** A HealthCheckResponse as the tests read it. */
interface HealthView {
  level: string;
  environment: string;
  checks: SanityCheckView[];
}

function children(parent: Element, localName: string): Element[] {
  const found: Element[] = [];
  for (let node = parent.firstChild; node; node = node.nextSibling) {
    if (
      node.nodeType === 1 &&
      (node as Element).namespaceURI === MON &&
      (node as Element).localName === localName
    ) {
      found.push(node as Element);
    }
  }
  return found;
}

function child(parent: Element, localName: string): Element {
  const [found] = children(parent, localName);
  if (!found) throw new Error(`no mon:${localName} in mon:${parent.localName}`);
  return found;
}

/** The Body's payload: checked to be a HealthCheckResponse valid against our schemas, then read. */
function readHealthResponse(result: HttpResult): HealthView {
  if (result.status !== 200) throw new Error(`healthCheck failed: ${result.body.toString().slice(0, 800)}`);
  const document = new DOMParser().parseFromString(result.body.toString('utf8'), 'text/xml');
  const body = document.getElementsByTagNameNS(SOAP11, 'Body')[0];
  let payload: Element | undefined;
  for (let node = body?.firstChild; node; node = node.nextSibling)
    if (node.nodeType === 1) payload = node as Element;
  if (!payload) throw new Error('empty Body');
  expect({ namespace: payload.namespaceURI, localName: payload.localName }).toEqual({
    namespace: MON,
    localName: 'HealthCheckResponse',
  });
  validator.validateElement(payload);
  return {
    level: child(child(payload, 'Status'), 'Level').textContent ?? '',
    environment: child(child(payload, 'Location'), 'Environment').textContent ?? '',
    checks: children(payload, 'SanityCheck').map((check) => {
      const status = child(check, 'Status');
      const resource = child(check, 'Resource');
      const [message] = children(status, 'Message');
      return {
        id: check.getAttribute('id') ?? '',
        type: check.getAttribute('type') ?? '',
        resourceName: resource.getAttribute('name') ?? '',
        resourceType: resource.getAttribute('type') ?? '',
        level: child(status, 'Level').textContent ?? '',
        message: message?.textContent ?? undefined,
      };
    }),
  };
}

function checkOf(view: HealthView, resourceType: string): SanityCheckView {
  const found = view.checks.find((check) => check.resourceType === resourceType);
  if (!found) throw new Error(`no ${resourceType} sanity check in ${JSON.stringify(view.checks)}`);
  return found;
}

/** The signing certificate's notAfter. */
function signerNotAfter(rm: TestService): number {
  const signer = rm.service.pki?.signer;
  if (!signer) throw new Error('the test service runs without a dev PKI');
  return new Date(new X509Certificate(signer.certificateDer).validTo).getTime();
}

function healthCheck(rm: TestService, type: string | undefined, sender?: TestSender): Promise<HttpResult> {
  return rm.postXml(rm.sign(healthCheckEnvelope(type), { sender }), {
    SOAPAction: `"${HEALTH_CHECK_ACTION}"`,
  });
}

describe('healthCheck', () => {
  let rm: TestService;

  beforeAll(async () => {
    rm = await startTestService();
  });
  afterAll(async () => {
    await rm.close();
  });

  it('PING answers OK without sanity checks', async () => {
    const view = readHealthResponse(await healthCheck(rm, 'PING'));
    expect(view.level).toBe('OK');
    expect(view.checks).toEqual([]);
    expect(view.environment).toBe('LOCAL');
  });

  it.each([
    ['DEFAULT (no type attribute)', undefined],
    ['DEFAULT', 'DEFAULT'],
    ['DEEP', 'DEEP'],
  ])('%s checks the database, the blob store and the signing certificate', async (_label, type) => {
    const view = readHealthResponse(await healthCheck(rm, type));
    expect(view.level).toBe('OK');
    expect(view.checks.map((check) => check.resourceType).sort()).toEqual(
      expect.arrayContaining(['CERTIFICATE', 'DB', 'FILESYSTEM']),
    );
    for (const check of view.checks) {
      expect(check.level).toBe('OK');
      expect(check.type).toBe(type ?? 'DEFAULT');
    }
    const expectedDays = Math.floor((signerNotAfter(rm) - rm.clock.now().getTime()) / DAY_MS);
    expect(checkOf(view, 'CERTIFICATE').message).toBe(
      `the signing certificate expires in ${expectedDays} days`,
    );
  });

  it('is refused unsigned (SOA-01001): the policy applies to every operation', async () => {
    const result = await rm.postXml(healthCheckEnvelope('PING'), { SOAPAction: `"${HEALTH_CHECK_ACTION}"` });
    expectFault(result, {
      code: 'SOA-01001',
      kind: 'SystemError',
      message: 'Service call not authenticated.',
    });
  });
});

describe('healthCheck near the end of the signing certificate', () => {
  let rm: TestService;
  let longLivedSender: TestSender;

  beforeAll(async () => {
    rm = await startTestService();
    // The dev senders expire before the signer: sign with one issued (by the same dev CA) to outlive it.
    const pki = rm.service.pki;
    if (!pki) throw new Error('the test service runs without a dev PKI');
    const issued = await issueSenderCertificate(
      pki.dir,
      {
        name: 'long-lived-sender',
        cbe: '0406798006',
        applicationId: 'long-lived-sender',
        validityDays: Math.ceil((signerNotAfter(rm) - rm.clock.now().getTime()) / DAY_MS) + 60,
      },
      rm.clock,
    );
    longLivedSender = {
      name: issued.name,
      cbe: issued.cbe,
      applicationId: issued.applicationId,
      keyPem: readFileSync(issued.keyPemPath, 'utf8'),
      certPem: readFileSync(issued.certPemPath, 'utf8'),
    };
  });
  afterAll(async () => {
    await rm.close();
  });

  it('says WARNING when the signing certificate has less than 30 days left', async () => {
    rm.clock.set(signerNotAfter(rm) - 10 * DAY_MS);
    const view = readHealthResponse(await healthCheck(rm, 'DEFAULT', longLivedSender));
    const certificate = checkOf(view, 'CERTIFICATE');
    expect(certificate.level).toBe('WARNING');
    expect(certificate.message).toBe('the signing certificate expires in 10 days');
    expect(view.level).toBe('WARNING');
    expect(checkOf(view, 'DB').level).toBe('OK');
  });

  it('says CRITICAL once the signing certificate has expired', async () => {
    rm.clock.set(signerNotAfter(rm) + DAY_MS);
    const view = readHealthResponse(await healthCheck(rm, 'DEFAULT', longLivedSender));
    expect(checkOf(view, 'CERTIFICATE').level).toBe('CRITICAL');
    expect(view.level).toBe('CRITICAL');
  });
});
