import { createHash } from 'node:crypto';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { Readable } from 'node:stream';
import type { Element } from '@xmldom/xmldom';
import type { AttachmentSource, OperationContext } from '../../src/contract/operation-handler';
import { createServiceHandlers, type ServicePortServices } from '../../src/contract/service/operations';
import type { SendInput } from '../../src/contract/send-services';
import { PayloadValidator } from '../../src/contract/xsd-validator';
import type { IssuedReceipt, SendDocumentCommand, StagedContent } from '../../src/domain/model';
import { EboxNotActivatedError } from '../../src/errors/faults';
import { createLogger } from '../../src/logging/logger';
import { XOP_NAMESPACE, extractXopIncludes } from '../../src/soap/xop-includes';
import { StagingArea } from '../../src/storage/staging-area';
import {
  FIXTURES_DIR,
  NS,
  XSD_DIR,
  bodyPayload,
  first,
  readServiceFixture,
  receivedPayload,
} from './contract-test-support';
import { stagedBytesOf, stagedFileOf } from '../support/staged-bytes';

/*
 * The SendRegisteredMail handler: the sample payloads mapped to the domain's SendDocumentCommand (the
 * command v1 sendDocument produces), each file's bytes staged from inline base64 or from its MTOM/XOP part
 * into a real staging area, precheck before any byte is read, and the strict refusals of bad contents.
 * The domain behind it is a stand-in (it is tested elsewhere).
 */

const ATTACHMENTS_DIR = path.join(FIXTURES_DIR, 'attachments');
const DOCUMENT = fs.readFileSync(path.join(ATTACHMENTS_DIR, 'document.pdf'));
const ANNEX_1 = fs.readFileSync(path.join(ATTACHMENTS_DIR, 'annex-1.txt'));
const ANNEX_2 = fs.readFileSync(path.join(ATTACHMENTS_DIR, 'annex-2.csv'));
const RECEIPT_XML = fs.readFileSync(path.join(FIXTURES_DIR, 'Receipt.xml'));
const SENDER = { cbe: '0861023666', applicationId: 'RegisteredMailSampleSender' };

const sha256 = (bytes: Buffer) => createHash('sha256').update(bytes).digest();
const sha512 = (bytes: Buffer) => createHash('sha512').update(bytes).digest();

const receipt: IssuedReceipt = {
  ticket: '7K3M9QX2BH4TZ',
  token: 'DOSSIER-2024-000123',
  content: RECEIPT_XML,
  contentSha256: sha256(RECEIPT_XML),
  signature: Buffer.from('3082010a0201013100300b0609', 'hex'),
  issuedAt: new Date('2024-07-01T09:30:05.000Z'),
};

/** A file as the stand-in send saw it: its staged description and the bytes read back from staging. */
interface SeenFile {
  staged: StagedContent;
  bytes: Buffer;
}

let validator: PayloadValidator;
let dataDir: string;
let staging: StagingArea;

beforeAll(async () => {
  validator = await PayloadValidator.load(XSD_DIR);
});

afterAll(() => validator.dispose());

beforeEach(() => {
  dataDir = fs.mkdtempSync(path.join(os.tmpdir(), 'service-send-'));
  staging = new StagingArea(dataDir);
});

afterEach(() => fs.rmSync(dataDir, { recursive: true, force: true }));

/** The staging sessions still on disk (every request discards its own). */
function stagingLeftovers(): string[] {
  return fs.existsSync(staging.root) ? fs.readdirSync(staging.root) : [];
}

/** The SendRegisteredMailRequest payload of a sample. */
function samplePayload(name = 'SendRegisteredMail-citizen.xml'): Element {
  return bodyPayload(readServiceFixture(name));
}

/** The files (Document, then each Annex) of a payload. */
function files(payload: Element): Element[] {
  return [first(payload, NS.rms, 'Document'), ...Array.from(payload.getElementsByTagNameNS(NS.rms, 'Annex'))];
}

function contentOf(file: Element): Element {
  return first(file, NS.rms, 'Content');
}

/** Replaces an element's text. */
function setText(element: Element, text: string): void {
  while (element.firstChild) element.removeChild(element.firstChild);
  element.appendChild(element.ownerDocument!.createTextNode(text));
}

/**
 * Does to a file's Content what the SOAP layer does under MTOM: the `xop:Include` is taken out (the
 * element left empty) and the Content element is mapped to the part's Content-ID.
 */
function asXop(file: Element, contentId: string, references: Map<Element, string>): void {
  const content = contentOf(file);
  setText(content, '');
  references.set(content, contentId);
}

/** Attachment parts over in-memory bytes, in arrival order; `beforeRead` runs before each read. */
function partsSource(
  parts: { contentId: string; bytes: Buffer }[],
  beforeRead: () => void = () => undefined,
): AttachmentSource & { reads: number } {
  const queue = [...parts];
  return {
    reads: 0,
    async nextAttachment() {
      beforeRead();
      this.reads += 1;
      const part = queue.shift();
      return (
        part && {
          contentId: part.contentId,
          contentType: 'application/octet-stream',
          content: Readable.from([part.bytes]),
        }
      );
    },
    failure: () => undefined,
  };
}

/** A stand-in domain: records the order of the calls and what send received (read back from staging). */
function standInServices(options: { precheck?: (command: SendDocumentCommand) => Promise<void> } = {}) {
  const calls: string[] = [];
  const seen: {
    command?: SendDocumentCommand;
    document?: SeenFile;
    annexes?: SeenFile[];
    input?: SendInput;
  } = {};
  const readBack = (staged: StagedContent): SeenFile => ({ staged, bytes: stagedBytesOf(staged) });
  const services: ServicePortServices = {
    async precheck(command) {
      calls.push('precheck:start');
      await options.precheck?.(command);
      calls.push('precheck:done');
    },
    async send(input) {
      calls.push('send');
      seen.input = input;
      seen.command = input.command;
      seen.document = readBack(input.document);
      seen.annexes = input.annexes.map(readBack);
      return receipt;
    },
    openStaging() {
      calls.push('openStaging');
      const session = staging.openSession();
      return {
        stage: (source, stageOptions) => {
          calls.push('stage');
          return session.stage(source, stageOptions);
        },
        discard: () => session.discard(),
      };
    },
    history: async () => {
      throw new Error('not used by SendRegisteredMail');
    },
    proofs: async () => {
      throw new Error('not used by SendRegisteredMail');
    },
  };
  return { services, calls, seen };
}

function context(
  payload: Element,
  attachments: AttachmentSource = partsSource([]),
  xopReferences: ReadonlyMap<Element, string> = new Map(),
): OperationContext {
  return {
    payload,
    sender: SENDER,
    attachments,
    xopReferences,
    requestId: 'request-1',
    log: createLogger({ silent: true }),
  };
}

describe('SendRegisteredMail with inline contents', () => {
  it('maps the citizen sample to the domain command, as v1 sendDocument does', async () => {
    const { services, seen } = standInServices();
    await createServiceHandlers(services).SendRegisteredMail(context(samplePayload()));

    expect(seen.command).toEqual({
      token: 'DOSSIER-2024-000123',
      recipient: { kind: 'citizen', inss: '85073003328', qualityCode: 'CITIZEN' },
      checkEboxStatus: 'ACTIVATED',
      document: {
        title: 'Decision on your file DOSSIER-2024-000123',
        digest: { method: 'SHA-256', value: sha256(DOCUMENT) },
        downloadFileName: 'decision.pdf',
        mime: 'application/pdf',
        type: 'EDER501',
        language: 'fr',
      },
      annexes: [
        {
          title: 'Explanatory note',
          digest: { method: 'SHA-256', value: sha256(ANNEX_1) },
          downloadFileName: 'note.txt',
          mime: 'text/plain',
        },
        {
          title: 'Calculation details',
          digest: { method: 'SHA-256', value: sha256(ANNEX_2) },
          downloadFileName: 'calculation.csv',
          mime: 'text/csv',
        },
      ],
      meta: [
        { type: 'FileReference', values: ['DOSSIER-2024-000123'] },
        { type: 'Period', values: ['2024-Q1', '2024-Q2'] },
      ],
    } satisfies SendDocumentCommand);
    expect(seen.input?.sender).toEqual(SENDER);
    expect(seen.input?.requestId).toBe('request-1');
  });

  it('stages the decoded bytes with their SHA-256 and answers the receipt, valid', async () => {
    const { services, seen } = standInServices();
    const { payload, attachments } = await createServiceHandlers(services).SendRegisteredMail(
      context(samplePayload()),
    );

    expect(seen.document?.bytes.equals(DOCUMENT)).toBe(true);
    expect(seen.document?.staged.sha256.equals(sha256(DOCUMENT))).toBe(true);
    expect(seen.document?.staged.size).toBe(DOCUMENT.length);
    expect(seen.document?.staged.sha512).toBeUndefined();
    expect(seen.annexes?.map((annex) => annex.bytes.toString('utf8'))).toEqual([
      ANNEX_1.toString('utf8'),
      ANNEX_2.toString('utf8'),
    ]);
    expect(seen.annexes?.map((annex) => annex.staged.sha256.toString('hex'))).toEqual([
      sha256(ANNEX_1).toString('hex'),
      sha256(ANNEX_2).toString('hex'),
    ]);
    expect(stagedFileOf(seen.document!.staged).startsWith(staging.root)).toBe(true);

    const received = receivedPayload(payload);
    expect(() => validator.validateElement(received)).not.toThrow();
    expect(attachments).toEqual([]);
    expect(first(received, NS.rms, 'Ticket').textContent).toBe(receipt.ticket);
    const content = first(first(received, NS.rms, 'Receipt'), NS.rms, 'Content').textContent ?? '';
    expect(Buffer.from(content, 'base64').equals(RECEIPT_XML)).toBe(true);
    expect(stagingLeftovers()).toEqual([]);
  });

  it('maps the enterprise sample: Enterprise recipient, BYPASS, no annex', async () => {
    const { services, seen } = standInServices();
    await createServiceHandlers(services).SendRegisteredMail(
      context(samplePayload('SendRegisteredMail-enterprise.xml')),
    );
    expect(seen.command?.recipient).toEqual({
      kind: 'enterprise',
      cbe: '0206731645',
      qualityCode: 'QUAL_EMP_NOSS',
    });
    expect(seen.command?.checkEboxStatus).toBe('BYPASS');
    expect(seen.command?.document.language).toBe('nl');
    expect(seen.command?.annexes).toEqual([]);
    expect(seen.annexes).toEqual([]);
    expect(seen.document?.bytes.equals(DOCUMENT)).toBe(true);
  });

  it('defaults CheckEboxStatus to ACTIVATED, as v1', async () => {
    const payload = samplePayload();
    const check = first(payload, NS.rms, 'CheckEboxStatus');
    check.parentNode!.removeChild(check);
    const { services, seen } = standInServices();
    await createServiceHandlers(services).SendRegisteredMail(context(payload));
    expect(seen.command?.checkEboxStatus).toBe('ACTIVATED');
  });

  it('also computes SHA-512 for a file whose Digest declares it', async () => {
    const payload = samplePayload();
    const digest = first(first(payload, NS.rms, 'Document'), NS.rms, 'Digest');
    setText(first(digest, NS.types, 'DigestMethod'), 'SHA-512');
    setText(first(digest, NS.types, 'DigestValue'), sha512(DOCUMENT).toString('base64'));
    const { services, seen } = standInServices();
    await createServiceHandlers(services).SendRegisteredMail(context(payload));
    expect(seen.command?.document.digest).toEqual({ method: 'SHA-512', value: sha512(DOCUMENT) });
    expect(seen.document?.staged.sha512?.equals(sha512(DOCUMENT))).toBe(true);
    expect(seen.annexes?.[0].staged.sha512).toBeUndefined();
  });

  it('accepts base64 broken into lines with spaces, CR and LF (XML whitespace)', async () => {
    const payload = samplePayload();
    setText(
      contentOf(files(payload)[0]),
      `\n  ${DOCUMENT.toString('base64').replace(/.{64}/g, '$&\r\n \t')}\n`,
    );
    const { services, seen } = standInServices();
    await createServiceHandlers(services).SendRegisteredMail(context(payload));
    expect(seen.document?.bytes.equals(DOCUMENT)).toBe(true);
  });
});

describe('SendRegisteredMail refuses a Content that does not hold bytes', () => {
  // libxml2 validates base64Binary by counting the alphabet's characters and lets the others through
  // (e.g. 'QU!JD', 'QUJD:', 'QU-JD' pass the schema): the handler's strict reading completes it.
  it.each([
    ['a character outside the base64 alphabet', 'SOA-03006', 'QU!JD'],
    ['a colon after four characters', 'SOA-03006', 'QUJD:'],
    ['URL-safe base64', 'SOA-03006', 'QU-JD'],
    ['a non-ASCII letter', 'SOA-03006', 'QUJD\u00e9'],
    ['a length that is not a multiple of four', 'SOA-03006', 'JVBERi0xL'],
    ['padding in the middle', 'SOA-03006', 'QQ==JVBE'],
    ['non-zero bits before the padding', 'SOA-03006', 'QR=='],
    ['a cid: URL (a swaRef, not an xop:Include)', 'FILE_B04', 'cid:document@registeredmail.example'],
    ['nothing', 'FILE_B04', ''],
    ['whitespace only', 'FILE_B04', ' \r\n\t '],
  ])('%s: %s, before the precheck and without staging', async (_name, code, text) => {
    const payload = samplePayload();
    setText(contentOf(files(payload)[1]), text);
    const { services, calls } = standInServices();
    await expect(createServiceHandlers(services).SendRegisteredMail(context(payload))).rejects.toMatchObject({
      code,
    });
    expect(calls).toEqual([]);
    expect(stagingLeftovers()).toEqual([]);
  });
});

describe('SendRegisteredMail with MTOM/XOP contents', () => {
  it('streams each part into staging by Content-ID, whatever the arrival order, beside inline contents', async () => {
    const payload = samplePayload();
    const [document, annex1] = files(payload);
    const references = new Map<Element, string>();
    asXop(document, 'document@registeredmail.example', references);
    asXop(annex1, 'annex-1@registeredmail.example', references);
    const attachments = partsSource([
      { contentId: 'annex-1@registeredmail.example', bytes: ANNEX_1 },
      { contentId: 'document@registeredmail.example', bytes: DOCUMENT },
    ]);
    const { services, seen } = standInServices();

    const { payload: response } = await createServiceHandlers(services).SendRegisteredMail(
      context(payload, attachments, references),
    );

    expect(seen.document?.bytes.equals(DOCUMENT)).toBe(true);
    expect(seen.document?.staged.sha256.equals(sha256(DOCUMENT))).toBe(true);
    expect(seen.annexes?.map((annex) => annex.staged.sha256.toString('hex'))).toEqual([
      sha256(ANNEX_1).toString('hex'),
      sha256(ANNEX_2).toString('hex'),
    ]);
    expect(seen.annexes?.[0].bytes.equals(ANNEX_1)).toBe(true);
    expect(seen.command?.document.title).toBe('Decision on your file DOSSIER-2024-000123');
    expect(attachments.reads).toBe(3);
    expect(() => validator.validateElement(receivedPayload(response))).not.toThrow();
    expect(stagingLeftovers()).toEqual([]);
  });

  it('takes its references from what the SOAP layer extracts from xop:Include elements', async () => {
    const payload = samplePayload('SendRegisteredMail-enterprise.xml');
    const content = contentOf(files(payload)[0]);
    setText(content, '');
    const include = content.ownerDocument!.createElementNS(XOP_NAMESPACE, 'xop:Include');
    include.setAttribute('href', 'cid:document%40registeredmail.example');
    content.appendChild(include);
    const references = extractXopIncludes(payload);
    const { services, seen } = standInServices();
    await createServiceHandlers(services).SendRegisteredMail(
      context(
        payload,
        partsSource([{ contentId: 'document@registeredmail.example', bytes: DOCUMENT }]),
        references,
      ),
    );
    expect(seen.document?.bytes.equals(DOCUMENT)).toBe(true);
  });

  it('hashes a part with SHA-512 when its Digest declares it', async () => {
    const payload = samplePayload('SendRegisteredMail-enterprise.xml');
    const [document] = files(payload);
    setText(first(first(document, NS.rms, 'Digest'), NS.types, 'DigestMethod'), 'SHA-512');
    const references = new Map<Element, string>();
    asXop(document, 'doc', references);
    const { services, seen } = standInServices();
    await createServiceHandlers(services).SendRegisteredMail(
      context(payload, partsSource([{ contentId: 'doc', bytes: DOCUMENT }]), references),
    );
    expect(seen.document?.staged.sha512?.equals(sha512(DOCUMENT))).toBe(true);
  });

  it('runs the precheck before any attachment is read or any byte staged', async () => {
    const payload = samplePayload();
    const references = new Map<Element, string>();
    asXop(files(payload)[0], 'doc', references);
    let prechecked = false;
    const attachments = partsSource([{ contentId: 'doc', bytes: DOCUMENT }], () => {
      if (!prechecked) throw new Error('an attachment was read before the precheck resolved');
    });
    const { services, calls } = standInServices({
      precheck: async () => {
        // Let every pending callback run: nothing may read the request meanwhile.
        await new Promise((resolve) => setImmediate(resolve));
        prechecked = true;
      },
    });

    await createServiceHandlers(services).SendRegisteredMail(context(payload, attachments, references));

    expect(calls).toEqual([
      'precheck:start',
      'precheck:done',
      'openStaging',
      'stage',
      'stage',
      'stage',
      'send',
    ]);
  });

  it('reads and stages nothing when the precheck refuses', async () => {
    const payload = samplePayload();
    const references = new Map<Element, string>();
    asXop(files(payload)[0], 'doc', references);
    const attachments = partsSource([{ contentId: 'doc', bytes: DOCUMENT }]);
    const { services, calls } = standInServices({
      precheck: async () => {
        throw new EboxNotActivatedError();
      },
    });
    await expect(
      createServiceHandlers(services).SendRegisteredMail(context(payload, attachments, references)),
    ).rejects.toMatchObject({ code: 'EBOX_B01' });
    expect(attachments.reads).toBe(0);
    expect(calls).toEqual(['precheck:start']);
    expect(stagingLeftovers()).toEqual([]);
  });

  describe('FILE_B04 for references and parts that do not match', () => {
    async function refusal(
      prepare: (payload: Element, references: Map<Element, string>) => void,
      parts: { contentId: string; bytes: Buffer }[],
    ) {
      const payload = samplePayload();
      const references = new Map<Element, string>();
      prepare(payload, references);
      const { services, calls } = standInServices();
      const outcome = createServiceHandlers(services).SendRegisteredMail(
        context(payload, partsSource(parts), references),
      );
      await expect(outcome).rejects.toMatchObject({ code: 'FILE_B04' });
      expect(calls).not.toContain('send');
      expect(stagingLeftovers()).toEqual([]);
    }

    it('an xop:Include whose part is not in the request', () =>
      refusal((payload, references) => asXop(files(payload)[0], 'doc', references), []));

    it('a part that no Content references (also when every content is inline)', () =>
      refusal(() => undefined, [{ contentId: 'stray', bytes: ANNEX_1 }]));

    it('a part sent twice', () =>
      refusal(
        (payload, references) => asXop(files(payload)[0], 'doc', references),
        [
          { contentId: 'doc', bytes: DOCUMENT },
          { contentId: 'doc', bytes: DOCUMENT },
        ],
      ));

    it('one part referenced by two Contents', () =>
      refusal(
        (payload, references) => {
          asXop(files(payload)[0], 'doc', references);
          asXop(files(payload)[1], 'doc', references);
        },
        [{ contentId: 'doc', bytes: DOCUMENT }],
      ));

    it('an xop:Include outside a Content', () =>
      refusal(
        (payload, references) => references.set(first(files(payload)[0], NS.rms, 'Title'), 'title'),
        [{ contentId: 'title', bytes: ANNEX_1 }],
      ));

    it('a Content with both an xop:Include and inline text', () =>
      refusal(
        (payload, references) => references.set(contentOf(files(payload)[0]), 'doc'),
        [{ contentId: 'doc', bytes: DOCUMENT }],
      ));
  });

  it('discards the staged bytes when the send fails', async () => {
    const { services } = standInServices();
    const failing: ServicePortServices = {
      ...services,
      send: async (input) => {
        expect(fs.existsSync(stagedFileOf(input.document))).toBe(true);
        throw new Error('the store is down');
      },
    };
    await expect(createServiceHandlers(failing).SendRegisteredMail(context(samplePayload()))).rejects.toThrow(
      'the store is down',
    );
    expect(stagingLeftovers()).toEqual([]);
  });
});
