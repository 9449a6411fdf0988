import { createHash } from 'node:crypto';
import * as fs from 'node:fs';
import * as http from 'node:http';
import type { AddressInfo } from 'node:net';
import * as os from 'node:os';
import * as path from 'node:path';
import { pathToFileURL } from 'node:url';
import {
  compileSupportClasses,
  generateAndCompile,
  lineWithEvent,
  probeJavaToolchain,
  runJavaClient,
  type CompiledClients,
  type JavaToolchain,
} from './java-toolchain';
import { findOnPath, runTool, unavailable } from './run-tool';
import {
  child,
  childElements,
  childText,
  inspectSignedEnvelope,
  NS,
  parseRoot,
  splitMultipart,
} from './wire-checks';

/**
 * The Java side of the interop tests, without our server: the published WSDL goes through wsimport and
 * javac, the WSS4J handler signs, and the published-WSDL client is pointed at a stand-in peer that
 * records the request and answers a FILE_B01 fault in both namespace forms.
 */

const PUBLISHED_WSDL = path.resolve(__dirname, '../../../shared/contract/published/RegisteredMail_v1.wsdl');
const SENDER_ALIAS = 'dev-sender-1';
const P12_PASSWORD = 'changeit';

const probe = probeToolchain();
const describeWithJava = probe.available ? describe : describe.skip;

function probeToolchain():
  { available: true; toolchain: JavaToolchain } | { available: false; reason: string } {
  const java = probeJavaToolchain();
  if (!java.available) return java;
  if (!findOnPath('openssl')) return unavailable('openssl not found (Debian package openssl)');
  if (!fs.existsSync(PUBLISHED_WSDL)) return unavailable(`published WSDL not found at ${PUBLISHED_WSDL}`);
  return java;
}

describeWithJava('Java interop clients, offline (wsimport + javac + WSS4J 1.6)', () => {
  const toolchain = (probe as { toolchain: JavaToolchain }).toolchain;
  let workDir: string;
  let senderEnv: Record<string, string>;

  beforeAll(async () => {
    workDir = fs.mkdtempSync(path.join(os.tmpdir(), 'rm-interop-offline-'));
    const p12 = await makeSenderP12(workDir);
    senderEnv = { RM_P12: p12, RM_P12_ALIAS: SENDER_ALIAS, RM_P12_PASSWORD: P12_PASSWORD };
  });

  afterAll(() => {
    fs.rmSync(workDir, { recursive: true, force: true });
  });

  it('the WSS4J handler signs Body, Timestamp and token with RSA-SHA256, SHA-256 and exc-c14n', async () => {
    const support = await compileSupportClasses(toolchain);
    const lines = await runJavaClient(toolchain, support, 'SigningSelfTest', [], { env: senderEnv });
    const signed = lineWithEvent(lines, 'signed');

    // WSS4J's own receiver accepts it (Timestamp, token and signature results) ...
    expect(signed.wss4jVerifiedActions).toBe(3);
    // ... and so does xml-crypto, reading the same text.
    const facts = inspectSignedEnvelope(String(signed.xml));
    expect(facts.signatureValid).toBe(true);
    expect(facts.headerOrder).toEqual(['Timestamp', 'BinarySecurityToken', 'Signature']);
    expect(Date.parse(facts.timestampExpires) - Date.parse(facts.timestampCreated)).toBe(300_000);
    expect(facts.tokenValueType).toMatch(/#X509v3$/);
    expect(facts.signatureMethod).toBe('http://www.w3.org/2001/04/xmldsig-more#rsa-sha256');
    expect(facts.canonicalizationMethod).toBe('http://www.w3.org/2001/10/xml-exc-c14n#');
    expect(facts.referencedElements).toEqual(['Body', 'Timestamp', 'BinarySecurityToken']);
    expect(facts.digestMethods).toEqual(Array(3).fill('http://www.w3.org/2001/04/xmlenc#sha256'));
    expect(facts.transforms).toEqual(Array(3).fill('http://www.w3.org/2001/10/xml-exc-c14n#'));
  });

  describe('client generated from the published WSDL', () => {
    let compiled: CompiledClients;
    let peer: StandInPeer;

    beforeAll(async () => {
      compiled = await generateAndCompile(toolchain, PUBLISHED_WSDL);
      peer = new StandInPeer();
      await peer.start();
    });

    afterAll(async () => {
      await peer.stop();
    });

    function runPublishedClient(scenario: string): ReturnType<typeof runJavaClient> {
      return runJavaClient(
        toolchain,
        compiled,
        'PublishedWsdlClient',
        [scenario, `--wsdl=${pathToFileURL(PUBLISHED_WSDL).href}`, `--endpoint=${peer.url}`],
        { env: senderEnv },
      );
    }

    it('wsimport generates the provider-form fault classes and javac compiles the clients', () => {
      const businessError = path.join(
        compiled.generatedSourcesDir,
        'be/socialsecurity/registeredmail/v1/BusinessError.java',
      );
      expect(fs.readFileSync(businessError, 'utf8')).toContain(
        '@WebFault(name = "BusinessError", targetNamespace = "http://socialsecurity.be/errors/serviceprovider/v1")',
      );
      for (const name of ['PublishedWsdlClient', 'ServedWsdlClient', 'WssSigningHandler']) {
        expect(fs.existsSync(path.join(compiled.classesDir, 'interop', `${name}.class`))).toBe(true);
      }
      if (!compiled.fromCache) {
        console.log(
          `published WSDL: wsimport ${compiled.timings.wsimportMs} ms, javac ${compiled.timings.javacMs} ms`,
        );
      }
    });

    it('sends a signed SOAP-with-Attachments request whose cid: references and digests hold', async () => {
      peer.answer = faultResponse('provider');
      await runPublishedClient('fault');
      const request = peer.lastRequest();

      expect(request.headers['soapaction']).toBe('""');
      const contentType = request.headers['content-type'] ?? '';
      expect(contentType).toMatch(/^multipart\/related;/);
      expect(contentType).toContain('type="text/xml"');
      const [root, ...attachments] = splitMultipart(contentType, request.body);
      expect(attachments).toHaveLength(3);

      const envelope = root.body.toString('utf8');
      expect(inspectSignedEnvelope(envelope).signatureValid).toBe(true);

      // Every Content names an attachment; annex digests are right, the document's is wrong on purpose.
      const body = child(parseRoot(envelope), NS.soap, 'Body');
      const item = child(child(body, NS.rm, 'SendDocumentRequest'), NS.types, 'RegisteredMailItem');
      const files = childElements(item).filter((element) =>
        ['Document', 'Annex'].includes(element.localName ?? ''),
      );
      const digests = files.map((file) => {
        const cid = childText(file, NS.types, 'Content').replace(/^cid:/, '');
        const part = attachments.find((candidate) => candidate.headers['content-id'] === `<${cid}>`);
        if (!part) throw new Error(`no attachment for cid:${cid}`);
        const announced = childText(child(file, NS.types, 'Digest'), NS.types, 'DigestValue');
        return announced === createHash('sha256').update(part.body).digest('base64');
      });
      expect(digests).toEqual([false, true, true]);
    });

    it('a provider-form fault arrives as the generated BusinessError with its faultInfo', async () => {
      peer.answer = faultResponse('provider');
      const fault = lineWithEvent(await runPublishedClient('fault'), 'fault');
      expect(fault).toMatchObject({
        via: 'generated-exception',
        exceptionClass: 'be.socialsecurity.registeredmail.v1.BusinessError',
        faultInfoClass: 'be.socialsecurity.errors.serviceprovider.v1.ServiceErrorType',
        faultstring: 'FILE_B01',
        code: 'FILE_B01',
        actor: 'urn:stand-in-peer',
      });
    });

    it('a consumer-form (errors/v1) fault arrives as a SOAPFaultException with that detail', async () => {
      peer.answer = faultResponse('consumer');
      const fault = lineWithEvent(await runPublishedClient('fault'), 'fault');
      expect(fault).toMatchObject({
        via: 'soap-fault-exception',
        faultstring: 'FILE_B01',
        detailNamespace: 'http://socialsecurity.be/errors/v1',
        detailElement: 'BusinessError',
        code: 'FILE_B01',
      });
    });
  });
});

/** A sender key store as the dev PKI makes them: PKCS#12, password changeit, key entry named after the sender. */
async function makeSenderP12(dir: string): Promise<string> {
  const key = path.join(dir, 'sender.key');
  const cert = path.join(dir, 'sender.pem');
  const p12 = path.join(dir, `${SENDER_ALIAS}.p12`);
  const subject =
    '/C=BE/O=Interop Test/OU=Belgian Federal Government' +
    '/OU=urn:be:fgov:kbo-bce:organization:cbe-number:0206731645/OU=INT/CN=' +
    SENDER_ALIAS;
  await runTool(
    'openssl',
    ['req', '-x509', '-newkey', 'rsa:2048', '-nodes', '-keyout', key, '-out', cert].concat([
      '-days',
      '2',
      '-subj',
      subject,
    ]),
  );
  await runTool(
    'openssl',
    ['pkcs12', '-export', '-inkey', key, '-in', cert, '-name', SENDER_ALIAS].concat([
      '-passout',
      `pass:${P12_PASSWORD}`,
      '-out',
      p12,
    ]),
  );
  return p12;
}

/** A SOAP 1.1 FILE_B01 fault in the consumer (errors/v1) or provider (errors/serviceprovider/v1) form. */
function faultResponse(form: 'consumer' | 'provider'): string {
  const ns =
    form === 'provider'
      ? 'http://socialsecurity.be/errors/serviceprovider/v1'
      : 'http://socialsecurity.be/errors/v1';
  const providerFields =
    form === 'provider'
      ? '<err:Actor>urn:stand-in-peer</err:Actor><err:DateTime>2026-01-01T00:00:00Z</err:DateTime>'
      : '';
  return (
    '<soapenv:Envelope xmlns:soapenv="http://schemas.xmlsoap.org/soap/envelope/"><soapenv:Body><soapenv:Fault>' +
    '<faultcode>soapenv:Client</faultcode><faultstring>FILE_B01</faultstring><detail>' +
    `<err:BusinessError xmlns:err="${ns}" Id="7d1f0b7e-0000-4000-8000-000000000001">` +
    '<err:Origin>RegisteredMail</err:Origin><err:Code>FILE_B01</err:Code>' +
    `<err:Message xml:lang="en">Digest doesn't match document.</err:Message>${providerFields}` +
    '</err:BusinessError></detail></soapenv:Fault></soapenv:Body></soapenv:Envelope>'
  );
}

/** Records each request and answers `answer` with HTTP 500, as a SOAP 1.1 service answers a fault. */
class StandInPeer {
  answer = '';
  url = '';
  private readonly requests: { headers: http.IncomingHttpHeaders; body: Buffer }[] = [];
  private readonly server = http.createServer((req, res) => {
    const chunks: Buffer[] = [];
    req.on('data', (chunk: Buffer) => chunks.push(chunk));
    req.on('end', () => {
      this.requests.push({ headers: req.headers, body: Buffer.concat(chunks) });
      res.writeHead(500, { 'content-type': 'text/xml; charset=utf-8' });
      res.end(this.answer);
    });
  });

  async start(): Promise<void> {
    await new Promise<void>((resolve) => this.server.listen(0, '127.0.0.1', resolve));
    this.url = `http://127.0.0.1:${(this.server.address() as AddressInfo).port}/RegisteredMail/v1`;
  }

  async stop(): Promise<void> {
    this.server.closeAllConnections();
    await new Promise<void>((resolve) => this.server.close(() => resolve()));
  }

  lastRequest(): { headers: http.IncomingHttpHeaders; body: Buffer } {
    const last = this.requests.at(-1);
    if (!last) throw new Error('the stand-in peer received no request');
    return last;
  }
}
