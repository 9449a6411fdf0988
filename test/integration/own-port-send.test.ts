import { createHash, randomBytes } from 'node:crypto';
import { existsSync, readdirSync } from 'node:fs';
import path from 'node:path';
import { DOMParser, type Element } from '@xmldom/xmldom';
import { parseEnvelope } from '../../src/soap/parse-envelope';
import { processSecurityHeader } from '../../src/wssecurity/process-security-header';
import { testWithTool } from '../support/external-tools';
import { postMtom, type MtomPart } from '../support/mtom-request';
import { proofProblems } from '../support/proof-checks';
import { startTestService, type TestService } from '../support/service-fixture';
import { ServiceAnswerReader, type SendAnswer } from '../support/service-port-answers';
import {
  mtomPartsOf,
  postToServicePort,
  sendRegisteredMailEnvelope,
  serviceSample,
  servicePortUrl,
  serviceSoapAction,
  type SendRegisteredMailSpec,
} from '../support/service-port-requests';
import { readStatusAnswer } from '../support/signed-files';
import { defaultContentStore } from '../support/stored-content';
import type { HttpResult } from '../support/soap-client';
import { getStatusEnvelope, samplePdf, sendDocumentEnvelope } from '../support/v1-requests';
import { queryRows } from '../support/portable-sql';

/*
 * Issue 6, point 2: SendRegisteredMail on /RegisteredMailService over real HTTP, signed with WS-Security
 * as a WSS4J client signs, against the real service (SQLite, blob store, CAdES-T receipts).
 *
 * Inline base64: each sample of fixtures/service is accepted and answered with its ticket, Token and a
 * Receipt whose Content is the receipt's bytes and whose Signature openssl verifies over exactly those
 * bytes; the item is a v1 item under v1's rules (a retry answers the same receipt, REPO_B03, FILE_B01,
 * EBOX_B01, and the v1 getStatus sees it); Content that is not base64Binary is SOA-03006.
 *
 * MTOM: XOP packages built as a JAX-WS client on CXF sends them (the envelope signed with its
 * xop:Include elements in place, the parts streamed with chunked coding), including a 5 MiB document;
 * the bytes land in the blob store with the SHA-256 of what was sent. "The signed Digest binds the
 * bytes": a part changed in transit leaves the XML signature valid (the service authenticates the
 * message, which its replay cache then remembers) and is refused with FILE_B01 because it no longer
 * matches the signed Digest; changing which part an Include names breaks the signature (SOA-01001).
 * The v1 port refuses XOP packages (SOA-03001), as its contract has no MTOM.
 */

const CITIZEN = '85073003328';
/** fixtures/ebox-profiles.json: exists false (never opened an e-Box). */
const CITIZEN_WITHOUT_EBOX = '85010100115';
const TYPES = 'http://socialsecurity.be/registeredmail/types/v1';
const SERVICE_NS = 'urn:registeredmail:service:v1';
const TICKET = /^[0-9A-HJ-NP-Z]{13}$/;
const MiB = 1024 * 1024;

function sha256(data: Buffer, encoding: 'hex' | 'base64'): string {
  return createHash('sha256').update(data).digest(encoding);
}

function parse(xml: string | Buffer): Element {
  return new DOMParser().parseFromString(xml.toString(), 'text/xml').documentElement as Element;
}

/** The files of a sample: each Content decoded, and the DigestValue declared next to it. */
function sampleFiles(sample: string): { content: Buffer; digestValue: string }[] {
  const payload = parse(sample);
  return ['Document', 'Annex'].flatMap((name) =>
    Array.from(payload.getElementsByTagNameNS(SERVICE_NS, name)).map((file) => ({
      content: Buffer.from(file.getElementsByTagNameNS(SERVICE_NS, 'Content')[0].textContent ?? '', 'base64'),
      digestValue: file.getElementsByTagNameNS(TYPES, 'DigestValue')[0].textContent ?? '',
    })),
  );
}

/** What a Receipt.xml states: ticket, Token and the digests of the files, in order. */
function receiptFacts(content: Buffer): { root: string; ticket: string; token: string; digests: string[] } {
  const receipt = parse(content);
  const text = (name: string) => receipt.getElementsByTagNameNS(TYPES, name)[0]?.textContent ?? '';
  return {
    root: `{${receipt.namespaceURI}}${receipt.localName}`,
    ticket: text('Ticket'),
    token: text('Token'),
    digests: Array.from(receipt.getElementsByTagNameNS(TYPES, 'DigestValue')).map(
      (node) => node.textContent ?? '',
    ),
  };
}

function citizenSpec(token: string, overrides: Partial<SendRegisteredMailSpec> = {}): SendRegisteredMailSpec {
  return {
    token,
    recipient: { kind: 'citizen', inss: CITIZEN },
    document: { content: samplePdf(token) },
    annexes: [{ content: Buffer.from(`annex of ${token}`) }],
    ...overrides,
  };
}

/** The same spec with every file sent as an MTOM part (Content-IDs as CXF makes them). */
function asMtom(spec: SendRegisteredMailSpec): SendRegisteredMailSpec {
  const id = (index: number) =>
    `${createHash('sha1').update(spec.token).digest('hex')}-${index}@cxf.apache.org`;
  return {
    ...spec,
    document: { ...spec.document, contentId: id(1) },
    annexes: (spec.annexes ?? []).map((annex, index) => ({ ...annex, contentId: id(index + 2) })),
  };
}

describe('SendRegisteredMail on the own port', () => {
  let rm: TestService;
  let reader: ServiceAnswerReader;
  let caFile: string;

  beforeAll(async () => {
    // Delivery paused: accepted items stay PENDING (delivery is the status tests' business).
    rm = await startTestService({ RM_DELIVERY_PAUSED: 'true' });
    reader = await ServiceAnswerReader.load(rm.service.pki!.signer.certificateDer);
    caFile = rm.service.pki!.ca.certPemPath;
  });
  afterAll(async () => {
    reader?.dispose();
    // close() also verifies every stored receipt with openssl and Bouncy Castle.
    await rm?.close();
  });

  function sendInline(envelope: string): Promise<HttpResult> {
    return postToServicePort(rm, rm.sign(envelope), 'SendRegisteredMail');
  }

  /** POSTs an XOP package; `signedEnvelope` goes as is (sign it first, with its Includes). */
  function sendMtom(signedEnvelope: string, parts: readonly MtomPart[], url = servicePortUrl(rm)) {
    return postMtom(url, signedEnvelope, parts, { soapAction: serviceSoapAction('SendRegisteredMail') });
  }

  /** The stored bytes of a content (in the database or the blob directory). */
  function storedBytes(content: Buffer): Promise<Buffer> {
    return defaultContentStore(rm.service.dataSource, rm.dataDir).read(sha256(content, 'hex'));
  }

  function isStored(content: Buffer): Promise<boolean> {
    return defaultContentStore(rm.service.dataSource, rm.dataDir).has(sha256(content, 'hex'));
  }

  async function itemsWithToken(token: string): Promise<number> {
    const rows = await queryRows<{ count: number | string }>(
      rm.service.dataSource,
      'SELECT COUNT(*) AS count FROM registered_mail_item WHERE token = :token',
      { token },
    );
    return Number(rows[0].count);
  }

  /** The receipt's metadata, and what openssl and verify-proof find wrong with it (nothing, expected). */
  async function expectVerifiedReceipt(answer: SendAnswer, files: readonly Buffer[]): Promise<void> {
    const { receipt } = answer;
    expect(receipt).toMatchObject({
      title: 'Receipt',
      digestMethod: 'SHA-256',
      digestValue: sha256(receipt.content, 'base64'),
      downloadFileName: 'Receipt.xml',
      mime: 'text/xml',
      type: 'RECEIPT',
      language: 'en',
    });
    reader.validateProofContent(receipt.content);
    expect(receiptFacts(receipt.content)).toEqual({
      root: `{${TYPES}}ReceiptContent`,
      ticket: answer.ticket,
      token: answer.token,
      digests: files.map((file) => sha256(file, 'base64')),
    });
    const problems = await proofProblems(
      {
        label: `receipt of ${answer.ticket}`,
        content: receipt.content,
        signature: receipt.signature,
        signedFile: { digestMethod: receipt.digestMethod, digestValue: receipt.digestValue },
      },
      caFile,
      rm.clock.now(),
    );
    expect(problems).toEqual([]);
  }

  describe('with inline base64', () => {
    testWithTool('openssl', ['version']).each([
      ['SendRegisteredMail-citizen.xml', 'DOSSIER-2024-000123', 3],
      ['SendRegisteredMail-enterprise.xml', 'EMP-0206731645-2024-07', 1],
    ])(
      'accepts the sample %s: Ticket, Token, a Receipt openssl verifies; stored as a v1 item',
      async (fileName, token, fileCount) => {
        const sample = serviceSample(fileName);
        const files = sampleFiles(sample);
        expect(files).toHaveLength(fileCount);
        for (const file of files) expect(sha256(file.content, 'base64')).toBe(file.digestValue);

        const answer = await reader.send(await sendInline(sample));
        expect(answer.ticket).toMatch(TICKET);
        expect(answer.token).toBe(token);
        await expectVerifiedReceipt(
          answer,
          files.map((file) => file.content),
        );

        // The decoded bytes are stored under their SHA-256, as a v1 item's attachments.
        for (const file of files) expect(await storedBytes(file.content)).toEqual(file.content);

        // One item, which the v1 port reads as its own.
        expect(await itemsWithToken(token)).toBe(1);
        const v1Status = await readStatusAnswer(await rm.postXml(rm.sign(getStatusEnvelope(answer.ticket))));
        expect(v1Status).toMatchObject({ ticket: answer.ticket, token, status: 'PENDING' });

        // The same request again (signed anew): the same item, the receipt exactly as issued.
        const retry = await reader.send(await sendInline(sample));
        expect(retry.ticket).toBe(answer.ticket);
        expect(retry.receipt.content.equals(answer.receipt.content)).toBe(true);
        expect(retry.receipt.signature.equals(answer.receipt.signature)).toBe(true);
        expect(await itemsWithToken(token)).toBe(1);
      },
    );

    it('refuses the same Token with another document (REPO_B03), storing nothing more', async () => {
      const first = await reader.send(
        await sendInline(sendRegisteredMailEnvelope(citizenSpec('T-conflict'))),
      );
      const other = citizenSpec('T-conflict', { document: { content: samplePdf('another document') } });
      await reader.fault(await sendInline(sendRegisteredMailEnvelope(other)), {
        code: 'REPO_B03',
        kind: 'BusinessError',
      });
      expect(await itemsWithToken('T-conflict')).toBe(1);
      expect(await isStored(other.document.content)).toBe(false);
      // The first item is untouched: its retry still answers its receipt.
      const retry = await reader.send(
        await sendInline(sendRegisteredMailEnvelope(citizenSpec('T-conflict'))),
      );
      expect(retry.ticket).toBe(first.ticket);
    });

    it('refuses a Digest that does not match the decoded bytes (FILE_B01), storing nothing', async () => {
      const spec = citizenSpec('T-inline-mismatch');
      spec.annexes![0].digestValue = sha256(Buffer.from('other bytes'), 'base64');
      const fault = await reader.fault(await sendInline(sendRegisteredMailEnvelope(spec)), {
        code: 'FILE_B01',
        kind: 'BusinessError',
      });
      expect(fault.messages[0]).toEqual({ text: "Digest doesn't match document.", lang: 'en' });
      expect(await itemsWithToken('T-inline-mismatch')).toBe(0);
    });

    it.each([
      ['a character outside base64', 'JVBER!0xLjQK'],
      ['a length that is not a multiple of four', 'JVBERi0'],
      ['padding in the middle', 'JV==Ri0xLjQK'],
      ['non-zero bits before the padding', 'QR=='],
    ])('refuses a Content with %s as not XSD compliant (SOA-03006)', async (_case, contentText) => {
      const token = `T-base64-${contentText.length}-${sha256(Buffer.from(contentText), 'hex').slice(0, 6)}`;
      const spec = citizenSpec(token, { document: { content: samplePdf(token), contentText } });
      await reader.fault(await sendInline(sendRegisteredMailEnvelope(spec)), {
        code: 'SOA-03006',
        kind: 'SystemError',
      });
      expect(await itemsWithToken(token)).toBe(0);
    });

    it('refuses a recipient without an e-Box when CheckEboxStatus is ACTIVATED (EBOX_B01), accepts it with BYPASS', async () => {
      const recipient = { kind: 'citizen', inss: CITIZEN_WITHOUT_EBOX } as const;
      const checked = citizenSpec('T-no-ebox-activated', { recipient, checkEboxStatus: 'ACTIVATED' });
      await reader.fault(await sendInline(sendRegisteredMailEnvelope(checked)), {
        code: 'EBOX_B01',
        kind: 'BusinessError',
      });
      expect(await itemsWithToken('T-no-ebox-activated')).toBe(0);

      const bypass = citizenSpec('T-no-ebox-bypass', { recipient, checkEboxStatus: 'BYPASS' });
      const answer = await reader.send(await sendInline(sendRegisteredMailEnvelope(bypass)));
      expect(answer.ticket).toMatch(TICKET);
    });
  });

  describe('with MTOM/XOP', () => {
    testWithTool('openssl', ['version'])(
      'accepts a document and two annexes as parts referenced by xop:Include in the signed envelope',
      async () => {
        const spec = asMtom(
          citizenSpec('T-mtom', {
            annexes: [
              { content: randomBytes(3000), mime: 'application/zip' },
              { content: Buffer.from('a;b\n1;2\n'), mime: 'text/csv', digestMethod: 'SHA-512' },
            ],
          }),
        );
        const signed = rm.sign(sendRegisteredMailEnvelope(spec));
        // Signed as sent: the Includes are in the signed Body, the bytes are not.
        expect(signed.match(/<xop:Include /g)).toHaveLength(3);
        expect(signed).not.toContain(spec.document.content.toString('base64'));

        const answer = await reader.send(await sendMtom(signed, mtomPartsOf(spec)));
        expect(answer).toMatchObject({ token: 'T-mtom', ticket: expect.stringMatching(TICKET) });
        const files = [spec.document, ...spec.annexes!];
        for (const file of files) expect(await storedBytes(file.content)).toEqual(file.content);
        reader.validateProofContent(answer.receipt.content);
        const digests = receiptFacts(answer.receipt.content).digests;
        expect(digests).toEqual([
          sha256(files[0].content, 'base64'),
          sha256(files[1].content, 'base64'),
          createHash('sha512').update(files[2].content).digest('base64'),
        ]);
        expect(
          await proofProblems(
            {
              label: 'receipt of T-mtom',
              content: answer.receipt.content,
              signature: answer.receipt.signature,
            },
            caFile,
            rm.clock.now(),
          ),
        ).toEqual([]);

        // The retry may come inline: the same bytes make the same request, whatever carries them.
        const inline = await reader.send(
          await sendInline(
            sendRegisteredMailEnvelope({
              ...citizenSpec('T-mtom'),
              annexes: spec.annexes!.map(({ contentId: _unused, ...annex }) => annex),
            }),
          ),
        );
        expect(inline.ticket).toBe(answer.ticket);
        expect(inline.receipt.content.equals(answer.receipt.content)).toBe(true);
      },
    );

    it('streams a 5 MiB document part into the blob store with the SHA-256 of the bytes sent', async () => {
      const chunks = Array.from({ length: 80 }, () => randomBytes(64 * 1024));
      const document = Buffer.concat(chunks);
      expect(document.length).toBe(5 * MiB);
      const spec = citizenSpec('T-mtom-large', {
        document: { content: document, contentId: 'large-document@cxf.apache.org' },
        // One annex inline, beside the MTOM part: both ways in one message.
        annexes: [{ content: Buffer.from('an inline annex') }],
      });
      const signed = rm.sign(sendRegisteredMailEnvelope(spec));
      expect(Buffer.byteLength(signed)).toBeLessThan(16 * 1024);

      const result = await sendMtom(signed, [
        { contentId: 'large-document@cxf.apache.org', contentType: 'application/pdf', content: chunks },
      ]);
      const answer = await reader.send(result);
      const stored = await storedBytes(document);
      expect(stored.length).toBe(5 * MiB);
      expect(sha256(stored, 'hex')).toBe(sha256(document, 'hex'));
      expect(receiptFacts(answer.receipt.content).digests).toEqual([
        sha256(document, 'base64'),
        sha256(Buffer.from('an inline annex'), 'base64'),
      ]);
      // No staging file is left behind.
      expect(readdirRecursive(path.join(rm.dataDir, 'staging'))).toEqual([]);
    });

    it('refuses a part that does not match its Digest (FILE_B01), storing nothing', async () => {
      const spec = asMtom(citizenSpec('T-mtom-mismatch'));
      spec.document.digestValue = sha256(Buffer.from('not the document'), 'base64');
      const fault = await reader.fault(
        await sendMtom(rm.sign(sendRegisteredMailEnvelope(spec)), mtomPartsOf(spec)),
        {
          code: 'FILE_B01',
          kind: 'BusinessError',
        },
      );
      expect(fault.messages[0].text).toBe("Digest doesn't match document.");
      expect(await itemsWithToken('T-mtom-mismatch')).toBe(0);
      expect(await isStored(spec.document.content)).toBe(false);
    });

    it('the signed Digest binds the bytes: a tampered part keeps the signature valid and fails with FILE_B01', async () => {
      const spec = asMtom(citizenSpec('T-mtom-tampered'));
      const signed = rm.sign(sendRegisteredMailEnvelope(spec));
      const [documentPart, annexPart] = mtomPartsOf(spec);
      const original = spec.document.content;
      const tampered = Buffer.from(original);
      tampered[20] ^= 0x01;

      // The envelope's signature covers the Body as sent (Includes, not bytes): it still verifies.
      const asSent = parseEnvelope(Buffer.from(signed), { maxDepth: 64, maxElements: 20_000 });
      const [signature] = (await processSecurityHeader(asSent)).securityHeaders[0].signatures;
      expect(signature.signatureValue).toEqual({ outcome: 'valid' });
      expect(signature.references.find((reference) => reference.element === asSent.body)?.digest).toEqual({
        outcome: 'valid',
      });
      for (const reference of signature.references) expect(reference.digest).toEqual({ outcome: 'valid' });

      // The service authenticates the message, then finds the part is not what the signed Digest states.
      const fault = await reader.fault(
        await sendMtom(signed, [{ ...documentPart, content: tampered }, annexPart]),
        {
          code: 'FILE_B01',
          kind: 'BusinessError',
        },
      );
      expect(fault.messages[0].text).toBe("Digest doesn't match document.");
      expect(await itemsWithToken('T-mtom-tampered')).toBe(0);
      expect(await isStored(tampered)).toBe(false);

      // It was authenticated: the replay cache remembers it, so the same message is not accepted twice
      // even with the right bytes (SOA-01001); signed anew, the untampered request is accepted.
      await reader.fault(await sendMtom(signed, [documentPart, annexPart]), {
        code: 'SOA-01001',
        kind: 'SystemError',
      });
      const answer = await reader.send(
        await sendMtom(rm.sign(sendRegisteredMailEnvelope(spec)), [documentPart, annexPart]),
      );
      expect(receiptFacts(answer.receipt.content).digests[0]).toBe(sha256(original, 'base64'));
    });

    it('the Include is signed: pointing it at another part breaks the signature (SOA-01001)', async () => {
      const spec = asMtom(citizenSpec('T-mtom-swapped'));
      const signed = rm.sign(sendRegisteredMailEnvelope(spec));
      const swapped = signed.replace(
        `href="cid:${spec.document.contentId}"`,
        'href="cid:substitute@cxf.apache.org"',
      );
      expect(swapped).not.toBe(signed);
      const [, annexPart] = mtomPartsOf(spec);
      await reader.fault(
        await sendMtom(swapped, [
          {
            contentId: 'substitute@cxf.apache.org',
            contentType: 'application/pdf',
            content: spec.document.content,
          },
          annexPart,
        ]),
        { code: 'SOA-01001', kind: 'SystemError', message: 'Service call not authenticated.' },
      );
      expect(await itemsWithToken('T-mtom-swapped')).toBe(0);
    });

    it('the v1 port refuses an XOP package before authentication (SOA-03001)', async () => {
      const document = samplePdf('T-v1-xop');
      const envelope = rm.sign(
        sendDocumentEnvelope({
          token: 'T-v1-xop',
          recipient: { kind: 'citizen', inss: CITIZEN },
          document: { content: document, contentId: 'document@cxf.apache.org' },
        }),
      );
      await reader.fault(
        await sendMtom(envelope, [{ contentId: 'document@cxf.apache.org', content: document }], rm.url),
        {
          code: 'SOA-03001',
          kind: 'SystemError',
          message: 'Malformed message: multipart/related root type application/xop+xml is not supported',
        },
      );
      expect(await itemsWithToken('T-v1-xop')).toBe(0);
    });
  });
});

/** Every file under `dir` (none when it does not exist). */
function readdirRecursive(dir: string): string[] {
  if (!existsSync(dir)) return [];
  return readdirSync(dir, { recursive: true, withFileTypes: true })
    .filter((entry) => entry.isFile())
    .map((entry) => path.join(entry.parentPath, entry.name));
}
