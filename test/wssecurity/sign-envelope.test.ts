import { createHash, X509Certificate } from 'node:crypto';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { DOMParser, type Document, type Element } from '@xmldom/xmldom';
import { PemFileSigner, type DocumentSigner } from '../../src/evidence/document-signer';
import { TicketNotFoundError } from '../../src/errors/faults';
import { buildFaultDocument } from '../../src/soap/fault-envelope';
import { buildResponseEnvelope } from '../support/response-envelope';
import { childElements, isElementNamed } from '../../src/wssecurity/dom';
import { canonicalizeExclusive } from '../../src/wssecurity/exclusive-c14n';
import {
  BASE64_BINARY_ENCODING,
  DS_NS,
  SOAP11_NS,
  WSSE_NS,
  WSU_NS,
  X509V3_VALUE_TYPE,
} from '../../src/wssecurity/namespaces';
import { processSecurityHeader } from '../../src/wssecurity/process-security-header';
import { EnvelopeSigner, type SignedEnvelope } from '../../src/wssecurity/sign-envelope';
import { appendElement, createDocument, serialize } from '../../src/xml/element-builder';
import {
  appendPayloadElement,
  canonicalPayload,
  createPayloadElement,
  type PayloadElement,
} from '../../src/xml/payload-element';
import { NS } from '../../src/xml/namespaces';
import { runStatus, testWithTool } from '../support/external-tools';
import {
  createWssTestContext,
  disposeWssTestContext,
  NAMESPACE_HEAVY_ENVELOPE,
  parse,
  type WssTestContext,
} from './wss-test-context';

/*
 * The service's response signatures (src/wssecurity/sign-envelope.ts): built on the DOM before the one
 * serialisation, verified by the service's own WS-Security processing on the parsed bytes and by xmlsec1.
 */

let ctx: WssTestContext;
let dir: string;
let documentSigner: PemFileSigner;
let signer: EnvelopeSigner;

beforeAll(async () => {
  ctx = await createWssTestContext();
  dir = mkdtempSync(path.join(os.tmpdir(), 'rm-sign-envelope-'));
  const { signer: key, ca } = ctx.pki;
  documentSigner = new PemFileSigner(key.privateKey, key.certificateDer, [ca.certificateDer]);
  signer = new EnvelopeSigner({ signer: documentSigner, clock: ctx.clock });
});

afterAll(() => {
  disposeWssTestContext(ctx);
  if (dir) rmSync(dir, { recursive: true, force: true });
});

/** A GetStatusResponse payload, built as the v1 renderers build theirs (in its own document). */
function statusPayload(): Element {
  const document = createDocument(NS.registeredMail, 'v1:GetStatusResponse');
  const payload = document.documentElement as Element;
  payload.setAttributeNS(NS.xmlns, 'xmlns:types', NS.types);
  appendElement(payload, NS.types, 'types:Ticket', '0123456789ABC');
  appendElement(payload, NS.types, 'types:Token', 'token <&> "quoted" \u00e9');
  appendElement(payload, NS.types, 'types:Status', 'PENDING');
  return payload;
}

/** The SendDocumentRequest of the namespace workout envelope, as a payload from another document. */
function namespaceHeavyPayload(): Element {
  const parsed = new DOMParser().parseFromString(NAMESPACE_HEAVY_ENVELOPE, 'text/xml');
  const body = childElements(parsed.documentElement as Element)[0];
  return childElements(body)[0];
}

/** {@link statusPayload} as the renderers build a response payload. */
function statusPayloadTree(): PayloadElement {
  const payload = createPayloadElement(NS.registeredMail, 'v1:GetStatusResponse');
  appendPayloadElement(payload, NS.types, 'types:Ticket', '0123456789ABC');
  appendPayloadElement(payload, NS.types, 'types:Token', 'token <&> "quoted" \u00e9');
  appendPayloadElement(payload, NS.types, 'types:Status', 'PENDING');
  return payload;
}

/**
 * A payload that uses the Body's own prefixes (`soapenv` and `wsu` bound as the Body binds them, so not
 * declared again, and `wsu` bound to another namespace below, so declared), a prefix rebound and back,
 * attributes out of order with characters to escape, and text with markup characters.
 */
function namespaceHeavyTree(): PayloadElement {
  const payload = createPayloadElement(NS.registeredMail, 'v1:Workout', { z: '1', a: 'a "quoted" <&>\t' });
  appendPayloadElement(payload, SOAP11_NS, 'soapenv:SameAsBody', 'no declaration here');
  appendPayloadElement(payload, WSU_NS, 'wsu:SameAsBody', (same) =>
    appendPayloadElement(same, 'urn:other-wsu', 'wsu:Rebound', (rebound) =>
      appendPayloadElement(rebound, WSU_NS, 'wsu:Back', 'x < y & y > z'),
    ),
  );
  appendPayloadElement(payload, NS.types, 'v1:RebindsV1', (element) =>
    appendPayloadElement(element, NS.registeredMail, 'v1:BackToV1', ''),
  );
  return payload;
}

function faultDocument(): Document {
  return buildFaultDocument(new TicketNotFoundError(), {
    requestId: '7d0c1a52-7e0f-4c4e-9c55-0d3b7f3f2c11',
    faultNamespace: 'consumer',
    environment: 'INT',
    now: ctx.clock.now(),
  }).document;
}

const ENVELOPES: Array<[string, () => Document]> = [
  ['a getStatus response', () => buildResponseEnvelope(statusPayload())],
  [
    'a payload full of namespace declarations, escapes and CDATA',
    () => buildResponseEnvelope(namespaceHeavyPayload()),
  ],
  ['a fault', faultDocument],
];

async function signedText(document: Document): Promise<{ xml: string; signed: SignedEnvelope }> {
  const signed = await signer.sign(document);
  return { xml: serialize(document).toString('utf8'), signed };
}

function securityChildren(security: Element): string[] {
  return childElements(security).map((element) => element.localName ?? '');
}

function only(parent: Element, namespace: string, localName: string): Element {
  const found = childElements(parent).filter((element) => isElementNamed(element, namespace, localName));
  expect(found).toHaveLength(1);
  return found[0];
}

describe('the Security header of a signed response', () => {
  test.each(ENVELOPES)('%s: Timestamp, token and Signature; no mustUnderstand', async (_name, build) => {
    const { xml } = await signedText(build());
    const envelope = parse(xml);
    const security = only(envelope.header as Element, WSSE_NS, 'Security');
    expect(security.hasAttributeNS(SOAP11_NS, 'mustUnderstand')).toBe(false);
    expect(security.hasAttributeNS(SOAP11_NS, 'actor')).toBe(false);
    expect(securityChildren(security)).toEqual(['Timestamp', 'BinarySecurityToken', 'Signature']);

    const timestamp = only(security, WSU_NS, 'Timestamp');
    expect(childElements(timestamp).map((element) => [element.localName, element.textContent])).toEqual([
      ['Created', ctx.clock.now().toISOString()],
      ['Expires', new Date(ctx.clock.now().getTime() + 300_000).toISOString()],
    ]);

    const token = only(security, WSSE_NS, 'BinarySecurityToken');
    expect(token.getAttribute('ValueType')).toBe(X509V3_VALUE_TYPE);
    expect(token.getAttribute('EncodingType')).toBe(BASE64_BINARY_ENCODING);
    expect(Buffer.from(token.textContent ?? '', 'base64').equals(ctx.pki.signer.certificateDer)).toBe(true);

    const signature = only(security, DS_NS, 'Signature');
    const algorithms = Array.from(signature.getElementsByTagNameNS(DS_NS, '*'))
      .filter((element) => element.hasAttribute('Algorithm'))
      .map((element) => `${element.localName} ${element.getAttribute('Algorithm')}`);
    expect(algorithms).toEqual([
      'CanonicalizationMethod http://www.w3.org/2001/10/xml-exc-c14n#',
      'SignatureMethod http://www.w3.org/2001/04/xmldsig-more#rsa-sha256',
      'Transform http://www.w3.org/2001/10/xml-exc-c14n#',
      'DigestMethod http://www.w3.org/2001/04/xmlenc#sha256',
      'Transform http://www.w3.org/2001/10/xml-exc-c14n#',
      'DigestMethod http://www.w3.org/2001/04/xmlenc#sha256',
    ]);
    const tokenReference = signature.getElementsByTagNameNS(WSSE_NS, 'Reference').item(0);
    expect(tokenReference?.getAttribute('URI')).toBe(`#${token.getAttributeNS(WSU_NS, 'Id')}`);
    expect(tokenReference?.getAttribute('ValueType')).toBe(X509V3_VALUE_TYPE);
  });

  test('an existing Header keeps its content, the Security header comes first', async () => {
    const document = buildResponseEnvelope(statusPayload());
    const envelope = document.documentElement as Element;
    const header = document.createElementNS(SOAP11_NS, 'soapenv:Header');
    envelope.insertBefore(header, envelope.firstChild);
    appendElement(header, 'urn:other', 'o:Other', 'kept');
    const { xml } = await signedText(document);
    expect(childElements(parse(xml).header as Element).map((element) => element.localName)).toEqual([
      'Security',
      'Other',
    ]);
  });

  test('every signature gets fresh Ids, none equal to the fault Id', async () => {
    const first = await signer.sign(faultDocument());
    const second = await signer.sign(faultDocument());
    const ids = [first.body.id, first.timestamp.id, first.tokenId, second.body.id, second.timestamp.id];
    expect(new Set(ids).size).toBe(ids.length);
    expect(ids).not.toContain('7d0c1a52-7e0f-4c4e-9c55-0d3b7f3f2c11');
  });

  test('a second signature of the same envelope is refused', async () => {
    const document = buildResponseEnvelope(statusPayload());
    await signer.sign(document);
    await expect(signer.sign(document)).rejects.toThrow(/already has a Security header/);
  });
});

describe('what was signed is what goes out', () => {
  test.each(ENVELOPES)(
    '%s: the reparsed Body and Timestamp canonicalize to the digested bytes',
    async (_name, build) => {
      const { xml, signed } = await signedText(build());
      const envelope = parse(xml);
      const security = only(envelope.header as Element, WSSE_NS, 'Security');
      const timestamp = only(security, WSU_NS, 'Timestamp');
      expect(canonicalizeExclusive(envelope.body, [])).toBe(signed.body.canonical.toString('utf8'));
      expect(canonicalizeExclusive(timestamp, [])).toBe(signed.timestamp.canonical.toString('utf8'));
      expect(envelope.body.getAttributeNS(WSU_NS, 'Id')).toBe(signed.body.id);
      // The digest written is the digest of those bytes.
      const digestValues = Array.from(security.getElementsByTagNameNS(DS_NS, 'DigestValue')).map(
        (element) => element.textContent,
      );
      expect(digestValues).toEqual([
        createHash('sha256').update(signed.body.canonical).digest('base64'),
        createHash('sha256').update(signed.timestamp.canonical).digest('base64'),
      ]);
    },
  );

  test('a carriage return in text or CDATA (a Token may hold one) reaches the receiver as signed', async () => {
    const payload = statusPayload();
    const token = payload.getElementsByTagNameNS(NS.types, 'Token').item(0) as Element;
    token.textContent = 'line one\r\nline two\r';
    appendElement(payload, NS.types, 'types:Note', (note) =>
      note.appendChild((note.ownerDocument as Document).createCDATASection('cdata\r<kept>')),
    );
    const { xml, signed } = await signedText(buildResponseEnvelope(payload));
    expect(xml).toContain('line one&#13;\nline two&#13;</types:Token>');
    expect(xml).toContain('cdata&#13;&lt;kept&gt;');
    const envelope = parse(xml);
    expect(envelope.payload.getElementsByTagNameNS(NS.types, 'Token').item(0)?.textContent).toBe(
      'line one\r\nline two\r',
    );
    expect(canonicalizeExclusive(envelope.body, [])).toBe(signed.body.canonical.toString('utf8'));
    const facts = await processSecurityHeader(envelope);
    expect(facts.securityHeaders[0].signatures[0].references[0].digest).toEqual({ outcome: 'valid' });
  });

  test('the SignatureValue is the DocumentSigner output, one signature per envelope', async () => {
    const calls: Buffer[] = [];
    const counting: DocumentSigner = {
      certificate: documentSigner.certificate,
      chain: documentSigner.chain,
      async sign(data) {
        calls.push(data);
        return documentSigner.sign(data);
      },
    };
    const document = buildResponseEnvelope(statusPayload());
    const { security } = await new EnvelopeSigner({ signer: counting, clock: ctx.clock }).sign(document);
    expect(calls).toHaveLength(1);
    const signedInfo = security.getElementsByTagNameNS(DS_NS, 'SignedInfo').item(0) as Element;
    expect(calls[0].toString('utf8')).toBe(canonicalizeExclusive(signedInfo, []));
    const value = security.getElementsByTagNameNS(DS_NS, 'SignatureValue').item(0)?.textContent ?? '';
    expect(Buffer.from(value, 'base64').equals(await documentSigner.sign(calls[0]))).toBe(true);
  });

  test('when the DocumentSigner fails, the envelope is left as it was', async () => {
    const failing: DocumentSigner = {
      certificate: documentSigner.certificate,
      chain: [],
      sign: () => Promise.reject(new Error('HSM unreachable')),
    };
    for (const build of [() => buildResponseEnvelope(statusPayload()), faultDocument]) {
      const document = build();
      const before = serialize(document).toString('utf8');
      await expect(new EnvelopeSigner({ signer: failing, clock: ctx.clock }).sign(document)).rejects.toThrow(
        'HSM unreachable',
      );
      expect(serialize(document).toString('utf8')).toBe(before);
    }
  });
});

describe('the service WS-Security processing verifies the signed response', () => {
  test.each(ENVELOPES)(
    '%s: SignatureValue and both digests valid, by node identity',
    async (_name, build) => {
      const { xml, signed } = await signedText(build());
      const envelope = parse(xml);
      const facts = await processSecurityHeader(envelope);
      expect(facts.securityHeaders).toHaveLength(1);
      const [header] = facts.securityHeaders;
      expect(header.mustUnderstand).toBeUndefined();
      const [signature] = header.signatures;
      expect(signature.signatureValue).toEqual({ outcome: 'valid' });
      expect(signature.references.map((reference) => reference.digest)).toEqual([
        { outcome: 'valid' },
        { outcome: 'valid' },
      ]);
      expect(signature.references[0].element).toBe(envelope.body);
      expect(signature.references[1].element).toBe(header.timestamps[0].element);
      expect(signature.key.kind === 'token-reference' && signature.key.token).toBe(
        header.binarySecurityTokens[0],
      );
      expect(header.binarySecurityTokens[0].certificateDer?.equals(ctx.pki.signer.certificateDer)).toBe(true);
      expect(signature.references[0].uri).toBe(`#${signed.body.id}`);
    },
  );

  test.each(ENVELOPES)('%s: one changed byte in the Body breaks the Body digest', async (_name, build) => {
    const { xml } = await signedText(build());
    const tampered = tamperBody(xml);
    const facts = await processSecurityHeader(parse(tampered));
    const [body, timestamp] = facts.securityHeaders[0].signatures[0].references;
    expect(body.digest.outcome).toBe('invalid');
    expect(timestamp.digest).toEqual({ outcome: 'valid' });
  });

  test('a changed Expires breaks the Timestamp digest', async () => {
    const { xml } = await signedText(buildResponseEnvelope(statusPayload()));
    const tampered = xml.replace(
      /(<wsu:Expires>\d{4}-\d\d-\d\dT\d\d:\d\d:)(\d)/,
      (_all, start: string, digit: string) => `${start}${(Number(digit) + 1) % 6}`,
    );
    expect(tampered).not.toBe(xml);
    const facts = await processSecurityHeader(parse(tampered));
    expect(facts.securityHeaders[0].signatures[0].references[1].digest.outcome).toBe('invalid');
  });
});

/** Changes one byte of the Body: the first character of its first text. */
function tamperBody(xml: string): string {
  const bodyStart = xml.indexOf(':Body ');
  const match = />[^<\s]/.exec(xml.slice(bodyStart));
  if (bodyStart < 0 || !match) throw new Error('no Body text to tamper with');
  const at = bodyStart + match.index + 1;
  const replacement = xml[at] === 'X' ? 'Y' : 'X';
  return `${xml.slice(0, at)}${replacement}${xml.slice(at + 1)}`;
}

describe('xmlsec1 verifies the signed response', () => {
  const xmlsecTest = testWithTool('xmlsec1', ['--version']);

  function xmlsecVerify(xml: string): { status: number | null; output: string } {
    const input = path.join(dir, 'response.xml');
    const certificate = path.join(dir, 'service.cert.pem');
    writeFileSync(input, xml);
    writeFileSync(certificate, new X509Certificate(ctx.pki.signer.certificateDer).toString());
    // xmlsec1 does not read a wsse:SecurityTokenReference: it is given the certificate, and the Id
    // attributes by element (it matches the attribute's local name, so wsu:Id).
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
  }

  for (const [name, build] of ENVELOPES) {
    xmlsecTest(`${name}: verifies, both references`, async () => {
      const { xml } = await signedText(build());
      const result = xmlsecVerify(xml);
      expect(result.output).toContain('SignedInfo References (ok/all): 2/2');
      expect(result.status).toBe(0);
    });

    xmlsecTest(`${name}: one changed byte in the Body fails`, async () => {
      const { xml } = await signedText(build());
      const result = xmlsecVerify(tamperBody(xml));
      expect(result.status).not.toBe(0);
    });
  }
});

describe('signPayload: the signed envelope written directly as bytes', () => {
  const PAYLOADS: Array<[string, () => PayloadElement]> = [
    ['a getStatus response', statusPayloadTree],
    ['a payload with several namespaces, rebound prefixes, attributes and escapes', namespaceHeavyTree],
    [
      'a payload with carriage returns in text',
      () => {
        const payload = createPayloadElement(NS.registeredMail, 'v1:GetStatusResponse');
        appendPayloadElement(payload, NS.types, 'types:Token', 'line one\r\nline two\r');
        appendPayloadElement(payload, NS.types, 'types:Note', 'cdata\r<kept>');
        return payload;
      },
    ],
  ];

  async function signedBytes(build: () => PayloadElement) {
    const signed = await signer.signPayload(build());
    return { xml: signed.envelope.toString('utf8'), signed };
  }

  test.each(PAYLOADS)('%s: the same header as sign() writes; no mustUnderstand', async (_name, build) => {
    const { xml } = await signedBytes(build);
    expect(xml.startsWith('<?xml version="1.0" encoding="UTF-8"?>\n<soapenv:Envelope ')).toBe(true);
    const envelope = parse(xml);
    const security = only(envelope.header as Element, WSSE_NS, 'Security');
    expect(security.hasAttributeNS(SOAP11_NS, 'mustUnderstand')).toBe(false);
    expect(securityChildren(security)).toEqual(['Timestamp', 'BinarySecurityToken', 'Signature']);
    const timestamp = only(security, WSU_NS, 'Timestamp');
    expect(childElements(timestamp).map((element) => [element.localName, element.textContent])).toEqual([
      ['Created', ctx.clock.now().toISOString()],
      ['Expires', new Date(ctx.clock.now().getTime() + 300_000).toISOString()],
    ]);
    const token = only(security, WSSE_NS, 'BinarySecurityToken');
    expect(token.getAttribute('ValueType')).toBe(X509V3_VALUE_TYPE);
    expect(token.getAttribute('EncodingType')).toBe(BASE64_BINARY_ENCODING);
    expect(Buffer.from(token.textContent ?? '', 'base64').equals(ctx.pki.signer.certificateDer)).toBe(true);
    const signature = only(security, DS_NS, 'Signature');
    const algorithms = Array.from(signature.getElementsByTagNameNS(DS_NS, '*'))
      .filter((element) => element.hasAttribute('Algorithm'))
      .map((element) => `${element.localName} ${element.getAttribute('Algorithm')}`);
    expect(algorithms).toEqual([
      'CanonicalizationMethod http://www.w3.org/2001/10/xml-exc-c14n#',
      'SignatureMethod http://www.w3.org/2001/04/xmldsig-more#rsa-sha256',
      'Transform http://www.w3.org/2001/10/xml-exc-c14n#',
      'DigestMethod http://www.w3.org/2001/04/xmlenc#sha256',
      'Transform http://www.w3.org/2001/10/xml-exc-c14n#',
      'DigestMethod http://www.w3.org/2001/04/xmlenc#sha256',
    ]);
    const tokenReference = signature.getElementsByTagNameNS(WSSE_NS, 'Reference').item(0);
    expect(tokenReference?.getAttribute('URI')).toBe(`#${token.getAttributeNS(WSU_NS, 'Id')}`);
  });

  test.each(PAYLOADS)(
    '%s: reparsed, Body, Timestamp and SignedInfo canonicalize to the bytes digested and signed',
    async (_name, build) => {
      const { xml, signed } = await signedBytes(build);
      const envelope = parse(xml);
      const security = only(envelope.header as Element, WSSE_NS, 'Security');
      const signedInfo = security.getElementsByTagNameNS(DS_NS, 'SignedInfo').item(0) as Element;
      expect(canonicalizeExclusive(envelope.body, [])).toBe(signed.body.canonical.toString('utf8'));
      expect(canonicalizeExclusive(only(security, WSU_NS, 'Timestamp'), [])).toBe(
        signed.timestamp.canonical.toString('utf8'),
      );
      expect(canonicalizeExclusive(signedInfo, [])).toBe(signed.signedInfo.toString('utf8'));
      expect(envelope.body.getAttributeNS(WSU_NS, 'Id')).toBe(signed.body.id);
      const value = security.getElementsByTagNameNS(DS_NS, 'SignatureValue').item(0)?.textContent ?? '';
      expect(Buffer.from(value, 'base64').equals(await documentSigner.sign(signed.signedInfo))).toBe(true);
    },
  );

  test.each(PAYLOADS)('%s: the Body is sent as the very bytes that were digested', async (_name, build) => {
    const { signed } = await signedBytes(build);
    const end = Buffer.from('</soapenv:Envelope>');
    expect(signed.envelope.subarray(signed.envelope.length - end.length).equals(end)).toBe(true);
    const bodyBytes = signed.envelope.subarray(
      signed.envelope.length - end.length - signed.body.canonical.length,
      signed.envelope.length - end.length,
    );
    expect(bodyBytes.equals(signed.body.canonical)).toBe(true);
  });

  test('the payload reaches the receiver unchanged (carriage returns and escapes included)', async () => {
    const { xml } = await signedBytes(PAYLOADS[2][1]);
    const envelope = parse(xml);
    expect(envelope.payload.getElementsByTagNameNS(NS.types, 'Token').item(0)?.textContent).toBe(
      'line one\r\nline two\r',
    );
    expect(envelope.payload.getElementsByTagNameNS(NS.types, 'Note').item(0)?.textContent).toBe(
      'cdata\r<kept>',
    );
    const heavy = parse((await signedBytes(namespaceHeavyTree)).xml);
    expect(canonicalizeExclusive(heavy.payload, [])).toBe(canonicalPayload(namespaceHeavyTree()));
  });

  test.each(PAYLOADS)('%s: verified by the service processing, by node identity', async (_name, build) => {
    const { xml, signed } = await signedBytes(build);
    const envelope = parse(xml);
    const facts = await processSecurityHeader(envelope);
    const [header] = facts.securityHeaders;
    const [signature] = header.signatures;
    expect(signature.signatureValue).toEqual({ outcome: 'valid' });
    expect(signature.references.map((reference) => reference.digest)).toEqual([
      { outcome: 'valid' },
      { outcome: 'valid' },
    ]);
    expect(signature.references[0].element).toBe(envelope.body);
    expect(signature.references[1].element).toBe(header.timestamps[0].element);
    expect(signature.references[0].uri).toBe(`#${signed.body.id}`);
    expect(signature.key.kind === 'token-reference' && signature.key.token).toBe(
      header.binarySecurityTokens[0],
    );
  });

  test.each(PAYLOADS)('%s: one changed byte in the Body breaks the Body digest', async (_name, build) => {
    const { xml } = await signedBytes(build);
    const facts = await processSecurityHeader(parse(tamperBody(xml)));
    const [body, timestamp] = facts.securityHeaders[0].signatures[0].references;
    expect(body.digest.outcome).toBe('invalid');
    expect(timestamp.digest).toEqual({ outcome: 'valid' });
  });

  test('every envelope gets fresh Ids; a failing signer fails the call', async () => {
    const first = await signer.signPayload(statusPayloadTree());
    const second = await signer.signPayload(statusPayloadTree());
    const ids = [first.body.id, first.timestamp.id, first.tokenId, second.body.id, second.timestamp.id];
    expect(new Set(ids).size).toBe(ids.length);
    const failing: DocumentSigner = {
      certificate: documentSigner.certificate,
      chain: [],
      sign: () => Promise.reject(new Error('HSM unreachable')),
    };
    await expect(
      new EnvelopeSigner({ signer: failing, clock: ctx.clock }).signPayload(statusPayloadTree()),
    ).rejects.toThrow('HSM unreachable');
  });

  const xmlsecTest = testWithTool('xmlsec1', ['--version']);
  for (const [name, build] of PAYLOADS) {
    xmlsecTest(`${name}: xmlsec1 verifies both references; a changed Body byte fails`, async () => {
      const { xml } = await signedBytes(build);
      const certificate = path.join(dir, 'service.cert.pem');
      writeFileSync(certificate, new X509Certificate(ctx.pki.signer.certificateDer).toString());
      const verify = (text: string) => {
        const input = path.join(dir, 'response-bytes.xml');
        writeFileSync(input, text);
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
      const result = verify(xml);
      expect(result.output).toContain('SignedInfo References (ok/all): 2/2');
      expect(result.status).toBe(0);
      expect(verify(tamperBody(xml)).status).not.toBe(0);
    });
  }
});
