import { XMLSerializer, type Document } from '@xmldom/xmldom';
import { processSecurityHeader } from '../../src/wssecurity/process-security-header';
import { DS_NS, WSSE_NS, WSU_NS, X509V3_VALUE_TYPE } from '../../src/wssecurity/namespaces';
import type { SecurityFacts, SignatureFacts } from '../../src/wssecurity/security-facts';
import { WSS_URIS } from '../support/wss-signer';
import {
  createWssTestContext,
  disposeWssTestContext,
  firstElement,
  parse,
  SAMPLE_ENVELOPE,
  tamper,
  type WssTestContext,
} from './wss-test-context';

let ctx: WssTestContext;
beforeAll(async () => {
  ctx = await createWssTestContext();
});
afterAll(() => {
  disposeWssTestContext(ctx);
});

function onlySignature(facts: SecurityFacts): SignatureFacts {
  expect(facts.securityHeaders).toHaveLength(1);
  expect(facts.securityHeaders[0].signatures).toHaveLength(1);
  return facts.securityHeaders[0].signatures[0];
}

function soapBody(document: Document) {
  return firstElement(document, 'http://schemas.xmlsoap.org/soap/envelope/', 'Body');
}

describe('processSecurityHeader on a WSS4J-style request', () => {
  test('reports the header, token, Timestamp and a signature whose references are the very nodes', async () => {
    const envelope = parse(ctx.sign());
    const facts = await processSecurityHeader(envelope);

    const [header] = facts.securityHeaders;
    expect(header.element.parentNode).toBe(envelope.header);
    expect(header.mustUnderstand).toBe('1');
    expect(header.actor).toBeUndefined();
    expect(header.otherChildren).toEqual([]);
    expect(facts.securityElementsElsewhere).toEqual([]);

    const [token] = header.binarySecurityTokens;
    expect(token).toMatchObject({ wsuId: 'X509-1', valueType: X509V3_VALUE_TYPE, contentProblem: undefined });
    expect(token.certificateDer?.equals(ctx.sender.certificateDer)).toBe(true);

    const [timestamp] = header.timestamps;
    expect(timestamp.created).toHaveLength(1);
    expect(timestamp.created[0]).toMatchObject({
      raw: '2025-06-02T09:00:00.000Z',
      timeZone: 'utc',
      textOnly: true,
    });
    expect(timestamp.created[0].date?.toISOString()).toBe('2025-06-02T09:00:00.000Z');
    expect(timestamp.expires[0].date?.toISOString()).toBe('2025-06-02T09:05:00.000Z');
    expect(timestamp.children.map((child) => child.localName)).toEqual(['Created', 'Expires']);

    const signature = onlySignature(facts);
    expect(signature.structureProblems).toEqual([]);
    expect(signature.canonicalizationMethod).toMatchObject({ supported: 'exc-c14n', problem: undefined });
    expect(signature.canonicalizationMethod?.inclusivePrefixes).toEqual([
      'wsse',
      'wsu',
      'soapenv',
      'v1',
      'typ',
    ]);
    expect(signature.signatureMethod.supported).toBe('rsa-sha256');
    expect(signature.signatureValue).toEqual({ outcome: 'valid' });
    expect(signature.key.kind).toBe('token-reference');
    if (signature.key.kind === 'token-reference') {
      expect(signature.key.token).toBe(token);
      expect(signature.key.publicKey).toEqual({ type: 'rsa', modulusBits: 2048 });
      expect(signature.key.ignoredKeyInfoChildren).toEqual([]);
    }
    expect(signature.references.map((reference) => reference.element)).toEqual([
      timestamp.element,
      envelope.body,
      token.element,
    ]);
    expect(signature.references[1].element).toBe(envelope.body);
    for (const reference of signature.references) {
      expect(reference.problems).toEqual([]);
      expect(reference.matches).toHaveLength(1);
      expect(reference.digest).toEqual({ outcome: 'valid' });
      expect(reference.digestMethod.supported).toBe('sha256');
      expect(reference.digestedBytes).toBeGreaterThan(0);
    }
    expect(facts.digestedBytes).toBe(
      signature.references.reduce((sum, reference) => sum + reference.digestedBytes, 0),
    );
    expect(facts.signatureVerifications).toBe(1);
  });

  test('leaves the parsed document untouched', async () => {
    const envelope = parse(ctx.sign());
    const before = new XMLSerializer().serializeToString(envelope.document);
    await processSecurityHeader(envelope);
    expect(new XMLSerializer().serializeToString(envelope.document)).toBe(before);
  });

  test.each([
    ['rsa-sha1', 'sha1'],
    ['rsa-sha512', 'sha512'],
    ['rsa-sha256', 'sha512'],
  ] as const)('evaluates %s with %s digests', async (signatureAlgorithm, digestAlgorithm) => {
    const facts = await processSecurityHeader(parse(ctx.sign({ signatureAlgorithm, digestAlgorithm })));
    const signature = onlySignature(facts);
    expect(signature.signatureMethod.supported).toBe(signatureAlgorithm);
    expect(signature.signatureValue.outcome).toBe('valid');
    expect(signature.references.every((reference) => reference.digest.outcome === 'valid')).toBe(true);
  });

  test('verifies without InclusiveNamespaces and without a signed token (zeep style)', async () => {
    const facts = await processSecurityHeader(
      parse(ctx.sign({ inclusivePrefixes: false, signToken: false, omitMustUnderstand: true })),
    );
    const signature = onlySignature(facts);
    expect(signature.signatureValue.outcome).toBe('valid');
    expect(signature.references).toHaveLength(2);
    expect(signature.references.every((reference) => reference.digest.outcome === 'valid')).toBe(true);
    expect(facts.securityHeaders[0].mustUnderstand).toBeUndefined();
  });
});

describe('cost: nothing is digested unless the structure and key allow it', () => {
  test('an unsigned request digests nothing', async () => {
    const facts = await processSecurityHeader(parse(SAMPLE_ENVELOPE));
    expect(facts).toMatchObject({ securityHeaders: [], digestedBytes: 0, signatureVerifications: 0 });
  });

  test('more than 30 references: reported, nothing verified or digested', async () => {
    const facts = await processSecurityHeader(parse(ctx.sign({ extraSignedHeaders: 28 })));
    const signature = onlySignature(facts);
    expect(signature.references).toHaveLength(31);
    expect(signature.structureProblems).toContain('31 references, more than the limit of 30');
    expect(signature.signatureValue.outcome).toBe('not-evaluated');
    expect(signature.references.every((reference) => reference.digest.outcome === 'not-evaluated')).toBe(
      true,
    );
    expect(facts.digestedBytes).toBe(0);
    expect(facts.signatureVerifications).toBe(0);
  });

  test('exactly 30 references are evaluated', async () => {
    const facts = await processSecurityHeader(parse(ctx.sign({ extraSignedHeaders: 27 })));
    const signature = onlySignature(facts);
    expect(signature.references).toHaveLength(30);
    expect(signature.references.every((reference) => reference.digest.outcome === 'valid')).toBe(true);
  });

  test('more than 5 transforms in a reference: no digest', async () => {
    const xml = tamper(ctx.sign(), (document) => {
      const transforms = firstElement(document, DS_NS, 'Transforms');
      const transform = transforms.firstChild;
      for (let i = 0; i < 5; i += 1) transforms.appendChild(transform!.cloneNode(true));
    });
    const facts = await processSecurityHeader(parse(xml));
    const reference = onlySignature(facts).references[0];
    expect(reference.problems).toContain('6 transforms, more than the limit of 5');
    expect(reference.digest.outcome).toBe('not-evaluated');
    expect(facts.digestedBytes).toBe(0);
  });

  test.each([WSS_URIS.xpathTransform, WSS_URIS.xsltTransform])(
    'transform %s: reported, no digest',
    async (transformUri) => {
      const facts = await processSecurityHeader(parse(ctx.sign({ transformUri })));
      const signature = onlySignature(facts);
      expect(signature.signatureValue.outcome).toBe('valid');
      expect(signature.references[0].transforms[0]).toMatchObject({
        uri: transformUri,
        supported: undefined,
      });
      expect(signature.references[0].problems).toContain(`transform ${transformUri} is not supported`);
      expect(signature.references.every((reference) => reference.digest.outcome === 'not-evaluated')).toBe(
        true,
      );
      expect(facts.digestedBytes).toBe(0);
    },
  );

  test('an HMAC signature method is reported and not evaluated', async () => {
    const facts = await processSecurityHeader(parse(ctx.sign({ signatureMethodUri: WSS_URIS.hmacSha1 })));
    const signature = onlySignature(facts);
    expect(signature.signatureMethod).toEqual({ uri: WSS_URIS.hmacSha1, supported: undefined });
    expect(signature.signatureValue).toEqual({
      outcome: 'not-evaluated',
      reason: `signature method ${WSS_URIS.hmacSha1} is not supported`,
    });
    expect(facts).toMatchObject({ digestedBytes: 0, signatureVerifications: 0 });
  });

  test('an inclusive (non-exclusive) canonicalization method is reported and not evaluated', async () => {
    const inclusive = 'http://www.w3.org/TR/2001/REC-xml-c14n-20010315';
    const xml = tamper(ctx.sign({ inclusivePrefixes: false }), (document) => {
      firstElement(document, DS_NS, 'CanonicalizationMethod').setAttribute('Algorithm', inclusive);
    });
    const facts = await processSecurityHeader(parse(xml));
    const signature = onlySignature(facts);
    expect(signature.canonicalizationMethod).toMatchObject({ uri: inclusive, supported: undefined });
    expect(signature.signatureValue.outcome).toBe('not-evaluated');
    expect(facts).toMatchObject({ digestedBytes: 0, signatureVerifications: 0 });
  });

  test("'#default' in a PrefixList is reported and not evaluated", async () => {
    const xml = tamper(ctx.sign(), (document) => {
      const inclusive = document.getElementsByTagNameNS(
        'http://www.w3.org/2001/10/xml-exc-c14n#',
        'InclusiveNamespaces',
      );
      inclusive.item(0)!.setAttribute('PrefixList', '#default soapenv');
    });
    const facts = await processSecurityHeader(parse(xml));
    const signature = onlySignature(facts);
    expect(signature.canonicalizationMethod?.problem).toMatch(/'#default' .* is not supported/);
    expect(signature.signatureValue.outcome).toBe('not-evaluated');
    expect(facts.digestedBytes).toBe(0);
  });

  test('a SignatureValue made with another key: invalid, and no digest computed', async () => {
    const facts = await processSecurityHeader(parse(ctx.sign({ signingKeyPem: ctx.otherSender.keyPem })));
    const signature = onlySignature(facts);
    expect(signature.signatureValue).toEqual({
      outcome: 'invalid',
      reason: "SignatureValue does not verify with the token's key",
    });
    expect(facts.digestedBytes).toBe(0);
  });

  test('a SignatureValue spelt with non-zero unused bits (the same bytes to a lax decoder) is not base64', async () => {
    let spelt = '';
    const xml = tamper(ctx.sign(), (document) => {
      const value = firstElement(document, DS_NS, 'SignatureValue');
      // RSA-2048: 256 bytes, so the text ends in one character carrying 4 bits, then "==".
      const text = (value.textContent ?? '').trim();
      expect(text.endsWith('==')).toBe(true);
      const last = text[text.length - 3];
      const alphabet = 'ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/';
      spelt = `${text.slice(0, -3)}${alphabet[alphabet.indexOf(last) | 1]}==`;
      value.textContent = spelt;
    });
    expect(Buffer.from(spelt, 'base64')).toHaveLength(256);
    const signature = onlySignature(await processSecurityHeader(parse(xml)));
    expect(signature.structureProblems).toContain('SignatureValue is not base64');
    expect(signature.signatureValue.outcome).not.toBe('valid');
  });

  test('two signatures are reported and neither is evaluated', async () => {
    const xml = tamper(ctx.sign(), (document) => {
      const signature = firstElement(document, DS_NS, 'Signature');
      signature.parentNode!.appendChild(signature.cloneNode(true));
    });
    const facts = await processSecurityHeader(parse(xml));
    const signatures = facts.securityHeaders[0].signatures;
    expect(signatures).toHaveLength(2);
    expect(signatures.map((signature) => signature.signatureValue.outcome)).toEqual([
      'not-evaluated',
      'not-evaluated',
    ]);
    expect(facts).toMatchObject({ digestedBytes: 0, signatureVerifications: 0 });
  });
});

describe('reference resolution over the whole envelope', () => {
  test('a tampered payload: the Body digest does not match', async () => {
    const xml = tamper(ctx.sign(), (document) => {
      firstElement(document, 'http://socialsecurity.be/registeredmail/types/v1', 'Ticket').textContent =
        'ZZZZZZZZZZZZZ';
    });
    const signature = onlySignature(await processSecurityHeader(parse(xml)));
    expect(signature.signatureValue.outcome).toBe('valid');
    expect(signature.references.map((reference) => reference.digest.outcome)).toEqual([
      'valid',
      'invalid',
      'valid',
    ]);
  });

  test('two elements with the same wsu:Id: the reference resolves to none', async () => {
    const xml = tamper(ctx.sign(), (document) => {
      const decoy = document.createElementNS('urn:decoy', 'd:Decoy');
      decoy.setAttributeNS(WSU_NS, 'wsu:Id', 'id-body-1');
      firstElement(document, WSSE_NS, 'Security').parentNode!.appendChild(decoy);
    });
    const envelope = parse(xml);
    const reference = onlySignature(await processSecurityHeader(envelope)).references[1];
    expect(reference.matches.map((match) => match.attributeName)).toEqual(['wsu:Id', 'wsu:Id']);
    expect(reference.element).toBeUndefined();
    expect(reference.problems).toContain("2 elements carry the Id 'id-body-1'");
  });

  test('Id and wsu:Id carrying the same value are both counted', async () => {
    const xml = tamper(ctx.sign(), (document) => {
      const decoy = document.createElementNS('urn:decoy', 'd:Decoy');
      decoy.setAttribute('Id', 'id-body-1');
      firstElement(document, WSSE_NS, 'Security').parentNode!.appendChild(decoy);
    });
    const reference = onlySignature(await processSecurityHeader(parse(xml))).references[1];
    expect(reference.matches.map((match) => match.attributeName)).toEqual(['Id', 'wsu:Id']);
    expect(reference.element).toBeUndefined();
  });

  test('look-alike Id attributes (xml:id, ds:Id) count as claims too', async () => {
    const xml = tamper(ctx.sign(), (document) => {
      const decoy = document.createElementNS('urn:decoy', 'd:Decoy');
      decoy.setAttributeNS('http://www.w3.org/XML/1998/namespace', 'xml:id', 'TS-1');
      firstElement(document, WSSE_NS, 'Security').parentNode!.appendChild(decoy);
    });
    const reference = onlySignature(await processSecurityHeader(parse(xml))).references[0];
    expect(reference.matches.map((match) => [match.attributeName, match.resolving])).toEqual([
      ['wsu:Id', true],
      ['xml:id', false],
    ]);
    expect(reference.element).toBeUndefined();
  });

  test('a comment spliced into signed text leaves the digest valid and is counted', async () => {
    const xml = tamper(ctx.sign(), (document) => {
      const ticket = firstElement(document, 'http://socialsecurity.be/registeredmail/types/v1', 'Ticket');
      const text = ticket.firstChild!;
      ticket.insertBefore(document.createComment(''), text);
      ticket.insertBefore(document.createTextNode('0123456'), ticket.firstChild);
      text.nodeValue = '789ABC';
    });
    const envelope = parse(xml);
    const body = onlySignature(await processSecurityHeader(envelope)).references[1];
    expect(body.element).toBe(envelope.body);
    expect(body.digest.outcome).toBe('valid');
    expect(body.commentsInElement).toBe(1);
  });

  test('a Body moved away keeps a valid digest: only node identity tells', async () => {
    const xml = tamper(ctx.sign(), (document) => {
      const signedBody = soapBody(document);
      const wrapper = document.createElementNS('urn:wrapper', 'w:Wrapper');
      firstElement(document, WSSE_NS, 'Security').parentNode!.appendChild(wrapper);
      const forged = signedBody.cloneNode(false);
      forged.appendChild(document.createElementNS('urn:evil', 'e:Evil'));
      (forged as typeof signedBody).removeAttributeNS(WSU_NS, 'Id');
      signedBody.parentNode!.replaceChild(forged, signedBody);
      wrapper.appendChild(signedBody);
    });
    const envelope = parse(xml);
    const body = onlySignature(await processSecurityHeader(envelope)).references[1];
    expect(body.digest.outcome).toBe('valid');
    expect(body.element).not.toBe(envelope.body);
    expect(body.element?.localName).toBe('Body');
  });
});

describe('key resolution', () => {
  test('another certificate in KeyInfo is ignored: the token key verifies', async () => {
    const facts = await processSecurityHeader(
      parse(ctx.sign({ extraKeyInfoCertPem: ctx.otherSender.certPem })),
    );
    const signature = onlySignature(facts);
    expect(signature.key.kind).toBe('token-reference');
    if (signature.key.kind === 'token-reference') {
      expect(signature.key.ignoredKeyInfoChildren.map((child) => child.localName)).toEqual(['X509Data']);
    }
    expect(signature.signatureValue.outcome).toBe('valid');
  });

  test('signed by the attacker, victim token, attacker certificate in KeyInfo: invalid', async () => {
    const facts = await processSecurityHeader(
      parse(
        ctx.sign({ signingKeyPem: ctx.otherSender.keyPem, extraKeyInfoCertPem: ctx.otherSender.certPem }),
      ),
    );
    expect(onlySignature(facts).signatureValue.outcome).toBe('invalid');
  });

  test.each([
    [
      'subject-key-identifier',
      `<wsse:SecurityTokenReference><wsse:KeyIdentifier ValueType="${X509V3_VALUE_TYPE.replace('X509v3', 'X509SubjectKeyIdentifier')}">AAAA</wsse:KeyIdentifier></wsse:SecurityTokenReference>`,
    ],
    [
      'key-identifier',
      `<wsse:SecurityTokenReference><wsse:KeyIdentifier ValueType="${X509V3_VALUE_TYPE}">AAAA</wsse:KeyIdentifier></wsse:SecurityTokenReference>`,
    ],
    [
      'thumbprint',
      '<wsse:SecurityTokenReference><wsse:KeyIdentifier ValueType="http://docs.oasis-open.org/wss/oasis-wss-soap-message-security-1.1#ThumbprintSHA1">AAAA</wsse:KeyIdentifier></wsse:SecurityTokenReference>',
    ],
    [
      'issuer-serial',
      '<wsse:SecurityTokenReference><ds:X509Data><ds:X509IssuerSerial><ds:X509IssuerName>CN=x</ds:X509IssuerName><ds:X509SerialNumber>1</ds:X509SerialNumber></ds:X509IssuerSerial></ds:X509Data></wsse:SecurityTokenReference>',
    ],
    ['embedded', '<ds:X509Data><ds:X509Certificate>AAAA</ds:X509Certificate></ds:X509Data>'],
    [
      'direct-reference',
      '<wsse:SecurityTokenReference><wsse:Reference URI="#nowhere"/></wsse:SecurityTokenReference>',
    ],
    [
      'direct-reference',
      '<wsse:SecurityTokenReference><wsse:Reference URI="#TS-1"/></wsse:SecurityTokenReference>',
    ],
    ['no-security-token-reference', ''],
  ])('KeyInfo form %s is unresolved and nothing is computed', async (form, keyInfoXml) => {
    const facts = await processSecurityHeader(parse(ctx.sign({ keyInfoXml })));
    const signature = onlySignature(facts);
    expect(signature.key).toMatchObject({ kind: 'unresolved', form });
    expect(signature.signatureValue.outcome).toBe('not-evaluated');
    expect(facts).toMatchObject({ digestedBytes: 0, signatureVerifications: 0 });
  });

  test('a token of another Security header is not the key', async () => {
    const xml = tamper(ctx.sign(), (document) => {
      const security = firstElement(document, WSSE_NS, 'Security');
      const token = firstElement(document, WSSE_NS, 'BinarySecurityToken');
      const other = document.createElementNS(WSSE_NS, 'wsse:Security');
      other.setAttributeNS('http://schemas.xmlsoap.org/soap/envelope/', 'soapenv:actor', 'urn:elsewhere');
      security.parentNode!.appendChild(other);
      other.appendChild(token);
    });
    const facts = await processSecurityHeader(parse(xml));
    expect(facts.securityHeaders).toHaveLength(2);
    expect(facts.securityHeaders[1].actor).toBe('urn:elsewhere');
    expect(facts.securityHeaders[0].signatures[0].key).toMatchObject({
      kind: 'unresolved',
      form: 'direct-reference',
      reason: '#X509-1 is not a BinarySecurityToken of the same Security header',
    });
  });
});
