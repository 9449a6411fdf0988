import { createPublicKey } from 'node:crypto';
import fs from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import type { Document, Element } from '@xmldom/xmldom';
import { CertificateValidator } from '../../src/pki/certificate-validator';
import { senderIdentityFromCertificate } from '../../src/pki/sender-identity';
import { enforceV1Policy } from '../../src/policy/enforce-v1-policy';
import { parseEnvelope, type ParsedEnvelope } from '../../src/soap/parse-envelope';
import { processSecurityHeader } from '../../src/wssecurity/process-security-header';
import type { SecurityFacts } from '../../src/wssecurity/security-facts';
import { storedState, type StoredState } from '../support/data-dir-state';
import { expectFault, type ExpectedFault } from '../support/fault-assertions';
import { startTestService, type TestSender, type TestService } from '../support/service-fixture';
import { parseResponse, type HttpResult } from '../support/soap-client';
import { partsOf, samplePdf, sendDocumentEnvelope, type SendDocumentSpec } from '../support/v1-requests';
import { DEFAULT_WSS_IDS, signEnvelope, WSS_URIS, type WssSignOptions } from '../support/wss-signer';
import {
  all,
  appendToHeaderText,
  appendWrapperHeader,
  certificateBase64,
  expiredSender,
  first,
  foreignSender,
  fragment,
  issuedSender,
  loggedReason,
  NS,
  startFetchProbe,
  tamper,
  writeCrl,
  type Credentials,
  type FetchProbe,
} from './attack-kit';

/*
 * The attack suite (issue 3, point 9): hostile requests over real HTTP against a running service. Each
 * case states how the request is made and the exact fault it must get; for every case the suite also
 * checks the fault's form (faultcode Client, detail kind), that nothing was stored (no blob, no item,
 * an empty staging area) and that the next valid signed sendDocument still succeeds.
 *
 * Almost every hostile request is a sendDocument with its attachments (SOAP with Attachments), so that
 * "nothing stored" means something: a request that got through would leave a ticket and two contents.
 * One service runs with the defaults; a second one has RM_CRL pointing to a CRL that revokes a sender
 * and RM_SENDER_CERTS_DIR (so that thumbprint and issuer-serial key references resolve). The `reason`
 * of a case is checked in the service's log (the fault's Id is the request id), where the code alone
 * cannot show that the request was refused for the right reason.
 *
 * A case that fails here names a gap in src/, not in the test: see the case's comment.
 */

const VALID_INSS = '85073003328';
/** Another valid INSS: what an attacker puts in place of the signed recipient. */
const ATTACKER_INSS = '85073004120';
const HEALTH_CHECK_ACTION = 'http://socialsecurity.be/registeredmail/v1/healthCheck';
const HMAC_SHA256 = 'http://www.w3.org/2001/04/xmldsig-more#hmac-sha256';
const XSLT_NS = 'http://www.w3.org/1999/XSL/Transform';
const BODY_REF = '#id-body-1';

/* ------------------------------------------------------------------------------------------------ */
/* Expected faults                                                                                   */
/* ------------------------------------------------------------------------------------------------ */

const NOT_AUTHENTICATED: ExpectedFault = {
  code: 'SOA-01001',
  kind: 'SystemError',
  message: 'Service call not authenticated.',
};

function malformed(message: RegExp = /^Malformed message: /): ExpectedFault {
  return { code: 'SOA-03001', kind: 'SystemError', message };
}

const NOT_SOAP: ExpectedFault = {
  code: 'SOA-03002',
  kind: 'SystemError',
  message: /^Message must be SOAP: /,
};
const NOT_ONE_BODY: ExpectedFault = {
  code: 'SOA-03003',
  kind: 'SystemError',
  message: /^Message must contain SOAP body: /,
};

function wsdlCompliance(message: RegExp = /^WSDL compliance failure: /): ExpectedFault {
  return { code: 'SOA-03005', kind: 'SystemError', message };
}

const XSD_COMPLIANCE: ExpectedFault = {
  code: 'SOA-03006',
  kind: 'SystemError',
  message: /^XSD compliance failure: /,
};
const DIGEST_MISMATCH: ExpectedFault = {
  code: 'FILE_B01',
  kind: 'BusinessError',
  message: "Digest doesn't match document.",
};

/* ------------------------------------------------------------------------------------------------ */
/* The cases                                                                                         */
/* ------------------------------------------------------------------------------------------------ */

/** What a case builds its hostile request with. */
interface AttackContext {
  rm: TestService;
  /** The sender the attacker impersonates (dev-sender-1 of the service's dev PKI). */
  victim: TestSender;
  /** Another sender of the same, trusted PKI. */
  otherSender: TestSender;
  /** A sender certificate of a foreign CA, with the victim's subject. */
  attacker: Credentials;
  /** A sender certificate of the service's CA that expired two days ago. */
  expired: Credentials;
  /** A sender certificate of the service's CA that the CRL of RM_CRL revokes. */
  revoked: Credentials;
  probe: FetchProbe;
  /** A fresh sendDocument (unique Token) with its document and annex. */
  spec: SendDocumentSpec;
  /** {@link spec}'s envelope, unsigned. */
  envelope: string;
  /** {@link envelope} signed at the service clock's time, as the victim unless the options say otherwise. */
  signed(options?: Partial<WssSignOptions>): string;
  /** POSTs an envelope as SOAP with Attachments with {@link spec}'s parts (SOAPAction `""` by default). */
  send(envelope: string, headers?: Record<string, string>): Promise<HttpResult>;
  /** Reads the stored state again: what the case did so far was legitimate (the first copy of a replay). */
  resetBaseline(): Promise<void>;
}

interface AttackCase {
  name: string;
  expected: ExpectedFault;
  /** The second service (RM_CRL, RM_SENDER_CERTS_DIR) instead of the one with the defaults. */
  service?: 'second';
  /**
   * The reason the service must log, where the code alone cannot tell that the request was refused for
   * the right reason (the reasons are internal: matched loosely).
   */
  reason?: RegExp;
  attack(context: AttackContext): Promise<HttpResult>;
}

function secondsFrom(date: Date, seconds: number): Date {
  return new Date(date.getTime() + seconds * 1000);
}

/** Replaces the signed Body with a Body carrying the attacker's recipient; `stash` puts the signed one away. */
function forgeBody(
  document: Document,
  stash: (signedBody: Element) => void,
  idAttribute?: ['wsu:Id' | 'Id', string],
): void {
  const signedBody = first(document, NS.soap11, 'Body');
  const forged = signedBody.cloneNode(true) as Element;
  forged.removeAttributeNS(NS.wsu, 'Id');
  forged.removeAttribute('Id');
  if (idAttribute?.[0] === 'wsu:Id') forged.setAttributeNS(NS.wsu, 'wsu:Id', idAttribute[1]);
  if (idAttribute?.[0] === 'Id') forged.setAttribute('Id', idAttribute[1]);
  const inss = forged.getElementsByTagNameNS(NS.types, 'INSS').item(0);
  if (!inss?.firstChild) throw new Error('no INSS in the Body');
  inss.firstChild.nodeValue = ATTACKER_INSS;
  signedBody.parentNode!.replaceChild(forged, signedBody);
  stash(signedBody);
}

/** The signature's Reference to the Body. */
function bodyReference(document: Document): Element {
  const reference = all(document, NS.ds, 'Reference').find((ref) => ref.getAttribute('URI') === BODY_REF);
  if (!reference) throw new Error('no Reference to the Body');
  return reference;
}

const ATTACKS: AttackCase[] = [
  // ---- No signature, or a signature that does not cover what it must ----
  {
    name: 'unsigned sendDocument with its attachments',
    expected: NOT_AUTHENTICATED,
    attack: (c) => c.send(c.envelope),
  },
  {
    name: 'Body altered after signing (the recipient INSS replaced)',
    expected: NOT_AUTHENTICATED,
    attack: (c) => {
      const signed = c.signed();
      const altered = signed.replace(`<t:INSS>${VALID_INSS}</t:INSS>`, `<t:INSS>${ATTACKER_INSS}</t:INSS>`);
      expect(altered).not.toBe(signed);
      return c.send(altered);
    },
  },
  {
    name: 'Timestamp not signed (references to the Body and the token only)',
    expected: NOT_AUTHENTICATED,
    attack: (c) => c.send(c.signed({ signTimestamp: false })),
  },
  {
    name: 'Body not signed (references to the Timestamp and the token only)',
    expected: NOT_AUTHENTICATED,
    attack: (c) => c.send(c.signed({ signBody: false })),
  },
  {
    name: 'SignatureValue made with another trusted sender’s key, the victim’s certificate as token',
    expected: NOT_AUTHENTICATED,
    attack: (c) => c.send(c.signed({ signingKeyPem: c.otherSender.keyPem })),
  },

  // ---- Time ----
  {
    name: 'expired Timestamp (Created 120 s ago, Expires 60 s ago)',
    expected: NOT_AUTHENTICATED,
    attack: (c) => c.send(c.signed({ created: secondsFrom(c.rm.clock.now(), -120), expiresInSeconds: 60 })),
  },
  {
    name: 'Timestamp from the future (Created 120 s ahead, beyond the 60 s skew)',
    expected: NOT_AUTHENTICATED,
    attack: (c) => c.send(c.signed({ created: secondsFrom(c.rm.clock.now(), 120) })),
  },
  {
    name: 'Timestamp older than the maximum age although its Expires is far (Created 400 s ago)',
    expected: NOT_AUTHENTICATED,
    attack: (c) => c.send(c.signed({ created: secondsFrom(c.rm.clock.now(), -400), expiresInSeconds: 3600 })),
  },
  {
    name: 'replayed: the same signed bytes posted a second time',
    expected: NOT_AUTHENTICATED,
    reason: /replay|already (been )?(seen|used|received)/i,
    attack: async (c) => {
      const signed = c.signed();
      const firstCopy = await c.send(signed);
      expect(firstCopy.status).toBe(200);
      await c.resetBaseline();
      return c.send(signed);
    },
  },

  // ---- Certificates ----
  {
    name: 'untrusted CA: a sender certificate of a foreign CA with the victim’s subject',
    expected: NOT_AUTHENTICATED,
    reason: /not trusted/,
    attack: (c) => c.send(c.signed({ keyPem: c.attacker.keyPem, certPem: c.attacker.certPem })),
  },
  {
    // Trust is a cheap check: it comes before any digest, so the refusal names trust, not the digest.
    name: 'untrusted CA and a Body altered after signing: refused for trust before any digest',
    expected: NOT_AUTHENTICATED,
    reason: /trust/i,
    attack: (c) => {
      const signed = c.signed({ keyPem: c.attacker.keyPem, certPem: c.attacker.certPem });
      return c.send(signed.replace(`<t:INSS>${VALID_INSS}</t:INSS>`, `<t:INSS>${ATTACKER_INSS}</t:INSS>`));
    },
  },
  {
    name: 'expired sender certificate (of the trusted CA, expired two days ago)',
    expected: NOT_AUTHENTICATED,
    reason: /expired|validity|not yet valid/i,
    attack: (c) => c.send(c.signed({ keyPem: c.expired.keyPem, certPem: c.expired.certPem })),
  },
  {
    name: 'revoked sender certificate (RM_CRL holds a CRL of the trusted CA that revokes it)',
    service: 'second',
    expected: NOT_AUTHENTICATED,
    reason: /revoked/i,
    attack: (c) => c.send(c.signed({ keyPem: c.revoked.keyPem, certPem: c.revoked.certPem })),
  },

  // ---- Algorithms ----
  {
    name: 'RSA-SHA1 with SHA-1 digests while SHA-1 is disabled',
    expected: NOT_AUTHENTICATED,
    reason: /SHA-1/,
    attack: (c) => c.send(c.signed({ signatureAlgorithm: 'rsa-sha1', digestAlgorithm: 'sha1' })),
  },
  {
    name: 'RSA-SHA256 with SHA-1 digests while SHA-1 is disabled',
    expected: NOT_AUTHENTICATED,
    reason: /SHA-1/,
    attack: (c) => c.send(c.signed({ digestAlgorithm: 'sha1' })),
  },
  {
    name: 'HMAC-SHA1 signature method',
    expected: NOT_AUTHENTICATED,
    attack: (c) => c.send(c.signed({ signatureMethodUri: WSS_URIS.hmacSha1 })),
  },
  {
    name: 'HMAC-SHA256 with HMACOutputLength 0 (CVE-2009-0217) and a one-byte SignatureValue',
    expected: NOT_AUTHENTICATED,
    attack: (c) =>
      c.send(
        tamper(c.signed({ signatureMethodUri: HMAC_SHA256 }), (document) => {
          const method = first(document, NS.ds, 'SignatureMethod');
          const length = document.createElementNS(NS.ds, 'ds:HMACOutputLength');
          length.appendChild(document.createTextNode('0'));
          method.appendChild(length);
          first(document, NS.ds, 'SignatureValue').firstChild!.nodeValue = 'AA==';
        }),
      ),
  },

  // ---- Signature wrapping ----
  {
    name: 'signed Body moved into a header wrapper, a new Body with the same wsu:Id',
    expected: NOT_AUTHENTICATED,
    attack: (c) =>
      c.send(
        tamper(c.signed(), (document) =>
          forgeBody(document, (signed) => appendWrapperHeader(document).appendChild(signed), [
            'wsu:Id',
            'id-body-1',
          ]),
        ),
      ),
  },
  {
    name: 'signed Body moved into the Security header, a new Body without Id',
    expected: NOT_AUTHENTICATED,
    attack: (c) =>
      c.send(
        tamper(c.signed(), (document) =>
          forgeBody(document, (signed) => first(document, NS.wsse, 'Security').appendChild(signed)),
        ),
      ),
  },
  {
    name: 'signed Body moved into a ds:Object of the Signature, a new Body without Id',
    expected: NOT_AUTHENTICATED,
    attack: (c) =>
      c.send(
        tamper(c.signed(), (document) =>
          forgeBody(document, (signed) => {
            const object = document.createElementNS(NS.ds, 'ds:Object');
            first(document, NS.ds, 'Signature').appendChild(object);
            object.appendChild(signed);
          }),
        ),
      ),
  },
  {
    name: 'duplicated Body: a forged Body before the signed one',
    expected: NOT_ONE_BODY,
    attack: (c) =>
      c.send(
        tamper(c.signed(), (document) =>
          forgeBody(document, (signed) => {
            const forged = first(document, NS.soap11, 'Body');
            forged.parentNode!.insertBefore(signed, forged.nextSibling);
          }),
        ),
      ),
  },
  {
    name: 'Reference to a copy of the signed Body inside a wrapper; the real Body altered, its wsu:Id removed',
    expected: NOT_AUTHENTICATED,
    attack: (c) =>
      c.send(
        tamper(c.signed(), (document) =>
          forgeBody(document, (signed) => appendWrapperHeader(document).appendChild(signed)),
        ),
      ),
  },
  {
    name: 'Reference by unqualified Id to a copy in a wrapper while the real Body has another Id',
    expected: NOT_AUTHENTICATED,
    attack: (c) =>
      c.send(
        tamper(c.signed({ bodyIdAttribute: 'Id' }), (document) =>
          forgeBody(document, (signed) => appendWrapperHeader(document).appendChild(signed), [
            'Id',
            'id-body-2',
          ]),
        ),
      ),
  },
  {
    name: 'Timestamp wrapped: the old signed one moved into a wrapper, a fresh unsigned one added',
    expected: NOT_AUTHENTICATED,
    attack: (c) =>
      c.send(
        tamper(c.signed({ created: secondsFrom(c.rm.clock.now(), -400) }), (document) => {
          const signedTimestamp = first(document, NS.wsu, 'Timestamp');
          const fresh = signedTimestamp.cloneNode(true) as typeof signedTimestamp;
          fresh.removeAttributeNS(NS.wsu, 'Id');
          fresh.getElementsByTagNameNS(NS.wsu, 'Created').item(0)!.firstChild!.nodeValue = c.rm.clock
            .now()
            .toISOString();
          fresh.getElementsByTagNameNS(NS.wsu, 'Expires').item(0)!.firstChild!.nodeValue = secondsFrom(
            c.rm.clock.now(),
            300,
          ).toISOString();
          signedTimestamp.parentNode!.replaceChild(fresh, signedTimestamp);
          const wrapper = appendWrapperHeader(document);
          wrapper.setAttributeNS(NS.xmlns, 'xmlns:wsse', NS.wsse);
          wrapper.appendChild(signedTimestamp);
        }),
      ),
  },
  {
    name: 'signed Timestamp moved out of the Security header into a wrapper header (wsu:Id in a wrapper)',
    expected: NOT_AUTHENTICATED,
    attack: (c) =>
      c.send(
        tamper(c.signed(), (document) => {
          appendWrapperHeader(document).appendChild(first(document, NS.wsu, 'Timestamp'));
        }),
      ),
  },
  {
    name: 'duplicate wsu:Id: a header decoy carrying the Body’s wsu:Id',
    expected: NOT_AUTHENTICATED,
    reason: /2 elements carry the Id/,
    attack: (c) =>
      c.send(
        tamper(c.signed(), (document) => {
          const decoy = document.createElementNS('urn:attacker:decoy', 'd:Decoy');
          decoy.setAttributeNS(NS.wsu, 'wsu:Id', 'id-body-1');
          appendWrapperHeader(document).appendChild(decoy);
        }),
      ),
  },
  {
    name: 'duplicate Id through a look-alike attribute: a decoy with xml:id equal to the Timestamp’s Id',
    expected: NOT_AUTHENTICATED,
    reason: /2 elements carry the Id/,
    attack: (c) =>
      c.send(
        tamper(c.signed(), (document) => {
          const decoy = document.createElementNS('urn:attacker:decoy', 'd:Decoy');
          decoy.setAttributeNS('http://www.w3.org/XML/1998/namespace', 'xml:id', 'TS-1');
          appendWrapperHeader(document).appendChild(decoy);
        }),
      ),
  },
  {
    name: 'two Security headers (a copy of the signed one appended)',
    expected: NOT_AUTHENTICATED,
    attack: (c) =>
      c.send(
        tamper(c.signed(), (document) => {
          const security = first(document, NS.wsse, 'Security');
          security.parentNode!.appendChild(security.cloneNode(true));
        }),
      ),
  },
  {
    name: 'Security header addressed to another actor',
    expected: NOT_AUTHENTICATED,
    attack: (c) =>
      c.send(
        tamper(c.signed(), (document) => {
          first(document, NS.wsse, 'Security').setAttributeNS(
            NS.soap11,
            'soapenv:actor',
            'urn:attacker:intermediary',
          );
        }),
      ),
  },
  {
    name: 'a second wsse:Security nested in a wrapper header',
    expected: NOT_AUTHENTICATED,
    attack: (c) =>
      c.send(
        tamper(c.signed(), (document) => {
          const security = first(document, NS.wsse, 'Security');
          appendWrapperHeader(document).appendChild(security.cloneNode(true));
        }),
      ),
  },

  // ---- Splicing the signed text ----
  {
    name: 'processing-instruction splice inside the signed Token',
    expected: malformed(/processing instruction/),
    attack: (c) =>
      c.send(c.signed().replace(`<t:Token>${c.spec.token}`, `<t:Token>${c.spec.token}<?splice x?>`)),
  },
  {
    name: 'comment injected into the signed Token text (exc-c14n drops it: the digest stays valid)',
    expected: NOT_AUTHENTICATED,
    reason: /comments/,
    attack: (c) =>
      c.send(
        tamper(c.signed(), (document) => {
          const token = first(document, NS.types, 'Token');
          const text = token.firstChild!;
          const value = text.nodeValue ?? '';
          token.insertBefore(document.createTextNode(value.slice(0, 3)), text);
          token.insertBefore(document.createComment('injected'), text);
          text.nodeValue = value.slice(3);
        }),
      ),
  },
  {
    name: 'comment injected into the signed Timestamp’s Created',
    expected: NOT_AUTHENTICATED,
    attack: (c) =>
      c.send(
        tamper(c.signed(), (document) => {
          const created = first(document, NS.wsu, 'Created');
          created.insertBefore(document.createComment('injected'), created.firstChild);
        }),
      ),
  },

  // ---- Operation selection ----
  {
    name: 'SOAPAction of another operation (healthCheck) on a signed sendDocument',
    expected: wsdlCompliance(/SOAPAction.*sendDocument/),
    attack: (c) => c.send(c.signed(), { SOAPAction: `"${HEALTH_CHECK_ACTION}"` }),
  },
  {
    name: 'SOAPAction naming no operation of the WSDL on a signed sendDocument',
    expected: wsdlCompliance(/SOAPAction/),
    attack: (c) => c.send(c.signed(), { SOAPAction: '"urn:attacker:deleteEverything"' }),
  },
  {
    name: 'SOAP 1.2 envelope carrying the signed content',
    expected: NOT_SOAP,
    attack: (c) => c.send(c.signed().split(NS.soap11).join(NS.soap12)),
  },
  {
    // SOAP 1.1 section 4.2.3 and WS-I Basic Profile R1025/R1027 require a receiver to refuse a mandatory
    // header it does not understand (CXF's MustUnderstandInterceptor does): SOA-03004, WS-I compliance,
    // with faultcode soapenv:MustUnderstand.
    name: 'a header we do not understand, with mustUnderstand="1"',
    expected: {
      code: 'SOA-03004',
      kind: 'SystemError',
      faultcode: 'soapenv:MustUnderstand',
      message: /^WS-I compliance failure: header \{urn:attacker:routing\}Routing must be understood/,
    },
    attack: (c) =>
      c.send(
        appendToHeaderText(
          c.signed(),
          '<x:Routing xmlns:x="urn:attacker:routing" soapenv:mustUnderstand="1"><x:To>elsewhere</x:To></x:Routing>',
        ),
      ),
  },

  // ---- Hostile XML ----
  {
    name: 'XXE: an external entity reading a local file',
    expected: malformed(/DOCTYPE/),
    attack: (c) =>
      c.send(
        `<?xml version="1.0"?>\n<!DOCTYPE soapenv:Envelope [<!ENTITY xxe SYSTEM "file:///etc/passwd">]>\n` +
          c.signed().replace(`<t:Token>${c.spec.token}`, '<t:Token>&xxe;'),
      ),
  },
  {
    name: 'XXE: an external DTD and entity over HTTP (never fetched)',
    expected: malformed(/DOCTYPE/),
    attack: (c) =>
      c.send(
        `<?xml version="1.0"?>\n<!DOCTYPE soapenv:Envelope SYSTEM "${c.probe.url}/dtd" [<!ENTITY xxe SYSTEM "${c.probe.url}/entity">]>\n` +
          c.signed().replace(`<t:Token>${c.spec.token}`, '<t:Token>&xxe;'),
      ),
  },
  {
    name: 'billion laughs (10^9 expansions of nested internal entities)',
    expected: malformed(/DOCTYPE/),
    attack: (c) => {
      const entities = ['<!ENTITY lol0 "lol">'];
      for (let level = 1; level <= 9; level += 1) {
        entities.push(`<!ENTITY lol${level} "${`&lol${level - 1};`.repeat(10)}">`);
      }
      return c.send(
        `<?xml version="1.0"?>\n<!DOCTYPE lolz [${entities.join('\n')}]>\n` +
          c.signed().replace(`<t:Token>${c.spec.token}`, '<t:Token>&lol9;'),
      );
    },
  },
  {
    name: 'oversized envelope: RM_MAX_ENVELOPE_BYTES (1 MiB by default) exceeded by an unsigned header',
    expected: malformed(/envelope larger than the limit of 1048576 bytes/),
    attack: (c) =>
      c.send(appendToHeaderText(c.signed(), `<x:Pad xmlns:x="urn:pad">${'A'.repeat(1024 * 1024)}</x:Pad>`)),
  },
  {
    name: 'deep nesting: 200 nested elements in a header (limit 64)',
    expected: malformed(/nesting deeper than the limit of 64/),
    attack: (c) =>
      c.send(
        appendToHeaderText(
          c.signed(),
          `<x:n xmlns:x="urn:deep">${'<x:n>'.repeat(199)}${'</x:n>'.repeat(200)}`,
        ),
      ),
  },
  {
    name: 'element flood: 20 001 empty elements in a header (limit 20 000)',
    expected: malformed(/more elements than the limit of 20000/),
    attack: (c) =>
      c.send(appendToHeaderText(c.signed(), `<x:f xmlns:x="urn:flood">${'<x:e/>'.repeat(20_001)}</x:f>`)),
  },
  {
    name: 'attribute flood: 50 000 attributes on one header element',
    expected: malformed(/attribute/i),
    attack: (c) => {
      const attributes = Array.from({ length: 50_000 }, (_, i) => `a${i}="1"`).join(' ');
      return c.send(appendToHeaderText(c.signed(), `<x:a xmlns:x="urn:flood" ${attributes}/>`));
    },
  },

  // ---- Work an attacker can cause ----
  {
    name: 'thousands of references: 2 000 References to the Body',
    expected: NOT_AUTHENTICATED,
    reason: /references, more than the limit of 30/,
    attack: (c) => {
      const signed = c.signed();
      const reference = /<ds:Reference URI="#id-body-1">.*?<\/ds:Reference>/s.exec(signed)?.[0];
      if (!reference) throw new Error('no Body Reference in the signed text');
      return c.send(signed.replace('</ds:SignedInfo>', `${reference.repeat(2_000)}</ds:SignedInfo>`));
    },
  },
  {
    name: '31 references, each with a valid digest (one over the limit of 30)',
    expected: NOT_AUTHENTICATED,
    reason: /31 references, more than the limit of 30/,
    attack: (c) => c.send(c.signed({ extraSignedHeaders: 28 })),
  },
  {
    name: 'thousands of transforms: 2 000 exc-c14n Transforms in each Reference, validly signed',
    expected: NOT_AUTHENTICATED,
    reason: /2000 transforms, more than the limit of 5/,
    attack: (c) => c.send(c.signed({ transformsPerReference: 2_000, inclusivePrefixes: false })),
  },
  {
    name: 'thousands of transforms added to the Body’s Reference after signing',
    expected: NOT_AUTHENTICATED,
    attack: (c) =>
      c.send(
        tamper(c.signed(), (document) => {
          const transforms = first(bodyReference(document), NS.ds, 'Transforms');
          const transform = first(bodyReference(document), NS.ds, 'Transform');
          for (let i = 1; i < 2_000; i += 1) transforms.appendChild(transform.cloneNode(true));
        }),
      ),
  },

  // ---- KeyInfo carrying an attacker's certificate or key ----
  {
    name: 'KeyInfo: signed with the attacker’s key, the victim’s certificate as BinarySecurityToken',
    expected: NOT_AUTHENTICATED,
    reason: /SignatureValue does not verify/,
    attack: (c) => c.send(c.signed({ signingKeyPem: c.attacker.keyPem })),
  },
  {
    name: 'KeyInfo: the attacker’s certificate as token, the victim’s certificate added as ds:X509Data',
    expected: NOT_AUTHENTICATED,
    reason: /not trusted/,
    attack: (c) =>
      c.send(
        c.signed({
          keyPem: c.attacker.keyPem,
          certPem: c.attacker.certPem,
          extraKeyInfoCertPem: c.victim.certPem,
        }),
      ),
  },
  {
    name: 'KeyInfo: only a ds:X509Data with the attacker’s certificate, signed with the attacker’s key',
    expected: NOT_AUTHENTICATED,
    attack: (c) =>
      c.send(
        c.signed({
          signingKeyPem: c.attacker.keyPem,
          keyInfoXml: `<ds:X509Data><ds:X509Certificate>${certificateBase64(c.attacker.certPem)}</ds:X509Certificate></ds:X509Data>`,
        }),
      ),
  },
  {
    name: 'KeyInfo: a ds:KeyValue with the attacker’s RSA key, signed with that key',
    expected: NOT_AUTHENTICATED,
    attack: (c) => {
      const jwk = createPublicKey(c.attacker.keyPem).export({ format: 'jwk' });
      const base64 = (value: string | undefined) => Buffer.from(value ?? '', 'base64url').toString('base64');
      return c.send(
        c.signed({
          signingKeyPem: c.attacker.keyPem,
          keyInfoXml: `<ds:KeyValue><ds:RSAKeyValue><ds:Modulus>${base64(jwk.n)}</ds:Modulus><ds:Exponent>${base64(jwk.e)}</ds:Exponent></ds:RSAKeyValue></ds:KeyValue>`,
        }),
      );
    },
  },

  {
    name: 'KeyInfo: ThumbprintSHA1 of the victim’s known certificate, signed with the attacker’s key',
    service: 'second',
    expected: NOT_AUTHENTICATED,
    reason: /SignatureValue does not verify/,
    attack: (c) => c.send(c.signed({ keyReference: 'thumbprint', signingKeyPem: c.attacker.keyPem })),
  },
  {
    name: 'KeyInfo: X509IssuerSerial of the victim’s known certificate, signed with the attacker’s key',
    service: 'second',
    expected: NOT_AUTHENTICATED,
    reason: /SignatureValue does not verify/,
    attack: (c) => c.send(c.signed({ keyReference: 'issuer-serial', signingKeyPem: c.attacker.keyPem })),
  },
  {
    name: 'KeyInfo: X509IssuerSerial of the victim’s known certificate, the attacker’s certificate as a BST beside it',
    service: 'second',
    expected: NOT_AUTHENTICATED,
    attack: (c) =>
      c.send(
        tamper(
          c.signed({
            keyReference: 'issuer-serial',
            includeUnreferencedToken: true,
            signingKeyPem: c.attacker.keyPem,
          }),
          (document) => {
            const token = first(document, NS.wsse, 'BinarySecurityToken');
            token.firstChild!.nodeValue = certificateBase64(c.attacker.certPem);
          },
        ),
      ),
  },

  // ---- Reference URIs and transforms that point elsewhere (never fetched, never evaluated) ----
  {
    name: 'empty Reference URI ("", the whole document) added to a valid signature',
    expected: NOT_AUTHENTICATED,
    reason: /whole-document reference/,
    attack: (c) => c.send(c.signed({ extraReferenceUris: [''] })),
  },
  {
    name: 'XPointer Reference URI #xpointer(id(...)) added to a valid signature',
    expected: NOT_AUTHENTICATED,
    reason: /XPointer/,
    attack: (c) => c.send(c.signed({ extraReferenceUris: ["#xpointer(id('id-body-1'))"] })),
  },
  {
    name: 'external Reference URI (http://) added to a valid signature: never fetched',
    expected: NOT_AUTHENTICATED,
    reason: /another document/,
    attack: (c) => c.send(c.signed({ extraReferenceUris: [`${c.probe.url}/reference`] })),
  },
  {
    name: 'external Reference URI (http://) in place of the Body’s, after signing: never fetched',
    expected: NOT_AUTHENTICATED,
    attack: (c) =>
      c.send(
        tamper(c.signed(), (document) => bodyReference(document).setAttribute('URI', `${c.probe.url}/body`)),
      ),
  },
  {
    name: 'external token reference (wsse:Reference URI http://): never fetched',
    expected: NOT_AUTHENTICATED,
    attack: (c) =>
      c.send(
        tamper(c.signed(), (document) =>
          first(document, NS.wsse, 'Reference').setAttribute('URI', `${c.probe.url}/token`),
        ),
      ),
  },
  {
    name: 'XSLT transform calling document(http://): never evaluated, never fetched',
    expected: NOT_AUTHENTICATED,
    attack: (c) =>
      c.send(
        tamper(c.signed(), (document) => {
          const transforms = first(bodyReference(document), NS.ds, 'Transforms');
          while (transforms.firstChild) transforms.removeChild(transforms.firstChild);
          const [xslt] = fragment(
            document,
            `<ds:Transform Algorithm="${WSS_URIS.xsltTransform}"><xsl:stylesheet version="1.0" xmlns:xsl="${XSLT_NS}"><xsl:template match="/"><xsl:copy-of select="document('${c.probe.url}/xslt')"/></xsl:template></xsl:stylesheet></ds:Transform>`,
          );
          transforms.appendChild(xslt);
        }),
      ),
  },
  {
    name: 'XInclude and xsi:schemaLocation in the signed payload: never fetched, payload invalid',
    expected: XSD_COMPLIANCE,
    attack: (c) => {
      const envelope = c.envelope
        .replace(
          '<v1:SendDocumentRequest>',
          `<v1:SendDocumentRequest xsi:schemaLocation="${NS.v1} ${c.probe.url}/schema.xsd">`,
        )
        .replace(
          '<t:RegisteredMailItem>',
          `<t:RegisteredMailItem><xi:include xmlns:xi="http://www.w3.org/2001/XInclude" href="${c.probe.url}/xinclude"/>`,
        );
      return c.send(c.rm.sign(envelope));
    },
  },

  // ---- Attachments ----
  {
    name: 'document attachment swapped after signing (the signed Digest no longer matches)',
    expected: DIGEST_MISMATCH,
    attack: (c) => {
      const swapped = partsOf(c.spec).map((part) =>
        part.contentId === c.spec.document.contentId ? { ...part, content: samplePdf('forged') } : part,
      );
      return c.rm.postSwa(c.signed(), swapped);
    },
  },
];

/* ------------------------------------------------------------------------------------------------ */
/* The run                                                                                           */
/* ------------------------------------------------------------------------------------------------ */

function specFor(token: string): SendDocumentSpec {
  return {
    token,
    recipient: { kind: 'citizen', inss: VALID_INSS },
    document: { content: samplePdf(token), contentId: 'document@test' },
    annexes: [{ content: Buffer.from(`annex of ${token}`), contentId: 'annex-1@test', mime: 'text/plain' }],
  };
}

describe('attack suite: hostile requests over HTTP', () => {
  let rm: TestService;
  let second: TestService;
  let crlDataDir: string;
  let probe: FetchProbe;
  let attacker: Credentials;
  let expired: Credentials;
  let revoked: Credentials;
  let tokens = 0;

  beforeAll(async () => {
    probe = await startFetchProbe();
    rm = await startTestService();
    const devPki = rm.service.pki!;
    attacker = await foreignSender(rm.senders[0]);
    expired = await expiredSender(devPki.dir, rm.clock.now());

    // The second service runs on a copy of the same dev PKI, plus a sender that its CRL revokes.
    crlDataDir = await fs.mkdtemp(path.join(os.tmpdir(), 'rm-attack-crl-'));
    await fs.cp(devPki.dir, path.join(crlDataDir, 'dev-pki'), { recursive: true });
    revoked = await issuedSender(path.join(crlDataDir, 'dev-pki'), 'attack-revoked-sender', rm.clock);
    const crlFile = path.join(crlDataDir, 'revoked.crl.pem');
    await writeCrl(devPki.ca, [revoked.certificateDer], crlFile, rm.clock.now());
    // Known senders (RM_SENDER_CERTS_DIR): key references by thumbprint or issuer-serial resolve to them.
    const knownSenders = path.join(crlDataDir, 'known-senders');
    await fs.mkdir(knownSenders);
    const known = [...devPki.senders.slice(0, 2).map((sender) => sender.certPemPath)];
    for (const [index, file] of known.entries()) {
      await fs.copyFile(file, path.join(knownSenders, `sender-${index + 1}.cert.pem`));
    }
    await fs.writeFile(path.join(knownSenders, 'revoked.cert.pem'), revoked.certPem);
    second = await startTestService(
      { RM_CRL: crlFile, RM_SENDER_CERTS_DIR: knownSenders },
      { dataDir: crlDataDir },
    );
  });

  afterAll(async () => {
    await rm?.close();
    await second?.close();
    if (crlDataDir) await fs.rm(crlDataDir, { recursive: true, force: true });
    await probe?.close();
  });

  async function expectUnchanged(target: TestService, before: StoredState): Promise<void> {
    const after = await storedState(target);
    expect(after.contents).toEqual(before.contents);
    expect(after.items).toBe(before.items);
    expect(after.staging).toEqual([]);
  }

  /** A fresh, valid, signed sendDocument: 200 with a ticket, one more item. */
  async function expectNextValidRequestSucceeds(target: TestService): Promise<void> {
    const before = await storedState(target);
    const spec = specFor(`after-attack-${(tokens += 1)}`);
    const result = await target.postSwa(target.sign(sendDocumentEnvelope(spec)), partsOf(spec));
    if (result.status !== 200) {
      throw new Error(
        `the next valid request failed: ${result.status} ${result.body.toString().slice(0, 800)}`,
      );
    }
    expect((await parseResponse(result)).envelope).toMatch(/<[\w-]+:Ticket>[0-9A-Z]{13}</);
    expect((await storedState(target)).items).toBe(before.items + 1);
  }

  test('the suite has at least 25 named cases, each name once', () => {
    const names = ATTACKS.map((attack) => attack.name);
    expect(names.length).toBeGreaterThanOrEqual(25);
    expect(new Set(names).size).toBe(names.length);
  });

  describe.each(ATTACKS.map((attack) => [attack.name, attack] as const))('%s', (_name, attack) => {
    test(`answers ${attack.expected.code}, stores nothing, and the next valid request succeeds`, async () => {
      const target = attack.service === 'second' ? second : rm;
      const spec = specFor(`attack-${(tokens += 1)}`);
      let before = await storedState(target);
      const context: AttackContext = {
        rm: target,
        victim: target.senders[0],
        otherSender: target.senders[1],
        attacker,
        expired,
        revoked,
        probe,
        spec,
        envelope: sendDocumentEnvelope(spec),
        // The hostile variants aim at the signer's well-known Ids (DEFAULT_WSS_IDS).
        signed: (options = {}) =>
          target.sign(sendDocumentEnvelope(spec), { ids: DEFAULT_WSS_IDS, ...options }),
        send: (envelope, headers) => target.postSwa(envelope, partsOf(spec), headers),
        resetBaseline: async () => {
          before = await storedState(target);
        },
      };

      const fault = expectFault(await attack.attack(context), attack.expected);
      if (attack.reason) expect(loggedReason(target.logs, fault.id)).toMatch(attack.reason);
      await expectUnchanged(target, before);
      expect(probe.requests).toEqual([]);
      await expectNextValidRequestSucceeds(target);
    });
  });

  /*
   * Cheap checks first: what a request costs before any key is trusted. Digested bytes are not visible
   * over HTTP, so these cases run the service's own WS-Security processing on the envelope as the SOAP
   * layer parses it, with a Body of ~900 KB.
   */
  describe('cheap checks come before digesting (processSecurityHeader on a ~900 KB Body)', () => {
    const PAD = 900_000;
    const largeEnvelope = () =>
      `<soapenv:Envelope xmlns:soapenv="${NS.soap11}" xmlns:v1="${NS.v1}" xmlns:t="${NS.types}">` +
      `<soapenv:Header/><soapenv:Body><v1:GetStatusRequest><t:Ticket>ABCDEFGH12345</t:Ticket>` +
      `<t:Pad>${'x'.repeat(PAD)}</t:Pad></v1:GetStatusRequest></soapenv:Body></soapenv:Envelope>`;

    function parse(xml: string): ParsedEnvelope {
      const limits = rm.service.config.limits;
      return parseEnvelope(Buffer.from(xml, 'utf8'), {
        maxDepth: limits.maxXmlDepth,
        maxElements: limits.maxXmlElements,
      });
    }

    function facts(xml: string): Promise<SecurityFacts> {
      return processSecurityHeader(parse(xml));
    }

    /**
     * The service's `authenticate` (src/app/start-service.ts) on the default configuration: processing,
     * then the v1 policy with the dev CA as trust anchor. Keep it in step with start-service.
     */
    async function authenticateAsTheServiceDoes(envelope: ParsedEnvelope) {
      const certificateValidator = new CertificateValidator([rm.service.pki!.ca.certificateDer], rm.clock);
      const securityFacts = await processSecurityHeader(envelope, { certificateTrust: certificateValidator });
      const error = await enforceV1Policy(envelope, securityFacts, {
        clock: rm.clock,
        settings: rm.service.config.security,
        certificateValidator,
        senderIdentity: senderIdentityFromCertificate,
        replayGuard: { recordFirstSighting: () => Promise.resolve(true) },
      }).then(
        () => undefined,
        (caught: unknown) => caught,
      );
      return { facts: securityFacts, error };
    }

    function signLarge(options: Partial<WssSignOptions> = {}): string {
      const victim = rm.senders[0];
      return signEnvelope(largeEnvelope(), {
        keyPem: victim.keyPem,
        certPem: victim.certPem,
        created: rm.clock.now(),
        ...options,
      });
    }

    test('control: a valid signature over the large Body digests all of it', async () => {
      const result = await facts(signLarge());
      expect(result.digestedBytes).toBeGreaterThan(PAD);
      expect(result.signatureVerifications).toBe(1);
    });

    test('an unsigned request: nothing verified, nothing digested', async () => {
      expect(await facts(largeEnvelope())).toMatchObject({ digestedBytes: 0, signatureVerifications: 0 });
    });

    test('an HMAC signature method: nothing verified, nothing digested', async () => {
      expect(await facts(signLarge({ signatureMethodUri: WSS_URIS.hmacSha1 }))).toMatchObject({
        digestedBytes: 0,
        signatureVerifications: 0,
      });
    });

    test('2 000 references to the Body: nothing verified, nothing digested', async () => {
      const signed = signLarge();
      const reference = /<ds:Reference URI="#id-body-1">.*?<\/ds:Reference>/s.exec(signed)![0];
      const hostile = signed.replace('</ds:SignedInfo>', `${reference.repeat(2_000)}</ds:SignedInfo>`);
      expect(await facts(hostile)).toMatchObject({ digestedBytes: 0, signatureVerifications: 0 });
    });

    test('2 000 transforms in each Reference, validly signed: one verification, nothing digested', async () => {
      expect(
        await facts(signLarge({ transformsPerReference: 2_000, inclusivePrefixes: false })),
      ).toMatchObject({ digestedBytes: 0, signatureVerifications: 1 });
    });

    test('an untrusted signer (foreign CA), authenticated as the service does: refused, nothing digested', async () => {
      const envelope = parse(signLarge({ keyPem: attacker.keyPem, certPem: attacker.certPem }));
      const result = await authenticateAsTheServiceDoes(envelope);
      expect(result.error).toMatchObject({ code: 'SOA-01001', reason: expect.stringMatching(/trust/) });
      expect(result.facts.digestedBytes).toBe(0);
    });

    test('a SignatureValue that does not verify with the token: one verification, nothing digested', async () => {
      expect(await facts(signLarge({ signingKeyPem: attacker.keyPem }))).toMatchObject({
        digestedBytes: 0,
        signatureVerifications: 1,
      });
    });
  });
});
