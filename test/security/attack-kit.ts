import { webcrypto } from 'node:crypto';
import { readFileSync } from 'node:fs';
import { writeFile } from 'node:fs/promises';
import http from 'node:http';
import type { AddressInfo } from 'node:net';
import { DOMParser, XMLSerializer, type Document, type Element } from '@xmldom/xmldom';
import { ManualClock, type Clock } from '../../src/clock/clock';
import { x509 } from '../../src/pki/crypto-engines';
import { issueSenderCertificate, type DevPkiKeyPair, type DevPkiSender } from '../../src/pki/dev-pki';
import { derToPem } from '../../src/pki/pem';
import { senderSubjectRdns } from '../../src/pki/sender-subject';
import { createTestCa, issueTestCertificate } from '../pki/certificate-fixtures';

/*
 * What the attack suite (attack-suite.test.ts) builds its hostile requests from: namespaces, DOM
 * tampering on signed envelopes, the certificates of an attacker (a foreign CA), of an expired and of a
 * revoked sender, a CRL, and an HTTP server that records every request it gets, to prove the service
 * never fetches what a message points at.
 */

/** Namespaces of the envelopes the suite tampers with. */
export const NS = {
  soap11: 'http://schemas.xmlsoap.org/soap/envelope/',
  soap12: 'http://www.w3.org/2003/05/soap-envelope',
  wsse: 'http://docs.oasis-open.org/wss/2004/01/oasis-200401-wss-wssecurity-secext-1.0.xsd',
  wsu: 'http://docs.oasis-open.org/wss/2004/01/oasis-200401-wss-wssecurity-utility-1.0.xsd',
  ds: 'http://www.w3.org/2000/09/xmldsig#',
  xmlns: 'http://www.w3.org/2000/xmlns/',
  v1: 'http://socialsecurity.be/registeredmail/v1',
  types: 'http://socialsecurity.be/registeredmail/types/v1',
} as const;

/** A private key and its certificate, as PEM text. */
export interface Credentials {
  keyPem: string;
  certPem: string;
  certificateDer: Buffer;
}

/** Parses envelope text, lets `change` edit the DOM, and serializes it again. */
export function tamper(xml: string, change: (document: Document) => void): string {
  const document = new DOMParser().parseFromString(xml, 'text/xml');
  change(document);
  return new XMLSerializer().serializeToString(document);
}

/** The first element with this namespace and local name under `scope` (in document order). */
export function first(scope: Document | Element, namespace: string, localName: string): Element {
  const element = scope.getElementsByTagNameNS(namespace, localName).item(0);
  if (!element) throw new Error(`no {${namespace}}${localName}`);
  return element;
}

/** Every element with this namespace and local name under `scope` (in document order). */
export function all(scope: Document | Element, namespace: string, localName: string): Element[] {
  return Array.from(scope.getElementsByTagNameNS(namespace, localName));
}

/** Parses an XML fragment (namespaces ds, wsse, wsu, soapenv, v1 and t in scope) and imports its elements. */
export function fragment(document: Document, xml: string): Element[] {
  const wrapper = new DOMParser().parseFromString(
    `<wrap xmlns:ds="${NS.ds}" xmlns:wsse="${NS.wsse}" xmlns:wsu="${NS.wsu}" xmlns:soapenv="${NS.soap11}" xmlns:v1="${NS.v1}" xmlns:t="${NS.types}">${xml}</wrap>`,
    'text/xml',
  );
  const elements: Element[] = [];
  for (let child = wrapper.documentElement?.firstChild; child; child = child.nextSibling) {
    if (child.nodeType === 1) elements.push(document.importNode(child, true) as Element);
  }
  return elements;
}

/**
 * A header element of the attacker's own (`w:Wrapper`), appended to the SOAP Header: the classic place
 * to hide signed content that a naive receiver still finds by Id.
 */
export function appendWrapperHeader(document: Document): Element {
  const wrapper = document.createElementNS('urn:attacker:wrapper', 'w:Wrapper');
  first(document, NS.soap11, 'Header').appendChild(wrapper);
  return wrapper;
}

/** Inserts raw XML text just before the end of the SOAP Header (after the Security header). */
export function appendToHeaderText(signedXml: string, xml: string): string {
  const end = signedXml.indexOf('</soapenv:Header>');
  if (end < 0) throw new Error('no </soapenv:Header> in the signed envelope');
  return `${signedXml.slice(0, end)}${xml}${signedXml.slice(end)}`;
}

/** The base64 of a PEM certificate's DER (what a BinarySecurityToken or ds:X509Certificate holds). */
export function certificateBase64(certPem: string): string {
  return certPem.replace(/-----[^-]+-----/g, '').replace(/\s+/g, '');
}

/**
 * An attacker's sender certificate: issued by a CA the service does not trust, with the very subject
 * of the victim (same CBE, same application id), so that only trust tells them apart.
 */
export async function foreignSender(victim: { cbe: string; applicationId: string }): Promise<Credentials> {
  const now = Date.now();
  const ca = await createTestCa(
    'Attacker Root CA',
    new Date(now - 86_400_000),
    new Date(now + 365 * 86_400_000),
  );
  const leaf = await issueTestCertificate(ca, {
    subject: senderSubjectRdns({
      organisation: 'RegisteredMail development sender',
      cbe: victim.cbe,
      applicationId: victim.applicationId,
      environment: 'INT',
    }),
    notBefore: new Date(now - 3_600_000),
    notAfter: new Date(now + 30 * 86_400_000),
    keyUsage: x509.KeyUsageFlags.digitalSignature,
  });
  return {
    keyPem: leaf.privateKey.export({ type: 'pkcs8', format: 'pem' }).toString(),
    certPem: derToPem(leaf.certificateDer, 'CERTIFICATE'),
    certificateDer: leaf.certificateDer,
  };
}

function credentialsOf(sender: DevPkiSender): Credentials {
  return {
    keyPem: readFileSync(sender.keyPemPath, 'utf8'),
    certPem: readFileSync(sender.certPemPath, 'utf8'),
    certificateDer: sender.certificateDer,
  };
}

/**
 * A sender certificate of the service's own dev CA that expired two days before `now`: issued with
 * issueSenderCertificate into the dev PKI directory at a clock three days back, valid for one day.
 */
export async function expiredSender(devPkiDir: string, now: Date): Promise<Credentials> {
  const threeDaysBack = new ManualClock(new Date(now.getTime() - 3 * 86_400_000));
  const sender = await issueSenderCertificate(
    devPkiDir,
    { name: 'attack-expired-sender', cbe: '0861023666', applicationId: 'expired-app', validityDays: 1 },
    threeDaysBack,
  );
  return credentialsOf(sender);
}

/** A sender certificate of the dev CA of `devPkiDir`, valid now (to be revoked by {@link writeCrl}). */
export async function issuedSender(devPkiDir: string, name: string, clock: Clock): Promise<Credentials> {
  const sender = await issueSenderCertificate(
    devPkiDir,
    { name, cbe: '0206731645', applicationId: name },
    clock,
  );
  return credentialsOf(sender);
}

/**
 * Writes a PEM CRL (`-----BEGIN X509 CRL-----`) issued by `ca` that revokes `revoked` (keyCompromise,
 * an hour before `now`), with thisUpdate an hour back, nextUpdate a week ahead, the CA's Authority Key
 * Identifier and CRL number 1.
 */
export async function writeCrl(ca: DevPkiKeyPair, revoked: Buffer[], file: string, now: Date): Promise<void> {
  const algorithm = { name: 'RSASSA-PKCS1-v1_5', hash: 'SHA-256' } as const;
  const signingKey = await webcrypto.subtle.importKey(
    'pkcs8',
    ca.privateKey.export({ type: 'pkcs8', format: 'der' }),
    algorithm,
    false,
    ['sign'],
  );
  const caCertificate = new x509.X509Certificate(new Uint8Array(ca.certificateDer));
  const hourBack = new Date(now.getTime() - 3_600_000);
  const crl = await x509.X509CrlGenerator.create({
    issuer: caCertificate.subjectName,
    thisUpdate: hourBack,
    nextUpdate: new Date(now.getTime() + 7 * 86_400_000),
    signingAlgorithm: algorithm,
    signingKey,
    extensions: [
      await x509.AuthorityKeyIdentifierExtension.create(caCertificate),
      // cRLNumber (2.5.29.20): INTEGER 1.
      new x509.Extension('2.5.29.20', false, new Uint8Array([0x02, 0x01, 0x01])),
    ],
    entries: revoked.map((der) => ({
      serialNumber: new x509.X509Certificate(new Uint8Array(der)).serialNumber,
      revocationDate: hourBack,
      reason: x509.X509CrlReason.keyCompromise,
    })),
  });
  // RFC 7468's label; @peculiar/x509's own PEM writes `BEGIN CRL`, which OpenSSL does not read.
  await writeFile(file, derToPem(Buffer.from(crl.rawData), 'X509 CRL'));
}

/** An HTTP server that answers everything and records each request: nothing may ever reach it. */
export interface FetchProbe {
  /** `http://127.0.0.1:<port>` */
  url: string;
  /** `METHOD path` of every request received. */
  requests: string[];
  close(): Promise<void>;
}

/** Starts a {@link FetchProbe} on a free local port. */
export async function startFetchProbe(): Promise<FetchProbe> {
  const requests: string[] = [];
  const server = http.createServer((request, response) => {
    requests.push(`${request.method ?? '?'} ${request.url ?? ''}`);
    response.writeHead(200, { 'Content-Type': 'text/xml' }).end('<probe/>');
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const { port } = server.address() as AddressInfo;
  return {
    url: `http://127.0.0.1:${port}`,
    requests,
    close: () =>
      new Promise<void>((resolve) => {
        server.close(() => resolve());
        server.closeAllConnections();
      }),
  };
}

/** The `reason` the service logged for a refused request (its fault Id is the request id), if any. */
export function loggedReason(logs: readonly string[], requestId: string): string | undefined {
  for (const line of logs) {
    let entry: { requestId?: unknown; reason?: unknown };
    try {
      entry = JSON.parse(line) as typeof entry;
    } catch {
      continue;
    }
    if (entry.requestId === requestId && typeof entry.reason === 'string') return entry.reason;
  }
  return undefined;
}
