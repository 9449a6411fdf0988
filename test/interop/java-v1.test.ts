import { createHash } from 'node:crypto';
import * as fs from 'node:fs';
import * as os from 'node:os';
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
import type { Element } from '@xmldom/xmldom';
import { child, childElements, NS, parseRoot } from './wire-checks';

/**
 * Java JAX-WS RI clients (wsimport 2.3, WSS4J 1.6 signing) against the running service: one generated
 * from the WSDL the service serves, one from the published WSDL that integrators hold. The service signs
 * every response with a Security header that is not mustUnderstand: the clients without a response
 * handler read them as before, and one with WSS4J's receiver (ResponseVerifier.java) verifies them.
 * The service delivers in the background to its embedded e-Box simulator: after sending, a client polls
 * getStatus until the item is SENT and saves the ProofOfDispatch, which this test verifies as a recipient
 * of the proof would (openssl, Bouncy Castle) and reads as a ContentConsignment evidence of the ticket.
 */

const PUBLISHED_WSDL = path.resolve(__dirname, '../../../shared/contract/published/RegisteredMail_v1.wsdl');
/** The namespace of the evidence XML a ProofOfDispatch carries (xsd/registeredmail-evidence-v1.xsd). */
const EVIDENCE_NS = 'urn:registeredmail:evidence:v1';
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
    /** Where the clients save the proofs of dispatch they receive. */
    let proofDir: string;

    beforeAll(async () => {
      proofDir = fs.mkdtempSync(path.join(os.tmpdir(), 'rm-interop-proofs-'));
      service = await startServiceForInterop();
      const env = senderEnvironment(service);
      run = (compiled, className, args) =>
        runJavaClient(toolchain, compiled, className, args, { env, timeoutMs: CLIENT_TIMEOUT_MS });
      served = await generateAndCompile(toolchain, serviceUrls(service).wsdl);
      published = await generateAndCompile(toolchain, PUBLISHED_WSDL);
    }, SETUP_TIMEOUT_MS);

    afterAll(async () => {
      try {
        await service?.close();
      } finally {
        if (proofDir) fs.rmSync(proofDir, { recursive: true, force: true });
      }
    });

    const servedClient = (scenario: string, ...options: string[]): Promise<ClientLine[]> =>
      run(served, 'ServedWsdlClient', [
        scenario,
        `--wsdl=${serviceUrls(service).wsdl}`,
        CHECK_EBOX,
        `--proof-dir=${proofDir}`,
        ...options,
      ]);
    const publishedClient = (scenario: string): Promise<ClientLine[]> =>
      run(published, 'PublishedWsdlClient', [
        scenario,
        `--wsdl=${pathToFileURL(PUBLISHED_WSDL).href}`,
        `--endpoint=${serviceUrls(service).endpoint}`,
        CHECK_EBOX,
        `--proof-dir=${proofDir}`,
      ]);

    it(
      'served-WSDL client: a PDF with two annexes to a citizen gets a signed receipt, then, polling, SENT with a ProofOfDispatch',
      async () => {
        const lines = await servedClient('send-citizen');
        await expectReceiptThenDispatchProof(lines, service, proofDir);
      },
      CLIENT_TIMEOUT_MS,
    );

    it(
      'served-WSDL client: the same to an enterprise (CBE 0206731645, QUAL_EMP_NOSS)',
      async () => {
        const lines = await servedClient('send-enterprise');
        await expectReceiptThenDispatchProof(lines, service, proofDir);
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
        const sent = await servedClient('send-citizen', responseCa);
        await expectReceiptThenDispatchProof(sent, service, proofDir);
        const faulted = await servedClient('digest-mismatch', responseCa);
        expect(lineWithEvent(faulted, 'fault')).toMatchObject({ code: 'FILE_B01' });

        const lines = [...sent, ...faulted];
        expect(lines.filter((line) => line.event === 'response-rejected')).toEqual([]);
        const verified = lines.filter((line) => line.event === 'response-verified');
        // sendDocument (multipart), each getStatus (the last one multipart, with the proof), the FILE_B01 fault
        const statusCalls = sent.filter((line) => line.event === 'status').length;
        expect(verified.map((line) => line.fault)).toEqual([
          false,
          ...Array<boolean>(statusCalls).fill(false),
          true,
        ]);
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
      'published-WSDL client: sends, polls getStatus until SENT and gets a ProofOfDispatch',
      async () => {
        const lines = await publishedClient('send-and-status');
        await expectReceiptThenDispatchProof(lines, service, proofDir);
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
  describe('delivery held up by a transient e-Box failure', () => {
    let service: StartedInteropService;
    let served: CompiledClients;
    let proofDir: string;

    beforeAll(async () => {
      proofDir = fs.mkdtempSync(path.join(os.tmpdir(), 'rm-interop-proofs-'));
      // The retry after a failed publication comes 5 to 10 s later (jittered): the client's first
      // getStatus, milliseconds after its sendDocument, finds the item still PENDING; it polls for 30 s.
      service = await startServiceForInterop(
        { RM_DELIVERY_RETRY_BASE_SECONDS: '10', RM_LOG_LEVEL: 'error' },
        { eboxTestControl: true },
      );
      served = await generateAndCompile(toolchain, serviceUrls(service).wsdl);
    }, SETUP_TIMEOUT_MS);

    afterAll(async () => {
      try {
        await service?.close();
      } finally {
        if (proofDir) fs.rmSync(proofDir, { recursive: true, force: true });
      }
    });

    it(
      'served-WSDL client: polls through PENDING until the retried publication makes the item SENT',
      async () => {
        // With CheckEboxStatus BYPASS and no consultation round yet, the next e-Box call is the publication.
        const faults = await fetch(`${service.eboxTestControlUrl}/_test/faults`, {
          method: 'POST',
          headers: { 'Content-Type': 'application/json' },
          body: JSON.stringify({ failNext: 1, status: 503 }),
        });
        expect(faults.status).toBeLessThan(300);
        const lines = await runJavaClient(
          toolchain,
          served,
          'ServedWsdlClient',
          ['send-citizen', `--wsdl=${serviceUrls(service).wsdl}`, CHECK_EBOX, `--proof-dir=${proofDir}`],
          { env: senderEnvironment(service), timeoutMs: CLIENT_TIMEOUT_MS },
        );
        const statuses = lines.filter((line) => line.event === 'status').map((line) => line.status);
        expect(statuses[0]).toBe('PENDING');
        expect(statuses[statuses.length - 1]).toBe('SENT');
        await expectReceiptThenDispatchProof(lines, service, proofDir);
      },
      CLIENT_TIMEOUT_MS,
    );
  });
});

/**
 * The "sent" line describes a receipt as the contract says (SignedFile: Title Receipt, Receipt.xml,
 * text/xml, RECEIPT, en, SHA-256 digest of the attachment) whose detached CMS signature openssl verifies
 * against the dev CA and whose content names the ticket. The "status" lines (one per getStatus call) read
 * PENDING without a proof until the last, SENT with one; then {@link expectDispatchProof}.
 */
async function expectReceiptThenDispatchProof(
  lines: ClientLine[],
  service: StartedInteropService,
  proofDir: string,
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

  // Delivery runs in the background, so the first answer may already be SENT.
  const statuses = lines.filter((line) => line.event === 'status');
  expect(statuses.length).toBeGreaterThan(0);
  const expected = statuses.map((_, index) =>
    index === statuses.length - 1
      ? { ticket: sent.ticket, token: sent.token, status: 'SENT', hasProofOfDispatch: true }
      : { ticket: sent.ticket, token: sent.token, status: 'PENDING', hasProofOfDispatch: false },
  );
  expect(statuses).toEqual(expected.map((fields) => expect.objectContaining(fields)));

  await expectDispatchProof(lineWithEvent(lines, 'proof-of-dispatch'), sent, service, proofDir);
}

/**
 * The "proof-of-dispatch" line describes the SignedFile as the contract says (ProofOfDispatch,
 * ProofOfDispatch.xml, text/xml, PROOF_OF_DISPATCH, en) and names the files the client saved in
 * `proofDir`. Its Digest is the SHA-256 of the saved bytes, its Signature verifies over them (openssl cms
 * and ts, Bouncy Castle), and they are a ContentConsignment evidence of the ticket naming the message
 * the e-Box holds for it.
 */
async function expectDispatchProof(
  proof: ClientLine,
  sent: ClientLine,
  service: StartedInteropService,
  proofDir: string,
): Promise<void> {
  expect(proof).toMatchObject({
    ticket: sent.ticket,
    title: 'ProofOfDispatch',
    fileName: 'ProofOfDispatch.xml',
    mime: 'text/xml',
    type: 'PROOF_OF_DISPATCH',
    language: 'en',
    digestMethod: 'SHA-256',
  });
  const saved = path.join(proofDir, `ProofOfDispatch-${String(sent.ticket)}`);
  expect({ contentPath: proof.contentPath, signaturePath: proof.signaturePath }).toEqual({
    contentPath: `${saved}.xml`,
    signaturePath: `${saved}.p7s`,
  });
  const content = fs.readFileSync(`${saved}.xml`);
  const signature = fs.readFileSync(`${saved}.p7s`);

  expect(proof.digest).toBe(createHash('sha256').update(content).digest('base64'));
  expect(proof.contentBytesSha256).toBe(proof.digest);
  await expectCmsSignatureVerifies(content, signature, service);

  const evidence = parseRoot(content.toString('utf8'));
  expect({ namespace: evidence.namespaceURI, name: evidence.localName }).toEqual({
    namespace: EVIDENCE_NS,
    name: 'Evidence',
  });
  const text = (parent: Element, name: string): string | null => child(parent, EVIDENCE_NS, name).textContent;
  expect(text(evidence, 'ERDSEventId')).toBe('ContentConsignment');
  const userContent = child(evidence, EVIDENCE_NS, 'UserContentInfo');
  expect({ ticket: text(userContent, 'Ticket'), token: text(userContent, 'Token') }).toEqual({
    ticket: sent.ticket,
    token: sent.token,
  });
  const eboxMessageId = text(child(evidence, EVIDENCE_NS, 'RecipientDetails'), 'EboxMessageId');
  expect(eboxMessageId).toEqual(expect.stringMatching(/\S/));
  expect(eboxMessageId).toBe(service.eboxMessageIdOf(String(sent.ticket)));
}

/**
 * `openssl cms -verify` of the detached signature over exactly the receipt's (or proof's) bytes, trusting
 * the dev CA; then the CAdES-T checks every receipt passes (openssl ts -verify, Bouncy Castle).
 */
async function expectCmsSignatureVerifies(
  content: Buffer,
  signature: Buffer,
  service: StartedInteropService,
): Promise<void> {
  const result = opensslCmsVerify(signature, content, service.pki.caCertPath);
  expect(result.output).toMatch(/Verification successful/);
  expect(result.status).toBe(0);
  await verifyReceipts([{ label: 'receipt or proof received by the Java client', content, signature }], {
    caFiles: [service.pki.caCertPath],
  });
}
