import { createPrivateKey, X509Certificate } from 'node:crypto';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { appendServiceElement, createRequestEnvelope } from '../../src/client/request-envelope';
import { signRequest } from '../../src/client/sign-request';
import { ManualClock } from '../../src/clock/clock';
import { PemFileSigner } from '../../src/evidence/document-signer';
import { parseEnvelope } from '../../src/soap/parse-envelope';
import { processSecurityHeader } from '../../src/wssecurity/process-security-header';
import { runStatus, testWithTool } from '../support/external-tools';
import { selfSignedCertificate, type PemKeyPair } from '../support/test-certificates';

/*
 * The client's requests are signed as a WSS4J client signs them: checked here with the service's own
 * WS-Security processing and with xmlsec1, which nobody here wrote (the end-to-end tests show the service
 * accepts them).
 */

const SOAP = 'http://schemas.xmlsoap.org/soap/envelope/';
const WSSE = 'http://docs.oasis-open.org/wss/2004/01/oasis-200401-wss-wssecurity-secext-1.0.xsd';

describe('signRequest', () => {
  let sender: PemKeyPair;
  let dir: string;
  const clock = new ManualClock('2025-01-31T09:15:00.000Z');

  beforeAll(async () => {
    sender = await selfSignedCertificate({ commonName: 'cli sender' });
    dir = mkdtempSync(path.join(os.tmpdir(), 'rm-cli-sign-'));
  });
  afterAll(() => rmSync(dir, { recursive: true, force: true }));

  async function signedStatusRequest(): Promise<Buffer> {
    const { document, payload } = createRequestEnvelope('GetStatusRequest');
    appendServiceElement(payload, 'Ticket', '7K3M9QX2BH4TZ');
    const signer = new PemFileSigner(
      createPrivateKey(sender.keyPem),
      Buffer.from(new X509Certificate(sender.certPem).raw),
    );
    return signRequest(document, signer, clock);
  }

  test('Security (mustUnderstand 1): Timestamp at the clock time, token, RSA-SHA256 over Body and Timestamp', async () => {
    const envelope = parseEnvelope(await signedStatusRequest(), { maxDepth: 64, maxElements: 1000 });
    const facts = await processSecurityHeader(envelope);
    const [header] = facts.securityHeaders;
    expect(header.mustUnderstand).toBe('1');
    expect(header.element.namespaceURI).toBe(WSSE);
    expect(header.timestamps[0].created[0].date).toEqual(clock.now());
    expect(header.timestamps[0].expires[0].date).toEqual(new Date(clock.now().getTime() + 300_000));
    expect(header.binarySecurityTokens.map((token) => token.certificateDer)).toEqual([
      Buffer.from(new X509Certificate(sender.certPem).raw),
    ]);
    const [signature] = header.signatures;
    expect(signature.signatureMethod.supported).toBe('rsa-sha256');
    expect(signature.signatureValue).toEqual({ outcome: 'valid' });
    expect(
      signature.references.map((reference) => [
        reference.element,
        reference.digestMethod.supported,
        reference.digest,
      ]),
    ).toEqual([
      [envelope.body, 'sha256', { outcome: 'valid' }],
      [header.timestamps[0].element, 'sha256', { outcome: 'valid' }],
    ]);
    expect(envelope.body.namespaceURI).toBe(SOAP);
  });

  testWithTool('xmlsec1', ['--version'])('verifies with xmlsec1, and not once the Body changes', async () => {
    const certificate = path.join(dir, 'sender.cert.pem');
    writeFileSync(certificate, sender.certPem);
    const verify = (xml: string) => {
      const input = path.join(dir, 'request.xml');
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
    const signed = (await signedStatusRequest()).toString('utf8');
    expect(verify(signed)).toMatchObject({ status: 0 });
    expect(verify(signed.replace('7K3M9QX2BH4TZ', '7K3M9QX2BH4TA')).status).not.toBe(0);
  });
});
