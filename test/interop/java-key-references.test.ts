import { createPrivateKey } from 'node:crypto';
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { systemClock } from '../../src/clock/clock';
import { DEV_PKCS12_PASSWORD, ensureDevPki } from '../../src/pki/dev-pki';
import { KnownCertificates } from '../../src/pki/known-certificates';
import { readCertificatesFromPemDirectory } from '../../src/pki/pem';
import { encodePkcs12 } from '../../src/pki/pkcs12';
import { DS_NS } from '../../src/wssecurity/namespaces';
import { processSecurityHeader } from '../../src/wssecurity/process-security-header';
import { issueFromDevCa } from '../policy/policy-test-certificates';
import { parse } from '../wssecurity/wss-test-context';
import {
  compileSupportClasses,
  generateAndCompile,
  lineWithEvent,
  probeJavaToolchain,
  runJavaClient,
  type CompiledClients,
  type JavaToolchain,
} from './java-toolchain';
import { serviceUrls, startServiceForInterop, type StartedInteropService } from './interop-service';

/*
 * WSS4J 1.6 (the Java handler, RM_WSS_KEY_IDENTIFIER) naming the signing certificate in each of the four
 * ways WS-Security allows: a BinarySecurityToken referenced directly, X509IssuerSerial, subject key
 * identifier and SHA-1 thumbprint. The last three carry no certificate: the service resolves them
 * against RM_SENDER_CERTS_DIR, which holds the senders' certificates. First what WSS4J writes (offline),
 * then the served-WSDL client's send + status against the running service, once per kind.
 */

const SETUP_TIMEOUT_MS = 300_000;
const CLIENT_TIMEOUT_MS = 120_000;
const CHECK_EBOX = '--check-ebox=BYPASS';
/** What Java's X500Principal.getName() makes of the dev CA's name, and WSS4J writes as X509IssuerName. */
const DEV_CA_RFC2253 =
  'CN=RegisteredMail Development Root CA,OU=NOT FOR PRODUCTION USE,O=RegisteredMail development PKI,C=BE';
const NO_SKI_ALIAS = 'no-ski-sender';

const KINDS = [
  { kind: 'bst', facts: { kind: 'token-reference' }, tokens: 1, wss4jResults: 3 },
  {
    kind: 'issuer-serial',
    facts: { kind: 'known-certificate', referenceKind: 'issuer-serial' },
    tokens: 0,
    wss4jResults: 2,
  },
  {
    kind: 'ski',
    facts: { kind: 'known-certificate', referenceKind: 'subject-key-identifier' },
    tokens: 0,
    wss4jResults: 2,
  },
  {
    kind: 'thumbprint',
    facts: { kind: 'known-certificate', referenceKind: 'thumbprint' },
    tokens: 0,
    wss4jResults: 2,
  },
] as const;

const probe = probeJavaToolchain();
const describeWithJava = probe.available ? describe : describe.skip;

/** A PKCS#12 key store as the Java clients read it. */
interface KeyStoreEnv {
  RM_P12: string;
  RM_P12_ALIAS: string;
  RM_P12_PASSWORD: string;
}

describeWithJava('WSS4J key references (BST, issuer-serial, SKI, thumbprint) against the service', () => {
  const toolchain = (probe as { toolchain: JavaToolchain }).toolchain;
  let workDir: string;
  let service: StartedInteropService;
  let known: KnownCertificates;
  let devSender: KeyStoreEnv;
  let noSkiSender: KeyStoreEnv;
  let support: CompiledClients;
  let served: CompiledClients;

  beforeAll(async () => {
    workDir = fs.mkdtempSync(path.join(os.tmpdir(), 'rm-interop-key-references-'));
    const dataDir = path.join(workDir, 'data');
    const sendersDir = path.join(workDir, 'known-senders');
    fs.mkdirSync(sendersDir, { recursive: true });

    // The service's dev PKI, made before it starts so that its sender certificate can be made known.
    const pki = await ensureDevPki(path.join(dataDir, 'dev-pki'), systemClock);
    const sender = pki.senders[0];
    fs.copyFileSync(sender.certPemPath, path.join(sendersDir, `${sender.name}.pem`));
    devSender = { RM_P12: sender.p12Path, RM_P12_ALIAS: sender.name, RM_P12_PASSWORD: sender.password };

    // A sender of the same CA without the subjectKeyIdentifier extension: WSS4J computes the identifier.
    const bare = await issueFromDevCa(
      pki,
      `CN=${NO_SKI_ALIAS}, OU=INT, OU=urn:be:fgov:kbo-bce:organization:cbe-number:0861023666, OU=Belgian Federal Government, O=Interop, C=BE`,
      'rsa-2048',
      new Date(),
    );
    fs.writeFileSync(path.join(sendersDir, `${NO_SKI_ALIAS}.pem`), bare.certPem);
    const p12 = path.join(workDir, `${NO_SKI_ALIAS}.p12`);
    fs.writeFileSync(
      p12,
      encodePkcs12({
        alias: NO_SKI_ALIAS,
        privateKey: createPrivateKey(bare.keyPem),
        chain: [bare.certificateDer, pki.ca.certificateDer],
        password: DEV_PKCS12_PASSWORD,
      }),
    );
    noSkiSender = { RM_P12: p12, RM_P12_ALIAS: NO_SKI_ALIAS, RM_P12_PASSWORD: DEV_PKCS12_PASSWORD };

    known = new KnownCertificates(await readCertificatesFromPemDirectory(sendersDir));
    service = await startServiceForInterop({ RM_DATA_DIR: dataDir, RM_SENDER_CERTS_DIR: sendersDir });
    support = await compileSupportClasses(toolchain);
    served = await generateAndCompile(toolchain, serviceUrls(service).wsdl);
  }, SETUP_TIMEOUT_MS);

  afterAll(async () => {
    await service?.close();
    if (workDir) fs.rmSync(workDir, { recursive: true, force: true });
  });

  describe.each(KINDS)('key identifier $kind', ({ kind, facts, tokens, wss4jResults }) => {
    it(
      'WSS4J writes it as expected, its own receiver and our processing verify it',
      async () => {
        const lines = await runJavaClient(toolchain, support, 'SigningSelfTest', [], {
          env: { ...devSender, RM_WSS_KEY_IDENTIFIER: kind },
          timeoutMs: CLIENT_TIMEOUT_MS,
        });
        const signed = lineWithEvent(lines, 'signed');
        expect(signed.wss4jVerifiedActions).toBe(wss4jResults);

        const envelope = parse(String(signed.xml));
        const processed = await processSecurityHeader(envelope, { knownCertificates: known });
        const header = processed.securityHeaders[0];
        expect(header.binarySecurityTokens).toHaveLength(tokens);
        const signature = header.signatures[0];
        expect(signature.key).toMatchObject(facts);
        expect(signature.signatureValue.outcome).toBe('valid');
        expect(signature.references.map((reference) => reference.digest.outcome)).toEqual(
          Array(signature.references.length).fill('valid'),
        );
        if (kind === 'issuer-serial') {
          const issuerName = envelope.envelope.getElementsByTagNameNS(DS_NS, 'X509IssuerName').item(0);
          expect(issuerName?.textContent).toBe(DEV_CA_RFC2253);
        }
      },
      CLIENT_TIMEOUT_MS,
    );

    it(
      'the served-WSDL client sends a document and reads its status',
      async () => {
        const lines = await runJavaClient(
          toolchain,
          served,
          'ServedWsdlClient',
          ['send-citizen', `--wsdl=${serviceUrls(service).wsdl}`, CHECK_EBOX],
          { env: { ...devSender, RM_WSS_KEY_IDENTIFIER: kind }, timeoutMs: CLIENT_TIMEOUT_MS },
        );
        const sent = lineWithEvent(lines, 'sent');
        expect(sent.ticket).toMatch(/^[0-9A-HJ-NP-Z]{13}$/);
        expect(lineWithEvent(lines, 'status')).toMatchObject({ ticket: sent.ticket });
        expect(['PENDING', 'SENT']).toContain(lineWithEvent(lines, 'status').status);
      },
      CLIENT_TIMEOUT_MS,
    );
  });

  it(
    'a subject key identifier WSS4J computes (certificate without the extension) is accepted',
    async () => {
      const lines = await runJavaClient(
        toolchain,
        served,
        'ServedWsdlClient',
        ['send-citizen', `--wsdl=${serviceUrls(service).wsdl}`, CHECK_EBOX],
        { env: { ...noSkiSender, RM_WSS_KEY_IDENTIFIER: 'ski' }, timeoutMs: CLIENT_TIMEOUT_MS },
      );
      const sent = lineWithEvent(lines, 'sent');
      expect(lineWithEvent(lines, 'status')).toMatchObject({ ticket: sent.ticket });
      expect(['PENDING', 'SENT']).toContain(lineWithEvent(lines, 'status').status);
    },
    CLIENT_TIMEOUT_MS,
  );
});
