import { spawnSync } from 'node:child_process';
import * as fs from 'node:fs';
import * as path from 'node:path';
import { serviceUrls, startServiceForInterop, type StartedInteropService } from './interop-service';
import { SYSTEM_PYTHON } from './python-zeep';
import { runTool, unavailable } from './run-tool';

/**
 * A Python integrator's calls: python/call_service.py signs with zeep's BinarySignature (RSA-SHA256,
 * SHA-256 digests, a signed wsu:Timestamp it adds) and calls healthCheck, getStatus of an unknown ticket,
 * then sends a document as SOAP with Attachments and reads its status. zeep verifies the signature of
 * every response (faults included) with the certificate of its token, which must be issued by the
 * service CA, and rejects a response with one changed byte.
 */

const CALL_SERVICE = path.join(__dirname, 'python', 'call_service.py');
const TIMEOUT_MS = 120_000;

type Line = { event: string } & Record<string, string | number | boolean | null>;

const probe = probeZeepWithXmlsec();
const describeWithZeep = probe.available ? describe : describe.skip;

/** The system Python when it imports zeep and xmlsec (the signing); otherwise the skip reason. */
function probeZeepWithXmlsec(): { available: true } | { available: false; reason: string } {
  if (!fs.existsSync(SYSTEM_PYTHON))
    return unavailable(`${SYSTEM_PYTHON} not found (Debian package python3)`);
  const check = spawnSync(SYSTEM_PYTHON, ['-c', 'import zeep, xmlsec'], { encoding: 'utf8' });
  if (check.status !== 0) {
    return unavailable(
      `${SYSTEM_PYTHON} cannot import zeep and xmlsec (Debian packages python3-zeep, python3-xmlsec): ` +
        check.stderr.trim(),
    );
  }
  return { available: true };
}

describeWithZeep('zeep (Python) calls RegisteredMail v1 with signed requests', () => {
  let service: StartedInteropService;
  let lines: Line[];

  beforeAll(async () => {
    service = await startServiceForInterop();
    const sender = service.pki.senders[0];
    if (!sender) throw new Error('the service started without any dev sender');
    const document = path.join(service.workDir, 'document.pdf');
    fs.writeFileSync(document, '%PDF-1.4\n% RegisteredMail zeep interop test\n%%EOF\n');
    const { stdout } = await runTool(
      SYSTEM_PYTHON,
      [
        CALL_SERVICE,
        `--wsdl=${serviceUrls(service).wsdl}`,
        `--key=${sender.keyPemPath}`,
        `--cert=${sender.certPemPath}`,
        `--service-ca=${service.pki.caCertPath}`,
        `--document=${document}`,
      ],
      { timeoutMs: TIMEOUT_MS },
    );
    lines = stdout
      .split('\n')
      .filter((line) => line.startsWith('{'))
      .map((line) => JSON.parse(line) as Line);
  }, TIMEOUT_MS);

  afterAll(async () => {
    await service?.close();
  });

  const lineWith = (event: string, operation?: string): Line => {
    const found = lines.find((line) => line.event === event && (!operation || line.operation === operation));
    if (!found) throw new Error(`no "${event}" line in the client's output: ${JSON.stringify(lines)}`);
    return found;
  };

  it('healthCheck (PING) answers OK', () => {
    expect(lineWith('healthCheck')).toMatchObject({ level: 'OK' });
  });

  it('getStatus of an unknown ticket raises zeep Fault REPO_B01 with the errors/v1 BusinessError', () => {
    const fault = lineWith('fault', 'getStatus');
    expect(fault).toMatchObject({
      faultstring: 'REPO_B01',
      detailNamespace: 'http://socialsecurity.be/errors/v1',
      detailElement: 'BusinessError',
      code: 'REPO_B01',
    });
    expect(String(fault.faultcode)).toMatch(/:Client$/);
    expect(fault.id).toEqual(expect.any(String));
  });

  it('sendDocument (multipart/related, swaRef) answers a receipt whose digest matches its attachment', () => {
    const sent = lineWith('sent');
    expect(sent.ticket).toMatch(/^[0-9A-HJ-NP-Z]{13}$/);
    expect(sent.token).toBe(sent.requestToken);
    expect(sent).toMatchObject({ receiptFileName: 'Receipt.xml', receiptDigestMethod: 'SHA-256' });
    expect(sent.receiptDigest).toBe(sent.receiptBytesSha256);
    expect(sent.receiptSignatureBytes).toBeGreaterThan(0);
  });

  it('getStatus of the new ticket answers its status, with the ProofOfDispatch part once SENT', () => {
    const sent = lineWith('sent');
    const status = lineWith('status');
    expect(status).toMatchObject({ ticket: sent.ticket, token: sent.token });
    // Delivery runs in the background: the item may already lie in the e-Box.
    if (status.status === 'SENT')
      expect(status).toMatchObject({ proofOfDispatch: true, proofAttached: true });
    else expect(status).toMatchObject({ status: 'PENDING', proofOfDispatch: false });
  });

  it('zeep verified the signature of every response, faults and the multipart one included', () => {
    // healthCheck, the getStatus fault, sendDocument, getStatus: each went through SignedRequest.verify.
    expect(lineWith('verified')).toMatchObject({ responses: 4 });
    expect(String(lineWith('verified').certificateSubject)).toMatch(/Receipt Signer/);
  });

  it('zeep rejects a healthCheck response with one changed Body byte, after accepting it as received', () => {
    expect(lineWith('tampered')).toMatchObject({
      acceptedAsReceived: true,
      rejected: true,
      error: 'SignatureVerificationFailed',
    });
  });
});
