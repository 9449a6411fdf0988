import * as path from 'node:path';
import { pathToFileURL } from 'node:url';
import {
  generateAndCompile,
  lineWithEvent,
  probeJavaToolchain,
  runJavaClient,
  type ClientLine,
  type CompiledClients,
  type JavaToolchain,
} from './java-toolchain';
import {
  senderEnvironment,
  serviceUrls,
  startServiceForInterop,
  type StartedInteropService,
} from './interop-service';
import { findOnPath, unavailable } from './run-tool';
import { opensslCmsVerify } from '../support/external-tools';
import { verifyReceipts } from '../support/receipt-verification';
import { childElements, NS, parseRoot } from './wire-checks';

/**
 * Java JAX-WS RI clients (wsimport 2.3, WSS4J 1.6 signing) against the running service: one generated
 * from the WSDL the service serves, one from the published WSDL that integrators hold. The service signs
 * every response with a Security header that is not mustUnderstand: the clients without a response
 * handler read them as before, and one with WSS4J's receiver (ResponseVerifier.java) verifies them.
 */

const PUBLISHED_WSDL = path.resolve(__dirname, '../../../shared/contract/published/RegisteredMail_v1.wsdl');
/** The clients ask not to check the recipient's e-Box, so the test does not depend on simulator profiles. */
const CHECK_EBOX = '--check-ebox=BYPASS';
const SETUP_TIMEOUT_MS = 300_000;
const CLIENT_TIMEOUT_MS = 120_000;

const probe = probeToolchain();
const describeWithJava = probe.available ? describe : describe.skip;

function probeToolchain():
  { available: true; toolchain: JavaToolchain } | { available: false; reason: string } {
  const java = probeJavaToolchain();
  if (!java.available) return java;
  if (!findOnPath('openssl')) return unavailable('openssl not found (Debian package openssl)');
  return java;
}

describeWithJava('Java JAX-WS clients against RegisteredMail v1', () => {
  const toolchain = (probe as { toolchain: JavaToolchain }).toolchain;

  describe('default (consumer) fault form', () => {
    let service: StartedInteropService;
    let served: CompiledClients;
    let published: CompiledClients;
    let run: (compiled: CompiledClients, className: string, args: string[]) => Promise<ClientLine[]>;

    beforeAll(async () => {
      service = await startServiceForInterop();
      const env = senderEnvironment(service);
      run = (compiled, className, args) =>
        runJavaClient(toolchain, compiled, className, args, { env, timeoutMs: CLIENT_TIMEOUT_MS });
      served = await generateAndCompile(toolchain, serviceUrls(service).wsdl);
      published = await generateAndCompile(toolchain, PUBLISHED_WSDL);
    }, SETUP_TIMEOUT_MS);

    afterAll(async () => {
      await service?.close();
    });

    const servedClient = (scenario: string): Promise<ClientLine[]> =>
      run(served, 'ServedWsdlClient', [scenario, `--wsdl=${serviceUrls(service).wsdl}`, CHECK_EBOX]);
    const publishedClient = (scenario: string): Promise<ClientLine[]> =>
      run(published, 'PublishedWsdlClient', [
        scenario,
        `--wsdl=${pathToFileURL(PUBLISHED_WSDL).href}`,
        `--endpoint=${serviceUrls(service).endpoint}`,
        CHECK_EBOX,
      ]);

    it(
      'served-WSDL client: a PDF with two annexes to a citizen gets a signed receipt, then status PENDING',
      async () => {
        const lines = await servedClient('send-citizen');
        await expectReceiptAndPendingStatus(lines, service);
      },
      CLIENT_TIMEOUT_MS,
    );

    it(
      'served-WSDL client: the same to an enterprise (CBE 0206731645, QUAL_EMP_NOSS)',
      async () => {
        const lines = await servedClient('send-enterprise');
        await expectReceiptAndPendingStatus(lines, service);
      },
      CLIENT_TIMEOUT_MS,
    );

    it(
      'served-WSDL client: a digest mismatch arrives as the generated BusinessError, code FILE_B01',
      async () => {
        const fault = lineWithEvent(await servedClient('digest-mismatch'), 'fault');
        expect(fault).toMatchObject({
          via: 'generated-exception',
          kind: 'BusinessError',
          exceptionClass: 'be.socialsecurity.registeredmail.v1.BusinessError',
          faultInfoClass: 'be.socialsecurity.errors.v1.ErrorType',
          faultstring: 'FILE_B01',
          code: 'FILE_B01',
        });
        expect(fault.id).toEqual(expect.any(String));
      },
      CLIENT_TIMEOUT_MS,
    );

    it(
      'served-WSDL client with a WSS4J response handler: every response verifies, faults included',
      async () => {
        const responseCa = `--response-ca=${service.pki.caCertPath}`;
        const wsdl = `--wsdl=${serviceUrls(service).wsdl}`;
        const sent = await run(served, 'ServedWsdlClient', ['send-citizen', wsdl, CHECK_EBOX, responseCa]);
        await expectReceiptAndPendingStatus(sent, service);
        const faulted = await run(served, 'ServedWsdlClient', [
          'digest-mismatch',
          wsdl,
          CHECK_EBOX,
          responseCa,
        ]);
        expect(lineWithEvent(faulted, 'fault')).toMatchObject({ code: 'FILE_B01' });

        const lines = [...sent, ...faulted];
        expect(lines.filter((line) => line.event === 'response-rejected')).toEqual([]);
        const verified = lines.filter((line) => line.event === 'response-verified');
        // sendDocument (multipart), getStatus, and the FILE_B01 fault
        expect(verified.map((line) => line.fault)).toEqual([false, false, true]);
        for (const line of verified) {
          expect(line).toMatchObject({
            signedElements: 'Body,Timestamp',
            signatureMethod: 'http://www.w3.org/2001/04/xmldsig-more#rsa-sha256',
            keyReference: 'DIRECT_REF',
            timestamp: true,
          });
          expect(String(line.certificateSubject)).toMatch(/Receipt Signer/);
        }
      },
      2 * CLIENT_TIMEOUT_MS,
    );

    it(
      'published-WSDL client: sends and reads the status',
      async () => {
        const lines = await publishedClient('send-and-status');
        await expectReceiptAndPendingStatus(lines, service);
      },
      CLIENT_TIMEOUT_MS,
    );

    it(
      'published-WSDL client: a fault arrives as a SOAPFaultException carrying the errors/v1 detail',
      async () => {
        const fault = lineWithEvent(await publishedClient('fault'), 'fault');
        expect(fault).toMatchObject({
          via: 'soap-fault-exception',
          faultstring: 'FILE_B01',
          detailNamespace: 'http://socialsecurity.be/errors/v1',
          detailElement: 'BusinessError',
          code: 'FILE_B01',
        });
        expect(String(fault.faultcode)).toMatch(/:Client$/);
      },
      CLIENT_TIMEOUT_MS,
    );
  });

  describe('provider fault form (RM_FAULT_NAMESPACE=provider)', () => {
    let service: StartedInteropService;
    let served: CompiledClients;
    let published: CompiledClients;
    let run: (compiled: CompiledClients, className: string, args: string[]) => Promise<ClientLine[]>;

    beforeAll(async () => {
      service = await startServiceForInterop({ RM_FAULT_NAMESPACE: 'provider' });
      const env = senderEnvironment(service);
      run = (compiled, className, args) =>
        runJavaClient(toolchain, compiled, className, args, { env, timeoutMs: CLIENT_TIMEOUT_MS });
      served = await generateAndCompile(toolchain, serviceUrls(service).wsdl);
      published = await generateAndCompile(toolchain, PUBLISHED_WSDL);
    }, SETUP_TIMEOUT_MS);

    afterAll(async () => {
      await service?.close();
    });

    const providerFault = {
      via: 'generated-exception',
      kind: 'BusinessError',
      exceptionClass: 'be.socialsecurity.registeredmail.v1.BusinessError',
      faultInfoClass: 'be.socialsecurity.errors.serviceprovider.v1.ServiceErrorType',
      faultstring: 'FILE_B01',
      code: 'FILE_B01',
    };

    it(
      'published-WSDL client: the fault arrives as the generated BusinessError with Actor and DateTime',
      async () => {
        const lines = await run(published, 'PublishedWsdlClient', [
          'fault',
          `--wsdl=${pathToFileURL(PUBLISHED_WSDL).href}`,
          `--endpoint=${serviceUrls(service).endpoint}`,
          CHECK_EBOX,
        ]);
        const fault = lineWithEvent(lines, 'fault');
        expect(fault).toMatchObject(providerFault);
        expect(fault.actor).toEqual(expect.any(String));
        expect(Number.isNaN(Date.parse(String(fault.dateTime)))).toBe(false);
      },
      CLIENT_TIMEOUT_MS,
    );

    it(
      'served-WSDL client: the served WSDL declares the provider form too, so it gets the generated exception',
      async () => {
        const lines = await run(served, 'ServedWsdlClient', [
          'digest-mismatch',
          `--wsdl=${serviceUrls(service).wsdl}`,
          CHECK_EBOX,
        ]);
        expect(lineWithEvent(lines, 'fault')).toMatchObject(providerFault);
      },
      CLIENT_TIMEOUT_MS,
    );
  });
});

/**
 * The "sent" line describes a receipt as the contract says (SignedFile: Title Receipt, Receipt.xml,
 * text/xml, RECEIPT, en, SHA-256 digest of the attachment) whose detached CMS signature openssl verifies
 * against the dev CA and whose content names the ticket; the "status" line reads PENDING for that ticket.
 */
async function expectReceiptAndPendingStatus(
  lines: ClientLine[],
  service: StartedInteropService,
): Promise<void> {
  const sent = lineWithEvent(lines, 'sent');
  expect(sent.ticket).toMatch(/^[0-9A-HJ-NP-Z]{13}$/);
  expect(sent.token).toBe(sent.requestToken);
  expect(sent).toMatchObject({
    receiptTitle: 'Receipt',
    receiptFileName: 'Receipt.xml',
    receiptMime: 'text/xml',
    receiptType: 'RECEIPT',
    receiptLanguage: 'en',
    receiptDigestMethod: 'SHA-256',
  });
  expect(sent.receiptDigest).toBe(sent.receiptBytesSha256);

  const receipt = Buffer.from(String(sent.receiptBase64), 'base64');
  const receiptRoot = parseRoot(receipt.toString('utf8'));
  const ticketElement = childElements(receiptRoot).find(
    (element) => element.namespaceURI === NS.types && element.localName === 'Ticket',
  );
  expect(ticketElement?.textContent).toBe(sent.ticket);
  await expectCmsSignatureVerifies(receipt, Buffer.from(String(sent.signatureBase64), 'base64'), service);

  const status = lineWithEvent(lines, 'status');
  expect(status).toMatchObject({ ticket: sent.ticket, token: sent.token, status: 'PENDING' });
}

/**
 * `openssl cms -verify` of the detached signature over exactly the receipt bytes, trusting the dev CA;
 * then the CAdES-T checks every receipt passes (openssl ts -verify, Bouncy Castle).
 */
async function expectCmsSignatureVerifies(
  content: Buffer,
  signature: Buffer,
  service: StartedInteropService,
): Promise<void> {
  const result = opensslCmsVerify(signature, content, service.pki.caCertPath);
  expect(result.output).toMatch(/Verification successful/);
  expect(result.status).toBe(0);
  await verifyReceipts([{ label: 'receipt received by the Java client', content, signature }], {
    caFiles: [service.pki.caCertPath],
  });
}
