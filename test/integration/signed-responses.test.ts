import { X509Certificate } from 'node:crypto';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import type { Element } from '@xmldom/xmldom';
import winston from 'winston';
import { signedFaultBody } from '../../src/app/soap-endpoint';
import { TicketNotFoundError } from '../../src/errors/faults';
import { buildFaultDocument } from '../../src/soap/fault-envelope';
import { parseEnvelope, type ParsedEnvelope } from '../../src/soap/parse-envelope';
import { childElements, isElementNamed } from '../../src/wssecurity/dom';
import { DS_NS, SOAP11_NS, WSSE_NS, WSU_NS } from '../../src/wssecurity/namespaces';
import { processSecurityHeader } from '../../src/wssecurity/process-security-header';
import { run, runStatus, testWithTool } from '../support/external-tools';
import { expectFault } from '../support/fault-assertions';
import { parseResponse, type HttpResult } from '../support/soap-client';
import { startTestService, type TestService } from '../support/service-fixture';
import {
  getStatusEnvelope,
  healthCheckEnvelope,
  partsOf,
  samplePdf,
  sendDocumentEnvelope,
  type SendDocumentSpec,
} from '../support/v1-requests';

/*
 * Every answer of the SOAP endpoint, success or fault, carries the service's WS-Security header: a
 * Timestamp, the signing certificate as a BinarySecurityToken and a signature over the Body and the
 * Timestamp. Checked on the bytes received, by xmlsec1 and by the service's own processing.
 */

const T = 'http://socialsecurity.be/registeredmail/types/v1';

let service: TestService;
let dir: string;
let caPem: string;
let signerCertificate: Buffer;

beforeAll(async () => {
  service = await startTestService();
  dir = mkdtempSync(path.join(os.tmpdir(), 'rm-signed-responses-'));
  const pki = service.service.pki;
  if (!pki) throw new Error('the test service runs without a dev PKI');
  caPem = pki.ca.certPemPath;
  signerCertificate = pki.signer.certificateDer;
});

afterAll(async () => {
  await service?.close();
  if (dir) rmSync(dir, { recursive: true, force: true });
});

function citizenSpec(token: string): SendDocumentSpec {
  return {
    token,
    recipient: { kind: 'citizen', inss: '85073003328' },
    document: { content: samplePdf(token), contentId: 'document@test' },
  };
}

/** The answers the tests check, fetched once. */
type AnswerName = 'sendDocument' | 'getStatus' | 'healthCheck' | 'unsignedFault' | 'businessFault';
const answers = {} as Record<AnswerName, HttpResult>;

beforeAll(async () => {
  const spec = citizenSpec('T-signed-response');
  answers.sendDocument = await service.postSwa(service.sign(sendDocumentEnvelope(spec)), partsOf(spec));
  const receipt = await rootEnvelope(answers.sendDocument);
  const ticket = receipt.body.getElementsByTagNameNS(T, 'Ticket').item(0)?.textContent ?? '';
  answers.getStatus = await service.postXml(service.sign(getStatusEnvelope(ticket)));
  answers.healthCheck = await service.postXml(service.sign(healthCheckEnvelope('PING')), {
    SOAPAction: '"http://socialsecurity.be/registeredmail/v1/healthCheck"',
  });
  answers.unsignedFault = await service.postXml(getStatusEnvelope('0123456789ABC'));
  answers.businessFault = await service.postXml(service.sign(getStatusEnvelope('ZZZZZZZZZZZZZ')));
});

/** The envelope of a response (the root part of a multipart one), parsed as the service parses. */
async function rootEnvelope(result: HttpResult): Promise<ParsedEnvelope> {
  const { envelope } = await parseResponse(result);
  return parseEnvelope(Buffer.from(envelope, 'utf8'), { maxDepth: 64, maxElements: 20_000 });
}

function securityHeader(envelope: ParsedEnvelope): Element {
  const found = childElements(envelope.header as Element).filter((element) =>
    isElementNamed(element, WSSE_NS, 'Security'),
  );
  expect(found).toHaveLength(1);
  return found[0];
}

const CASES: Array<[string, AnswerName]> = [
  ['a sendDocument response (the multipart root part)', 'sendDocument'],
  ['a getStatus response', 'getStatus'],
  ['a healthCheck response', 'healthCheck'],
  ['the SOA-01001 fault answering an unsigned request', 'unsignedFault'],
  ['a business fault (REPO_B01)', 'businessFault'],
];

test('the answers are what they should be', async () => {
  expect(answers.sendDocument.status).toBe(200);
  expect(answers.sendDocument.headers['content-type']).toMatch(/^multipart\/related/);
  expect(answers.getStatus.status).toBe(200);
  expect(answers.healthCheck.status).toBe(200);
  expectFault(answers.unsignedFault, { code: 'SOA-01001', kind: 'SystemError' });
  expectFault(answers.businessFault, { code: 'REPO_B01', kind: 'BusinessError' });
});

describe.each(CASES)('%s', (_name, key) => {
  test('has a Security header without mustUnderstand: Timestamp (clock time, +300 s), token, Signature', async () => {
    const envelope = await rootEnvelope(answers[key]);
    const security = securityHeader(envelope);
    expect(security.hasAttributeNS(SOAP11_NS, 'mustUnderstand')).toBe(false);
    expect(childElements(security).map((element) => element.localName)).toEqual([
      'Timestamp',
      'BinarySecurityToken',
      'Signature',
    ]);
    const [created, expires] = childElements(childElements(security)[0]).map(
      (element) => element.textContent,
    );
    expect(created).toBe(service.clock.now().toISOString());
    expect(Date.parse(expires ?? '') - Date.parse(created ?? '')).toBe(300_000);
    const token = Buffer.from(childElements(security)[1].textContent ?? '', 'base64');
    expect(token.equals(signerCertificate)).toBe(true);
  });

  test("verifies with the service's own processing: Body and Timestamp signed, by node identity", async () => {
    const envelope = await rootEnvelope(answers[key]);
    const facts = await processSecurityHeader(envelope);
    const [header] = facts.securityHeaders;
    const [signature] = header.signatures;
    expect(signature.signatureValue).toEqual({ outcome: 'valid' });
    expect(signature.references.map((reference) => [reference.element, reference.digest])).toEqual([
      [envelope.body, { outcome: 'valid' }],
      [header.timestamps[0].element, { outcome: 'valid' }],
    ]);
  });

  testWithTool('xmlsec1', ['--version'])(
    'verifies with xmlsec1, and not once a Body byte changes',
    async () => {
      const { envelope } = await parseResponse(answers[key]);
      const certificate = path.join(dir, 'service.cert.pem');
      writeFileSync(certificate, new X509Certificate(signerCertificate).toString());
      const verify = (xml: string) => {
        const input = path.join(dir, `${key}.xml`);
        writeFileSync(input, xml);
        return runStatus('xmlsec1', [
          '--verify',
          '--pubkey-cert-pem',
          certificate,
          '--id-attr:Id',
          'Body',
          '--id-attr:Id',
          'Timestamp',
          input,
        ]);
      };
      const result = verify(envelope);
      expect(result.output).toContain('SignedInfo References (ok/all): 2/2');
      expect(result.status).toBe(0);

      const bodyText = /(:Body [^>]*>(?:<[^>]*>)*)([^<\s])/.exec(envelope);
      if (!bodyText) throw new Error('no text in the Body');
      const at = (bodyText.index ?? 0) + bodyText[1].length;
      const tampered = `${envelope.slice(0, at)}${envelope[at] === 'X' ? 'Y' : 'X'}${envelope.slice(at + 1)}`;
      expect(verify(tampered).status).not.toBe(0);
    },
  );
});

testWithTool('openssl', ['version'])('the token certificate chains to the service CA', async () => {
  const envelope = await rootEnvelope(answers.getStatus);
  const security = securityHeader(envelope);
  const token = childElements(security).find((element) =>
    isElementNamed(element, WSSE_NS, 'BinarySecurityToken'),
  );
  const certificate = path.join(dir, 'token.cert.pem');
  writeFileSync(certificate, new X509Certificate(Buffer.from(token?.textContent ?? '', 'base64')).toString());
  expect(run('openssl', ['verify', '-CAfile', caPem, certificate])).toContain(': OK');
});

test('the signature names the token by a direct reference and uses only the contract algorithms', async () => {
  const envelope = await rootEnvelope(answers.unsignedFault);
  const security = securityHeader(envelope);
  const token = childElements(security)[1];
  const keyInfo = security.getElementsByTagNameNS(DS_NS, 'KeyInfo').item(0) as Element;
  const reference = keyInfo.getElementsByTagNameNS(WSSE_NS, 'Reference').item(0);
  expect(reference?.getAttribute('URI')).toBe(`#${token.getAttributeNS(WSU_NS, 'Id')}`);
  const algorithms = new Set(
    Array.from(security.getElementsByTagNameNS(DS_NS, '*'))
      .map((element) => element.getAttribute('Algorithm'))
      .filter((algorithm) => algorithm),
  );
  expect([...algorithms].sort()).toEqual([
    'http://www.w3.org/2001/04/xmldsig-more#rsa-sha256',
    'http://www.w3.org/2001/04/xmlenc#sha256',
    'http://www.w3.org/2001/10/xml-exc-c14n#',
  ]);
});

test('when the signer fails, a fault still goes out (unsigned) and the failure is logged', async () => {
  const logged: unknown[] = [];
  const log = winston.createLogger({
    transports: [new winston.transports.Console({ silent: true })],
  });
  log.on('data', (entry: unknown) => logged.push(entry));
  const fault = buildFaultDocument(new TicketNotFoundError(), {
    requestId: 'b7c7f1f4-2d43-4f0e-9a7e-3c1f4bb0d7a9',
    faultNamespace: 'consumer',
    environment: undefined,
    now: service.clock.now(),
  });
  const body = await signedFaultBody(
    fault.document,
    { sign: () => Promise.reject(new Error('HSM unreachable')) },
    log,
  );
  expectFault(
    { status: 500, headers: { 'content-type': 'text/xml' }, body },
    {
      code: 'REPO_B01',
      kind: 'BusinessError',
    },
  );
  expect(body.toString('utf8')).not.toContain('Security');
  expect(logged).toEqual([
    expect.objectContaining({
      level: 'error',
      message: 'response signing failed: the fault is sent unsigned',
    }),
  ]);
});
