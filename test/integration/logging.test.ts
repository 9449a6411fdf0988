import { createHash, randomUUID } from 'node:crypto';
import { DOMParser } from '@xmldom/xmldom';
import { expectFault } from '../support/fault-assertions';
import { startTestService, type TestService } from '../support/service-fixture';
import { parseResponse } from '../support/soap-client';
import { partsOf, sendDocumentEnvelope, type SendDocumentSpec } from '../support/v1-requests';

/*
 * What the service logs about real requests: enough to find a client's fault (its Id) and an accepted
 * item (its ticket), and never the document bytes, a private key or a recipient's full INSS.
 *
 * The fixture captures the log lines as the call sites write them (without the production logger's
 * redaction format), so these tests check the call sites themselves, not only the safety net.
 */

const T = 'http://socialsecurity.be/registeredmail/types/v1';
const INSS = '85073003328';
const WRONG_INSS = '85073003329';

describe('logging of sendDocument requests', () => {
  const marker = `DOCUMENT-MARKER-${randomUUID()}`;
  const documentBytes = Buffer.from(`%PDF-1.4\n% ${marker}\n1 0 obj << /Type /Catalog >> endobj\n%%EOF\n`);
  const annexBytes = Buffer.from(`annex ${marker}`);
  let rm: TestService;
  let ticket: string;
  let failedRequestId: string;
  let invalidRecipientRequestId: string;

  function spec(token: string, inss = INSS): SendDocumentSpec {
    return {
      token,
      recipient: { kind: 'citizen', inss },
      document: { content: documentBytes, contentId: 'document@test' },
      annexes: [{ content: annexBytes, contentId: 'annex@test', mime: 'text/plain' }],
    };
  }

  beforeAll(async () => {
    rm = await startTestService();

    const accepted = await rm.postSwa(
      rm.sign(sendDocumentEnvelope(spec('T-logged'))),
      partsOf(spec('T-logged')),
    );
    expect(accepted.status).toBe(200);
    const envelope = (await parseResponse(accepted)).envelope;
    ticket = new DOMParser().parseFromString(envelope, 'text/xml').getElementsByTagNameNS(T, 'Ticket')[0]
      ?.textContent as string;
    expect(ticket).toMatch(/^[0-9A-HJ-NP-Z]{13}$/);

    const mismatch = spec('T-logged-mismatch');
    mismatch.document.digestValue = createHash('sha256').update('not the document').digest('base64');
    const failed = await rm.postSwa(rm.sign(sendDocumentEnvelope(mismatch)), partsOf(mismatch));
    failedRequestId = expectFault(failed, { code: 'FILE_B01', kind: 'BusinessError' }).id;

    const wrongInss = spec('T-logged-inss', WRONG_INSS);
    const refused = await rm.postSwa(rm.sign(sendDocumentEnvelope(wrongInss)), partsOf(wrongInss));
    invalidRecipientRequestId = expectFault(refused, { code: 'SOA-03007', kind: 'SystemError' }).id;
  });
  afterAll(async () => {
    await rm.close();
  });

  function entries(): Record<string, unknown>[] {
    return rm.logs.map((line) => JSON.parse(line) as Record<string, unknown>);
  }

  it('writes every line as JSON', () => {
    expect(rm.logs.length).toBeGreaterThan(0);
    for (const line of rm.logs) expect(() => JSON.parse(line)).not.toThrow();
  });

  it("logs the request id that a fault's Id shows, with the fault code", () => {
    for (const [requestId, code] of [
      [failedRequestId, 'FILE_B01'],
      [invalidRecipientRequestId, 'SOA-03007'],
    ]) {
      const lines = entries().filter((entry) => entry.requestId === requestId);
      expect(lines.length).toBeGreaterThan(0);
      expect(lines.some((entry) => entry.outcome === code)).toBe(true);
    }
  });

  it('logs the ticket of the accepted item, with its request id', () => {
    // Delivery, later and outside any request, logs the ticket too (component "delivery").
    const lines = entries().filter((entry) => entry.ticket === ticket && entry.component !== 'delivery');
    expect(lines.length).toBeGreaterThan(0);
    expect(lines.every((entry) => typeof entry.requestId === 'string')).toBe(true);
  });

  it('never logs the document or annex bytes', () => {
    const forms = [
      marker,
      documentBytes.toString('base64').slice(0, 24),
      annexBytes.toString('base64').slice(0, 16),
      documentBytes.toString('hex').slice(0, 32),
    ];
    for (const line of rm.logs) for (const form of forms) expect(line).not.toContain(form);
  });

  it('never logs a private key', () => {
    for (const line of rm.logs) expect(line).not.toMatch(/PRIVATE KEY/);
    const keyBody = rm.senders[0].keyPem.split('\n')[1];
    for (const line of rm.logs) expect(line).not.toContain(keyBody);
  });

  it('never logs a recipient INSS in full', () => {
    for (const line of rm.logs) {
      expect(line).not.toContain(INSS);
      expect(line).not.toContain(WRONG_INSS);
    }
  });
});
