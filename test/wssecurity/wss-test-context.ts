import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { DOMParser, XMLSerializer, type Document, type Element } from '@xmldom/xmldom';
import { ManualClock } from '../../src/clock/clock';
import type { SecuritySettings } from '../../src/config/config';
import { ensureDevPki, issueSenderCertificate, type DevPki } from '../../src/pki/dev-pki';
import { parseEnvelope, type ParsedEnvelope } from '../../src/soap/parse-envelope';
import { signEnvelope, type WssSignOptions } from '../support/wss-signer';

/*
 * Shared set-up of the WS-Security and policy tests: a dev PKI (src/pki/dev-pki.ts) under a ManualClock,
 * a second, untrusted PKI for the attacker, and helpers to sign, tamper with and parse envelopes.
 */

/** A key and certificate as PEM, and the certificate's DER. */
export interface TestCredentials {
  keyPem: string;
  certPem: string;
  certificateDer: Buffer;
}

export interface WssTestContext {
  /** The temp directory holding the PKIs; {@link disposeWssTestContext} removes it. */
  dir: string;
  clock: ManualClock;
  /** The trusted dev PKI. */
  pki: DevPki;
  /** dev-sender-1 (CBE 0861023666, INT). */
  sender: TestCredentials;
  /** dev-sender-2 of the same PKI: a trusted third party. */
  otherSender: TestCredentials;
  /** A sender of the same PKI whose environment OU is ACC. */
  accSender: TestCredentials;
  /** A sender certificate issued by another, untrusted CA. */
  foreignSender: TestCredentials;
  /** Signs {@link SAMPLE_ENVELOPE} (or `xml`) as the sender at the clock's time. */
  sign(options?: Partial<WssSignOptions>, xml?: string): string;
}

/** A clock start that the dev certificates (valid from an hour before) cover. */
export const TEST_START = new Date('2025-06-02T09:00:00.000Z');

export const DEFAULT_SECURITY_SETTINGS: SecuritySettings = {
  allowSha1: false,
  clockSkewSeconds: 60,
  timestampMaxAgeSeconds: 300,
};

/** A getStatus request as SoapUI would write it: namespaces declared on the Envelope. */
export const SAMPLE_ENVELOPE = [
  '<soapenv:Envelope xmlns:soapenv="http://schemas.xmlsoap.org/soap/envelope/"',
  ' xmlns:v1="http://socialsecurity.be/registeredmail/v1" xmlns:typ="http://socialsecurity.be/registeredmail/types/v1">',
  '<soapenv:Header/>',
  '<soapenv:Body>',
  '<v1:GetStatusRequest><typ:Ticket>0123456789ABC</typ:Ticket><typ:Note a="1 &amp; 2">x &lt; y</typ:Note></v1:GetStatusRequest>',
  '</soapenv:Body>',
  '</soapenv:Envelope>',
].join('');

/**
 * A canonicalization workout: an upper-case envelope prefix (JAX-WS's `S`), namespace declarations on
 * ancestors, redeclarations, default namespaces and undeclarations, attributes whose order by (URI, local
 * name) differs from their order by URI + local name, escapes, a carriage return, CDATA, non-ASCII text.
 */
export const NAMESPACE_HEAVY_ENVELOPE = [
  '<S:Envelope xmlns:S="http://schemas.xmlsoap.org/soap/envelope/" xmlns:unused="urn:unused"',
  ' xmlns:v1="http://socialsecurity.be/registeredmail/v1" xmlns:y="urn:y">\n',
  '<S:Body>\n',
  '  <v1:SendDocumentRequest xmlns="urn:default" xmlns:z="urn:z" z:b="2" a="1" y:c="3">\n',
  '    <child xmlns="">text &amp; &lt; &gt; " \' &#13; \u00e9 \u2713 \u{1F600}</child>\n',
  '    <z:inner xmlns:z="urn:z2" attr="&quot;q&quot; &#9; &#10; &lt; &amp; \'" y:attr="x"><![CDATA[cdata <here> & ]]></z:inner>\n',
  '    <plain b="1" a="2" z:c="3" xmlns:unused="urn:unused"/>\n',
  '    <order xmlns:p="urn:a" xmlns:q="urn:ab" q:a="1" p:zz="2" Z="3" a="4"/>\n',
  '    <v1:Nested xmlns:v1="http://socialsecurity.be/registeredmail/v1"><y:deep xmlns:y="urn:y-other"/></v1:Nested>\n',
  '  </v1:SendDocumentRequest>\n',
  '</S:Body>\n',
  '</S:Envelope>\n',
].join('');

function credentials(keyPemPath: string, certPemPath: string, certificateDer: Buffer): TestCredentials {
  return {
    keyPem: readFileSync(keyPemPath, 'utf8'),
    certPem: readFileSync(certPemPath, 'utf8'),
    certificateDer,
  };
}

/** Generates the PKIs (a few seconds: call once per test file, in beforeAll). */
export async function createWssTestContext(): Promise<WssTestContext> {
  const clock = new ManualClock(TEST_START);
  const dir = mkdtempSync(path.join(os.tmpdir(), 'wss-test-'));
  const pki = await ensureDevPki(path.join(dir, 'trusted'), clock);
  const acc = await issueSenderCertificate(
    path.join(dir, 'trusted'),
    { name: 'acc-sender', cbe: '0406798006', applicationId: 'acc-app', environment: 'ACC' },
    clock,
  );
  const foreignPki = await ensureDevPki(path.join(dir, 'foreign'), clock);
  const [first, second] = pki.senders;
  const sender = credentials(first.keyPemPath, first.certPemPath, first.certificateDer);
  return {
    dir,
    clock,
    pki,
    sender,
    otherSender: credentials(second.keyPemPath, second.certPemPath, second.certificateDer),
    accSender: credentials(acc.keyPemPath, acc.certPemPath, acc.certificateDer),
    foreignSender: credentials(
      foreignPki.senders[0].keyPemPath,
      foreignPki.senders[0].certPemPath,
      foreignPki.senders[0].certificateDer,
    ),
    sign: (options = {}, xml = SAMPLE_ENVELOPE) =>
      signEnvelope(xml, { keyPem: sender.keyPem, certPem: sender.certPem, created: clock.now(), ...options }),
  };
}

/** Removes the context's temp directory (call in afterAll). */
export function disposeWssTestContext(context: WssTestContext | undefined): void {
  if (context) rmSync(context.dir, { recursive: true, force: true });
}

/** Parses envelope text with the SOAP layer's own parser, as the service does. */
export function parse(xml: string): ParsedEnvelope {
  return parseEnvelope(Buffer.from(xml, 'utf8'), { maxDepth: 64, maxElements: 20_000 });
}

/** Parses, lets `change` edit the DOM, and serializes again: for building tampered envelopes. */
export function tamper(xml: string, change: (document: Document) => void): string {
  const document = new DOMParser().parseFromString(xml, 'text/xml');
  change(document);
  return new XMLSerializer().serializeToString(document);
}

/** The first element of a document with the given namespace and local name. */
export function firstElement(document: Document, namespace: string, localName: string): Element {
  const element = document.getElementsByTagNameNS(namespace, localName).item(0);
  if (!element) throw new Error(`no {${namespace}}${localName}`);
  return element;
}
