import { createHash } from 'node:crypto';
import { DOMParser } from '@xmldom/xmldom';
import { contractDirectories } from '../../src/app/project-paths';
import { PayloadValidator } from '../../src/contract/xsd-validator';
import { storedState, type StoredState } from '../support/data-dir-state';
import {
  expectFault,
  PROVIDER_ERRORS_NS,
  withoutFaultId,
  type CheckedFault,
  type ExpectedFault,
} from '../support/fault-assertions';
import { startTestService, type TestService } from '../support/service-fixture';
import { parseResponse, post, type HttpResult } from '../support/soap-client';
import {
  getStatusEnvelope,
  partsOf,
  samplePdf,
  sendDocumentEnvelope,
  type SendDocumentSpec,
} from '../support/v1-requests';

/*
 * Every fault of the README's table that a client can provoke, over real HTTP against the running
 * service: the SOAP fault's form (HTTP 500, faultcode, faultstring, detail element, Code, Origin,
 * Message, Id) and, for failed sendDocument requests, that nothing was stored.
 */

const SOAP11 = 'http://schemas.xmlsoap.org/soap/envelope/';
const SOAP12 = 'http://www.w3.org/2003/05/soap-envelope';
const V1 = 'http://socialsecurity.be/registeredmail/v1';
const T = 'http://socialsecurity.be/registeredmail/types/v1';
const HEALTH_CHECK_ACTION = 'http://socialsecurity.be/registeredmail/v1/healthCheck';
const ENVELOPE_START = `<soapenv:Envelope xmlns:soapenv="${SOAP11}" xmlns:v1="${V1}" xmlns:t="${T}">`;
const GET_STATUS_PAYLOAD = '<v1:GetStatusRequest><t:Ticket>ABCDEFGH12345</t:Ticket></v1:GetStatusRequest>';
/** A ticket of the right form that the service never issued. */
const UNKNOWN_TICKET = 'ZZZZZZZZZZZZZ';
const VALID_INSS = '85073003328';

let validator: PayloadValidator;

beforeAll(async () => {
  validator = await PayloadValidator.load(contractDirectories().xsdDir);
});

afterAll(async () => {
  validator.dispose();
});

/** {@link expectFault}, and the detail element is valid against our error schemas. */
function expectValidFault(result: HttpResult, expected: ExpectedFault): CheckedFault {
  const fault = expectFault(result, expected);
  expect(() => validator.validateElement(fault.detailElement)).not.toThrow();
  return fault;
}

const authenticationFailure: ExpectedFault = {
  code: 'SOA-01001',
  kind: 'SystemError',
  message: 'Service call not authenticated.',
};

function malformed(message?: RegExp): ExpectedFault {
  return { code: 'SOA-03001', kind: 'SystemError', message: message ?? /^Malformed message: / };
}

function citizenSpec(token: string, overrides: Partial<SendDocumentSpec> = {}): SendDocumentSpec {
  return {
    token,
    recipient: { kind: 'citizen', inss: VALID_INSS },
    document: { content: samplePdf(token), contentId: 'document@test' },
    annexes: [{ content: Buffer.from(`annex of ${token}`), contentId: 'annex-1@test', mime: 'text/plain' }],
    ...overrides,
  };
}

function textOf(xml: string, namespace: string, localName: string): string {
  const document = new DOMParser().parseFromString(xml, 'text/xml');
  return document.getElementsByTagNameNS(namespace, localName)[0]?.textContent ?? '';
}

describe('faults (consumer form)', () => {
  let rm: TestService;

  beforeAll(async () => {
    rm = await startTestService();
  });
  afterAll(async () => {
    await rm.close();
  });

  function postBytes(body: Buffer, contentType = 'text/xml; charset=utf-8', soapAction = '""') {
    return post(rm.url, body, { 'Content-Type': contentType, SOAPAction: soapAction });
  }

  async function send(spec: SendDocumentSpec, envelope = sendDocumentEnvelope(spec)): Promise<HttpResult> {
    return rm.postSwa(rm.sign(envelope), partsOf(spec));
  }

  async function accepted(
    spec: SendDocumentSpec,
  ): Promise<{ ticket: string; receipt: Buffer; envelope: string }> {
    const result = await send(spec);
    if (result.status !== 200) throw new Error(`send failed: ${result.body.toString().slice(0, 800)}`);
    const parsed = await parseResponse(result);
    const content = textOf(parsed.envelope, T, 'Content');
    const receipt = parsed.attachments.get(decodeURIComponent(content.replace(/^cid:/, '')));
    if (!receipt) throw new Error('no receipt attachment');
    return {
      ticket: textOf(parsed.envelope, T, 'Ticket'),
      receipt: receipt.content,
      envelope: parsed.envelope,
    };
  }

  describe('SOA-03001: not well-formed or forbidden XML constructs', () => {
    it('refuses XML that is not well-formed', async () => {
      const result = await rm.postXml(`${ENVELOPE_START}<soapenv:Body><v1:GetStatusRequest></soapenv:Body>`);
      expectValidFault(result, malformed(/not well-formed/));
    });

    it('refuses a DOCTYPE without entity declarations', async () => {
      const envelope = `<?xml version="1.0"?>\n<!DOCTYPE soapenv:Envelope>\n${ENVELOPE_START}<soapenv:Body>${GET_STATUS_PAYLOAD}</soapenv:Body></soapenv:Envelope>`;
      expectValidFault(await rm.postXml(envelope), malformed(/DOCTYPE/));
    });

    it('refuses a DOCTYPE with an internal entity declaration', async () => {
      const envelope =
        `<?xml version="1.0"?>\n<!DOCTYPE soapenv:Envelope [<!ENTITY ticket "ABCDEFGH12345">]>\n` +
        `${ENVELOPE_START}<soapenv:Body><v1:GetStatusRequest><t:Ticket>&ticket;</t:Ticket></v1:GetStatusRequest></soapenv:Body></soapenv:Envelope>`;
      expectValidFault(await rm.postXml(envelope), malformed(/DOCTYPE/));
    });

    it('refuses an external entity (XXE) without reading it', async () => {
      const envelope =
        `<?xml version="1.0"?>\n<!DOCTYPE soapenv:Envelope [<!ENTITY xxe SYSTEM "file:///etc/passwd">]>\n` +
        `${ENVELOPE_START}<soapenv:Body><v1:GetStatusRequest><t:Ticket>&xxe;</t:Ticket></v1:GetStatusRequest></soapenv:Body></soapenv:Envelope>`;
      const result = await rm.postXml(envelope);
      expectValidFault(result, malformed(/DOCTYPE/));
      expect(result.body.toString()).not.toMatch(/root:/);
    });

    // The jest timeout is the bound here: expanding these entities would take minutes and gigabytes.
    it('refuses a billion-laughs document before expanding anything', async () => {
      const entities = ['<!ENTITY lol0 "lol">'];
      for (let level = 1; level <= 9; level += 1) {
        entities.push(`<!ENTITY lol${level} "${`&lol${level - 1};`.repeat(10)}">`);
      }
      const envelope =
        `<?xml version="1.0"?>\n<!DOCTYPE lolz [${entities.join('\n')}]>\n` +
        `${ENVELOPE_START}<soapenv:Body><v1:GetStatusRequest><t:Ticket>&lol9;</t:Ticket></v1:GetStatusRequest></soapenv:Body></soapenv:Envelope>`;
      const result = await rm.postXml(envelope);
      expectValidFault(result, malformed(/DOCTYPE/));
      // The signed Security header (with the service certificate) is about 3.5 KB of it.
      expect(result.body.length).toBeLessThan(8192);
    }, 10_000);

    it('refuses a processing instruction inside the Body', async () => {
      const envelope = `${ENVELOPE_START}<soapenv:Body><?evil instruction?>${GET_STATUS_PAYLOAD}</soapenv:Body></soapenv:Envelope>`;
      expectValidFault(await rm.postXml(envelope), malformed(/processing instruction/));
    });

    it('refuses bytes that are not valid UTF-8', async () => {
      const body = Buffer.concat([
        Buffer.from(`${ENVELOPE_START}<soapenv:Body><v1:GetStatusRequest><t:Ticket>ABC`),
        Buffer.from([0xc3, 0x28, 0xff]),
        Buffer.from(`DEFGH1234</t:Ticket></v1:GetStatusRequest></soapenv:Body></soapenv:Envelope>`),
      ]);
      expectValidFault(await postBytes(body), malformed(/UTF-8/));
    });

    it('refuses an encoding other than UTF-8', async () => {
      const body = Buffer.from(
        `<?xml version="1.0" encoding="ISO-8859-1"?>\n${ENVELOPE_START}<soapenv:Body>${GET_STATUS_PAYLOAD}</soapenv:Body></soapenv:Envelope>`,
        'latin1',
      );
      expectValidFault(await postBytes(body, 'text/xml; charset=ISO-8859-1'), malformed(/ISO-8859-1.*UTF-8/));
    });
  });

  describe('SOA-03002: not a SOAP 1.1 envelope', () => {
    const soap12 = `<env:Envelope xmlns:env="${SOAP12}" xmlns:v1="${V1}" xmlns:t="${T}"><env:Body>${GET_STATUS_PAYLOAD}</env:Body></env:Envelope>`;
    const notSoap: ExpectedFault = {
      code: 'SOA-03002',
      kind: 'SystemError',
      message: /^Message must be SOAP: /,
    };

    it('refuses a SOAP 1.2 envelope sent as text/xml', async () => {
      expectValidFault(await rm.postXml(soap12), { ...notSoap, message: /SOAP 1\.2/ });
    });

    it('refuses a SOAP 1.2 envelope sent as application/soap+xml', async () => {
      const result = await postBytes(Buffer.from(soap12), `application/soap+xml; charset=utf-8; action="x"`);
      expectValidFault(result, { ...notSoap, message: /SOAP 1\.2/ });
    });

    it('refuses a root element that is not a SOAP Envelope', async () => {
      const result = await rm.postXml(
        `<v1:GetStatusRequest xmlns:v1="${V1}" xmlns:t="${T}"><t:Ticket>ABCDEFGH12345</t:Ticket></v1:GetStatusRequest>`,
      );
      expectValidFault(result, notSoap);
    });

    it('refuses an unsupported Content-Type', async () => {
      const result = await postBytes(Buffer.from('{"ticket":"ABCDEFGH12345"}'), 'application/json');
      expectValidFault(result, { ...notSoap, message: /application\/json/ });
    });
  });

  describe('SOA-03003: no Body, or not exactly one element in it', () => {
    const noBody: ExpectedFault = {
      code: 'SOA-03003',
      kind: 'SystemError',
      message: /^Message must contain SOAP body: /,
    };

    it('refuses an envelope without Body', async () => {
      expectValidFault(await rm.postXml(`${ENVELOPE_START}<soapenv:Header/></soapenv:Envelope>`), noBody);
    });

    it('refuses an empty Body', async () => {
      expectValidFault(
        await rm.postXml(`${ENVELOPE_START}<soapenv:Header/><soapenv:Body/></soapenv:Envelope>`),
        noBody,
      );
    });

    it('refuses a Body with two elements', async () => {
      const envelope = `${ENVELOPE_START}<soapenv:Body>${GET_STATUS_PAYLOAD}${GET_STATUS_PAYLOAD}</soapenv:Body></soapenv:Envelope>`;
      expectValidFault(await rm.postXml(envelope), noBody);
    });
  });

  describe('SOA-01001: not authenticated', () => {
    it('refuses an unsigned request, saying nothing more than the platform does', async () => {
      const fault = expectValidFault(
        await rm.postXml(getStatusEnvelope(UNKNOWN_TICKET)),
        authenticationFailure,
      );
      expect(fault.messages).toHaveLength(1);
    });

    it('refuses a Timestamp that expired on the way', async () => {
      const signed = rm.sign(getStatusEnvelope(UNKNOWN_TICKET));
      rm.clock.advance(301_000);
      expectValidFault(await rm.postXml(signed), authenticationFailure);
    });

    it('refuses a signed payload changed after signing', async () => {
      const signed = rm.sign(getStatusEnvelope('ABCDEFGH12345'));
      const tampered = signed.replace('ABCDEFGH12345', 'ABCDEFGH12346');
      expect(tampered).not.toBe(signed);
      expectValidFault(await rm.postXml(tampered), authenticationFailure);
    });
  });

  describe('SOA-03005: the message does not match the WSDL', () => {
    it("refuses healthCheck's SOAPAction on a getStatus payload", async () => {
      const result = await rm.postXml(rm.sign(getStatusEnvelope(UNKNOWN_TICKET)), {
        SOAPAction: `"${HEALTH_CHECK_ACTION}"`,
      });
      expectValidFault(result, { code: 'SOA-03005', kind: 'SystemError', message: /SOAPAction.*getStatus/ });
    });

    it('refuses a signed payload element that no operation takes', async () => {
      const envelope = `${ENVELOPE_START}<soapenv:Body><v1:CancelDocumentRequest><t:Ticket>ABCDEFGH12345</t:Ticket></v1:CancelDocumentRequest></soapenv:Body></soapenv:Envelope>`;
      const result = await rm.postXml(rm.sign(envelope));
      expectValidFault(result, { code: 'SOA-03005', kind: 'SystemError', message: /CancelDocumentRequest/ });
    });
  });

  describe('SOA-03006: payload not valid against the XSD', () => {
    it("answers the validator's message for a Ticket that does not match the pattern", async () => {
      const result = await rm.postXml(rm.sign(getStatusEnvelope('not-a-ticket!')));
      const fault = expectValidFault(result, {
        code: 'SOA-03006',
        kind: 'SystemError',
        message: /^XSD compliance failure: .*Ticket.*(pattern|length)/,
      });
      expect(fault.messages[0].text).toContain('not-a-ticket!');
    });
  });

  describe('failed sendDocument requests store nothing', () => {
    let before: StoredState;

    beforeEach(async () => {
      before = await storedState(rm);
    });

    afterEach(async () => {
      const after = await storedState(rm);
      expect(after.contents).toEqual(before.contents);
      expect(after.staging).toEqual([]);
      // No ticket was issued, so there is nothing a getStatus could find.
      expect(after.items).toBe(before.items);
    });

    it('SOA-01001 for an unsigned sendDocument with its attachments', async () => {
      const spec = citizenSpec('T-unsigned');
      expectValidFault(await rm.postSwa(sendDocumentEnvelope(spec), partsOf(spec)), authenticationFailure);
    });

    it('SOA-03007 for a wrong INSS check digit', async () => {
      const result = await send(
        citizenSpec('T-inss', { recipient: { kind: 'citizen', inss: '85073003329' } }),
      );
      expectValidFault(result, { code: 'SOA-03007', kind: 'SystemError', message: /INSS/ });
    });

    it('SOA-03007 for a wrong CBE check digit', async () => {
      const result = await send(
        citizenSpec('T-cbe', { recipient: { kind: 'enterprise', cbe: '0123456789' } }),
      );
      expectValidFault(result, { code: 'SOA-03007', kind: 'SystemError', message: /CBE/ });
    });

    it('SOA-03007 for a Recipient of xsi:type Sender', async () => {
      const recipient = {
        kind: 'raw' as const,
        xml: '<t:Recipient xsi:type="t:Sender"><t:CompanyID>0861023666</t:CompanyID><t:ApplicationID>app</t:ApplicationID></t:Recipient>',
      };
      const result = await send(citizenSpec('T-sender-type', { recipient }));
      expectValidFault(result, { code: 'SOA-03007', kind: 'SystemError', message: /Citizen or Enterprise/ });
    });

    it('FILE_B03 for a SHA-1 digest', async () => {
      const spec = citizenSpec('T-sha1');
      spec.document.digestMethod = 'SHA-1';
      expectValidFault(await send(spec), {
        code: 'FILE_B03',
        kind: 'BusinessError',
        message: 'The SHA-1 digest method cannot be used anymore',
      });
    });

    it('FILE_B01 for a digest that does not match its attachment', async () => {
      const spec = citizenSpec('T-mismatch');
      spec.document.digestValue = createHash('sha256').update('other bytes').digest('base64');
      expectValidFault(await send(spec), {
        code: 'FILE_B01',
        kind: 'BusinessError',
        message: "Digest doesn't match document.",
      });
    });

    it('FILE_B04 for a cid: without its part', async () => {
      const spec = citizenSpec('T-missing-part');
      const result = await rm.postSwa(rm.sign(sendDocumentEnvelope(spec)), partsOf(spec).slice(0, 1));
      expectValidFault(result, { code: 'FILE_B04', kind: 'BusinessError', message: /not in the request/ });
    });

    it('FILE_B04 for a part that no Content references', async () => {
      const spec = citizenSpec('T-extra-part');
      const parts = [
        ...partsOf(spec),
        { contentId: 'extra@test', contentType: 'text/plain', content: Buffer.from('extra') },
      ];
      const result = await rm.postSwa(rm.sign(sendDocumentEnvelope(spec)), parts);
      expectValidFault(result, { code: 'FILE_B04', kind: 'BusinessError', message: /not referenced/ });
    });

    it('FILE_B04 for one part referenced by two Contents', async () => {
      const content = samplePdf('T-twice');
      const spec = citizenSpec('T-twice', {
        document: { content, contentId: 'same@test' },
        annexes: [{ content, contentId: 'same@test', mime: 'application/pdf' }],
      });
      const result = await rm.postSwa(rm.sign(sendDocumentEnvelope(spec)), partsOf(spec).slice(0, 1));
      expectValidFault(result, { code: 'FILE_B04', kind: 'BusinessError', message: /referenced twice/ });
    });

    it('FILE_B04 for a single-part text/xml sendDocument (no parts at all)', async () => {
      const result = await rm.postXml(rm.sign(sendDocumentEnvelope(citizenSpec('T-single-part'))));
      expectValidFault(result, { code: 'FILE_B04', kind: 'BusinessError' });
    });

    it('REPO_B03 for the same Token with another recipient', async () => {
      const first = citizenSpec('T-conflict-recipient');
      await accepted(first);
      before = await storedState(rm);
      const result = await send({ ...first, recipient: { kind: 'citizen', inss: '17073003384' } });
      expectValidFault(result, {
        code: 'REPO_B03',
        kind: 'BusinessError',
        message: 'Token already used by this sender for another registered mail item',
      });
    });

    it('REPO_B03 for the same Token with another digest', async () => {
      const first = citizenSpec('T-conflict-digest');
      await accepted(first);
      before = await storedState(rm);
      const changed = { ...first, document: { ...first.document, content: samplePdf('another document') } };
      expectValidFault(await send(changed), { code: 'REPO_B03', kind: 'BusinessError' });
    });
  });

  describe('retries and Tokens', () => {
    it('answers a retry (same Token, recipient and digests) with the same ticket and the same receipt bytes', async () => {
      const spec = citizenSpec('T-retry');
      const first = await accepted(spec);
      const countAfterFirst = (await storedState(rm)).items;
      rm.clock.advance(1000); // a retry is signed anew: the same signed bytes again would be a replay
      const retry = await accepted(spec);
      expect(retry.ticket).toBe(first.ticket);
      expect(retry.receipt.equals(first.receipt)).toBe(true);
      expect(textOf(retry.envelope, T, 'Signature')).toBe(textOf(first.envelope, T, 'Signature'));
      expect((await storedState(rm)).items).toBe(countAfterFirst);
    });

    it('never treats two empty Tokens as the same item', async () => {
      const spec = citizenSpec('');
      const envelope = sendDocumentEnvelope(spec).replace('<t:Token></t:Token>', '<t:Token/>');
      expect(envelope).toContain('<t:Token/>');
      const tickets: string[] = [];
      for (let attempt = 0; attempt < 2; attempt += 1) {
        rm.clock.advance(1000); // a fresh Timestamp each time, or the second would be a replay
        const result = await send(spec, envelope);
        expect(result.status).toBe(200);
        tickets.push(textOf((await parseResponse(result)).envelope, T, 'Ticket'));
      }
      expect(tickets[0]).toMatch(/^[0-9A-HJ-NP-Z]{13}$/);
      expect(tickets[1]).toMatch(/^[0-9A-HJ-NP-Z]{13}$/);
      expect(tickets[1]).not.toBe(tickets[0]);
    });
  });

  describe('REPO_B01: a ticket the sender cannot see', () => {
    const notFound: ExpectedFault = {
      code: 'REPO_B01',
      kind: 'BusinessError',
      message: 'Ticket provided does not match Registered Mail Item',
    };

    it('gives the same fault, apart from its Id, for an unknown ticket and for another sender’s ticket', async () => {
      const { ticket } = await accepted(citizenSpec('T-owned-by-sender-1'));
      const [, secondSender] = rm.senders;
      expect(secondSender).toBeDefined();

      const unknown = await rm.postXml(rm.sign(getStatusEnvelope(UNKNOWN_TICKET), { sender: secondSender }));
      const foreign = await rm.postXml(rm.sign(getStatusEnvelope(ticket), { sender: secondSender }));
      const unknownFault = expectValidFault(unknown, notFound);
      const foreignFault = expectValidFault(foreign, notFound);
      expect(foreignFault.id).not.toBe(unknownFault.id);
      expect(withoutFaultId(foreign.body)).toBe(withoutFaultId(unknown.body));

      // The owner still sees it.
      const own = await rm.postXml(rm.sign(getStatusEnvelope(ticket)));
      expect(own.status).toBe(200);
    });
  });
});

describe('faults in the provider form (RM_FAULT_NAMESPACE=provider)', () => {
  let rm: TestService;

  beforeAll(async () => {
    // RM_ENVIRONMENT is set too: the provider form has no Environment even then.
    rm = await startTestService({ RM_FAULT_NAMESPACE: 'provider', RM_ENVIRONMENT: 'INT' });
  });
  afterAll(async () => {
    await rm.close();
  });

  function expectProviderFields(fault: CheckedFault): void {
    expect(fault.fields.Actor).toBeTruthy();
    expect(new Date(fault.fields.DateTime).getTime()).toBe(rm.clock.now().getTime());
    expect(fault.fields.Environment).toBeUndefined();
  }

  it('answers SystemError in errors/serviceprovider/v1 with Actor and DateTime', async () => {
    const fault = expectValidFault(await rm.postXml(getStatusEnvelope(UNKNOWN_TICKET)), {
      ...authenticationFailure,
      namespace: PROVIDER_ERRORS_NS,
    });
    expectProviderFields(fault);
  });

  it('answers BusinessError in errors/serviceprovider/v1 with Actor and DateTime', async () => {
    const fault = expectValidFault(await rm.postXml(rm.sign(getStatusEnvelope(UNKNOWN_TICKET))), {
      code: 'REPO_B01',
      kind: 'BusinessError',
      namespace: PROVIDER_ERRORS_NS,
    });
    expectProviderFields(fault);
  });
});

describe('faults with RM_ENVIRONMENT set', () => {
  let rm: TestService;

  beforeAll(async () => {
    // The dev senders' certificates say OU=INT: the service runs as INT to accept them.
    rm = await startTestService({ RM_ENVIRONMENT: 'INT' });
  });
  afterAll(async () => {
    await rm.close();
  });

  it('states the Environment in a consumer SystemError', async () => {
    const fault = expectValidFault(await rm.postXml(getStatusEnvelope(UNKNOWN_TICKET)), {
      ...authenticationFailure,
      environment: 'Integration',
    });
    expect(fault.fields.Actor).toBeUndefined();
    expect(fault.fields.DateTime).toBeUndefined();
  });

  it('states the Environment in a consumer BusinessError', async () => {
    expectValidFault(await rm.postXml(rm.sign(getStatusEnvelope(UNKNOWN_TICKET))), {
      code: 'REPO_B01',
      kind: 'BusinessError',
      environment: 'Integration',
    });
  });
});
