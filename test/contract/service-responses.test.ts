import { createHash } from 'node:crypto';
import fs from 'node:fs';
import path from 'node:path';
import type { Element } from '@xmldom/xmldom';
import { createServiceHandlers, type ServicePortServices } from '../../src/contract/service/operations';
import {
  renderGetProofResponse,
  renderGetStatusResponse,
  renderSendRegisteredMailResponse,
} from '../../src/contract/service/render-responses';
import type { OperationContext } from '../../src/contract/operation-handler';
import { PayloadValidator } from '../../src/contract/xsd-validator';
import type {
  IssuedReceipt,
  ItemHistoryView,
  ItemProofs,
  ProofFileKind,
  ProofFileView,
  ProofSelection,
} from '../../src/domain/model';
import { ProofNotIssuedError } from '../../src/errors/faults';
import { createLogger } from '../../src/logging/logger';
import {
  FIXTURES_DIR,
  NS,
  REPO_ROOT,
  XSD_DIR,
  all,
  bodyPayload,
  childElements,
  first,
  parseXml,
  receivedPayload,
  readServiceFixture,
} from './contract-test-support';

/*
 * RegisteredMailService's answers: SendRegisteredMailResponse (the receipt), GetStatusResponse (status
 * and history), GetProofResponse (proofs by kind). Every rendered payload is checked against the
 * schemas; proofs travel inline as base64, so no answer has attachment parts.
 */

const RECEIPT_XML = fs.readFileSync(path.join(FIXTURES_DIR, 'Receipt.xml'));
const EVIDENCE_DIR = path.join(REPO_ROOT, 'fixtures', 'evidence');
const CONTENTS: Record<ProofFileKind, Buffer> = {
  RECEIPT: RECEIPT_XML,
  DISPATCH: fs.readFileSync(path.join(EVIDENCE_DIR, 'ContentConsignment.xml')),
  CONSULTATION: fs.readFileSync(path.join(EVIDENCE_DIR, 'ContentHandover.xml')),
};
// The renderer hands signatures out as stored; distinct bytes per kind stand in for the CMS DER.
const SIGNATURES: Record<ProofFileKind, Buffer> = {
  RECEIPT: Buffer.from('3082010a0201013100300b0609', 'hex'),
  DISPATCH: Buffer.from('3082020b0201013100300b0609', 'hex'),
  CONSULTATION: Buffer.from('3082030c0201013100300b0609', 'hex'),
};
const TICKET = '7K3M9QX2BH4TZ';
const TOKEN = 'DOSSIER-2024-000123';
const SENDER = { cbe: '0861023666', applicationId: 'RegisteredMailSampleSender' };

function proofOf(kind: ProofFileKind): ProofFileView {
  const content = CONTENTS[kind];
  return {
    kind,
    content,
    contentSha256: createHash('sha256').update(content).digest(),
    signature: SIGNATURES[kind],
    issuedAt: new Date('2024-07-01T09:30:05.000Z'),
  };
}

const receipt: IssuedReceipt = { ticket: TICKET, token: TOKEN, ...proofOf('RECEIPT') };

const history: ItemHistoryView = {
  ticket: TICKET,
  token: TOKEN,
  status: 'SENT',
  events: [
    { name: 'ACCEPTED', time: new Date('2024-07-01T09:30:05.000Z'), status: 'PENDING' },
    {
      name: 'PUBLISHED',
      time: new Date('2024-07-01T09:31:06.123Z'),
      status: 'SENT',
      eboxMessageId: 'ebox-message-4711',
    },
    {
      name: 'NO_DIGITAL_USER',
      time: new Date('2024-07-01T09:31:06.200Z'),
      status: 'SENT',
      eboxMessageId: 'ebox-message-4711',
      detail: 'the recipient has never opened an e-Box',
    },
    { name: 'CONSULTED', time: new Date('2024-07-03T18:02:44.000Z'), status: 'SENT' },
  ],
};

const failed: ItemHistoryView = {
  ticket: TICKET,
  token: '',
  status: 'ERROR',
  events: [
    { name: 'ACCEPTED', time: new Date('2024-07-01T09:30:05.000Z'), status: 'PENDING' },
    {
      name: 'PUBLICATION_FAILED',
      time: new Date('2024-07-02T09:30:05.000Z'),
      status: 'ERROR',
      detail: 'e-Box refused the publication: <invalid> & "rejected"',
    },
  ],
};

let validator: PayloadValidator;

beforeAll(async () => {
  validator = await PayloadValidator.load(XSD_DIR);
});

afterAll(() => validator.dispose());

function names(element: Element): string[] {
  return childElements(element).map((child) => child.localName ?? '');
}

function rmsText(parent: Element, localName: string): string {
  return first(parent, NS.rms, localName).textContent ?? '';
}

const PROOF_FILE_SEQUENCE = [
  'Title',
  'Digest',
  'DownloadFileName',
  'MIME',
  'Type',
  'Language',
  'Content',
  'Signature',
];

/** Checks a ProofFile element against the bytes it describes. */
function expectProofFile(
  file: Element,
  kind: ProofFileKind,
  expected: { title: string; name: string; type: string },
) {
  expect(file.namespaceURI).toBe(NS.rms);
  expect(names(file)).toEqual(PROOF_FILE_SEQUENCE);
  expect(childElements(file).every((child) => child.namespaceURI === NS.rms)).toBe(true);
  expect(rmsText(file, 'Title')).toBe(expected.title);
  expect(rmsText(file, 'DownloadFileName')).toBe(expected.name);
  expect(rmsText(file, 'Type')).toBe(expected.type);
  expect(rmsText(file, 'MIME')).toBe('text/xml');
  expect(rmsText(file, 'Language')).toBe('en');
  const digest = first(file, NS.rms, 'Digest');
  expect(first(digest, NS.types, 'DigestMethod').textContent).toBe('SHA-256');
  const content = Buffer.from(rmsText(file, 'Content'), 'base64');
  expect(content.equals(CONTENTS[kind])).toBe(true);
  const digestValue = Buffer.from(first(digest, NS.types, 'DigestValue').textContent ?? '', 'base64');
  expect(digestValue.equals(createHash('sha256').update(content).digest())).toBe(true);
  expect(Buffer.from(rmsText(file, 'Signature'), 'base64').equals(SIGNATURES[kind])).toBe(true);
}

const DESCRIPTIONS: Record<ProofFileKind, { title: string; name: string; type: string }> = {
  RECEIPT: { title: 'Receipt', name: 'Receipt.xml', type: 'RECEIPT' },
  DISPATCH: { title: 'ProofOfDispatch', name: 'ProofOfDispatch.xml', type: 'PROOF_OF_DISPATCH' },
  CONSULTATION: {
    title: 'ProofOfConsultation',
    name: 'ProofOfConsultation.xml',
    type: 'PROOF_OF_CONSULTATION',
  },
};

describe('renderSendRegisteredMailResponse', () => {
  const { payload, attachments } = renderSendRegisteredMailResponse(receipt);
  const received = receivedPayload(payload);

  it('validates against the schemas and has no attachment part', () => {
    expect(() => validator.validateElement(received)).not.toThrow();
    expect(attachments).toEqual([]);
  });

  it('answers Ticket, Token and the receipt as a ProofFile with the receipt bytes inline', () => {
    expect(received.namespaceURI).toBe(NS.rms);
    expect(received.localName).toBe('SendRegisteredMailResponse');
    expect(names(received)).toEqual(['Ticket', 'Token', 'Receipt']);
    expect(rmsText(received, 'Ticket')).toBe(TICKET);
    expect(rmsText(received, 'Token')).toBe(TOKEN);
    expectProofFile(first(received, NS.rms, 'Receipt'), 'RECEIPT', DESCRIPTIONS.RECEIPT);
  });

  it('validates with an empty Token', () => {
    expect(() =>
      validator.validateElement(
        receivedPayload(renderSendRegisteredMailResponse({ ...receipt, token: '' }).payload),
      ),
    ).not.toThrow();
  });
});

describe('renderGetStatusResponse', () => {
  it('answers the status and every event in order, each time in UTC, with the optional parts when known', () => {
    const { payload, attachments } = renderGetStatusResponse(history);
    const received = receivedPayload(payload);
    expect(() => validator.validateElement(received)).not.toThrow();
    expect(attachments).toEqual([]);

    expect(received.localName).toBe('GetStatusResponse');
    expect(names(received)).toEqual(['Ticket', 'Token', 'Status', 'Event', 'Event', 'Event', 'Event']);
    expect(rmsText(received, 'Status')).toBe('SENT');
    const events = all(received, NS.rms, 'Event');
    expect(events.map((event) => rmsText(event, 'Name'))).toEqual([
      'ACCEPTED',
      'PUBLISHED',
      'NO_DIGITAL_USER',
      'CONSULTED',
    ]);
    expect(events.map((event) => rmsText(event, 'Time'))).toEqual([
      '2024-07-01T09:30:05.000Z',
      '2024-07-01T09:31:06.123Z',
      '2024-07-01T09:31:06.200Z',
      '2024-07-03T18:02:44.000Z',
    ]);
    expect(events.map((event) => rmsText(event, 'Status'))).toEqual(['PENDING', 'SENT', 'SENT', 'SENT']);
    expect(names(events[0])).toEqual(['Name', 'Time', 'Status']);
    expect(names(events[1])).toEqual(['Name', 'Time', 'Status', 'EboxMessageId']);
    expect(rmsText(events[1], 'EboxMessageId')).toBe('ebox-message-4711');
    expect(names(events[2])).toEqual(['Name', 'Time', 'Status', 'EboxMessageId', 'Detail']);
  });

  it('answers a failed item with the reason as the Detail (escaped, never concatenated)', () => {
    const { payload } = renderGetStatusResponse(failed);
    const received = receivedPayload(payload);
    expect(() => validator.validateElement(received)).not.toThrow();
    expect(rmsText(received, 'Status')).toBe('ERROR');
    expect(rmsText(received, 'Token')).toBe('');
    const [, failure] = all(received, NS.rms, 'Event');
    expect(rmsText(failure, 'Name')).toBe('PUBLICATION_FAILED');
    expect(rmsText(failure, 'Detail')).toBe('e-Box refused the publication: <invalid> & "rejected"');
  });

  it('answers a reason holding characters XML cannot carry (from an outside service) as well-formed XML', () => {
    const [accepted, refused] = failed.events;
    const withControls = { ...refused, detail: 'the e-Box said \u0000\u0007 and \ud800' };
    const { payload } = renderGetStatusResponse({ ...failed, events: [accepted, withControls] });
    const received = receivedPayload(payload);
    expect(() => validator.validateElement(received)).not.toThrow();
    const [, failure] = all(received, NS.rms, 'Event');
    expect(rmsText(failure, 'Detail')).toBe('the e-Box said \ufffd\ufffd and \ufffd');
  });

  it('leaves out an empty e-Box message id (the schema wants one character at least)', () => {
    const view: ItemHistoryView = {
      ...history,
      events: [{ name: 'PUBLISHED', time: new Date(0), status: 'SENT', eboxMessageId: '' }],
    };
    const received = receivedPayload(renderGetStatusResponse(view).payload);
    expect(() => validator.validateElement(received)).not.toThrow();
    expect(names(first(received, NS.rms, 'Event'))).toEqual(['Name', 'Time', 'Status']);
  });

  it('refuses a history without events (the schema wants one, and an item is at least ACCEPTED)', () => {
    expect(() => renderGetStatusResponse({ ...history, events: [] })).toThrow(/without events/);
  });
});

describe('renderGetProofResponse', () => {
  const proofs = (...kinds: ProofFileKind[]): ItemProofs => ({
    ticket: TICKET,
    token: TOKEN,
    proofs: kinds.map(proofOf),
  });

  it.each(['RECEIPT', 'DISPATCH', 'CONSULTATION'] as const)('answers the %s proof alone, valid', (kind) => {
    const { payload, attachments } = renderGetProofResponse(kind, proofs(kind));
    const received = receivedPayload(payload);
    expect(() => validator.validateElement(received)).not.toThrow();
    expect(attachments).toEqual([]);

    expect(received.localName).toBe('GetProofResponse');
    expect(names(received)).toEqual(['Ticket', 'Proof']);
    expect(rmsText(received, 'Ticket')).toBe(TICKET);
    const proof = first(received, NS.rms, 'Proof');
    expect(names(proof)).toEqual(['Kind', 'File']);
    expect(rmsText(proof, 'Kind')).toBe(kind);
    expectProofFile(first(proof, NS.rms, 'File'), kind, DESCRIPTIONS[kind]);
  });

  it.each([
    [['RECEIPT'] as ProofFileKind[]],
    [['RECEIPT', 'DISPATCH'] as ProofFileKind[]],
    [['CONSULTATION', 'RECEIPT', 'DISPATCH'] as ProofFileKind[]],
  ])(
    'answers ALL with the proofs issued so far (%j), in the order RECEIPT, DISPATCH, CONSULTATION',
    (kinds) => {
      const received = receivedPayload(renderGetProofResponse('ALL', proofs(...kinds)).payload);
      expect(() => validator.validateElement(received)).not.toThrow();

      const rendered = all(received, NS.rms, 'Proof');
      const expectedOrder = (['RECEIPT', 'DISPATCH', 'CONSULTATION'] as const).filter((kind) =>
        kinds.includes(kind),
      );
      expect(rendered.map((proof) => rmsText(proof, 'Kind'))).toEqual(expectedOrder);
      rendered.forEach((proof, index) =>
        expectProofFile(
          first(proof, NS.rms, 'File'),
          expectedOrder[index],
          DESCRIPTIONS[expectedOrder[index]],
        ),
      );
    },
  );

  it.each([
    [
      'another kind than the one asked for',
      'DISPATCH' as ProofSelection,
      ['CONSULTATION'] as ProofFileKind[],
    ],
    ['two proofs for one kind', 'RECEIPT' as ProofSelection, ['RECEIPT', 'DISPATCH'] as ProofFileKind[]],
    ['no proof', 'ALL' as ProofSelection, [] as ProofFileKind[]],
    ['a kind twice', 'ALL' as ProofSelection, ['RECEIPT', 'RECEIPT'] as ProofFileKind[]],
  ])('refuses to answer %s (a bug upstream)', (_name, selection, kinds) => {
    expect(() => renderGetProofResponse(selection, proofs(...kinds))).toThrow(/do not answer the request/);
  });
});

describe('the GetStatus and GetProof handlers', () => {
  const unused = (): never => {
    throw new Error('not used by this operation');
  };

  function context(fixture: string): OperationContext {
    return {
      payload: bodyPayload(readServiceFixture(fixture)),
      sender: SENDER,
      attachments: { nextAttachment: unused, failure: () => undefined },
      xopReferences: new Map(),
      requestId: 'request-1',
      log: createLogger({ silent: true }),
    };
  }

  function handlers(overrides: Partial<ServicePortServices>) {
    return createServiceHandlers({
      precheck: unused,
      send: unused,
      openStaging: unused,
      history: unused,
      proofs: unused,
      ...overrides,
    });
  }

  it('are named as the WSDL operations', () => {
    const wsdl = parseXml(
      fs.readFileSync(path.join(REPO_ROOT, 'wsdl', 'RegisteredMailService.wsdl'), 'utf8'),
    );
    const portType = first(wsdl, NS.wsdl, 'portType');
    const operations = childElements(portType)
      .filter((element) => element.localName === 'operation')
      .map((element) => element.getAttribute('name'));
    expect(Object.keys(handlers({})).sort()).toEqual([...operations].sort());
  });

  it('GetStatus asks the history of the request ticket for the authenticated sender', async () => {
    const asked: unknown[] = [];
    const { GetStatus } = handlers({
      history: async (sender, ticket) => {
        asked.push([sender, ticket]);
        return history;
      },
    });
    const { payload } = await GetStatus(context('GetStatus.xml'));
    expect(asked).toEqual([[SENDER, TICKET]]);
    const received = receivedPayload(payload);
    expect(() => validator.validateElement(received)).not.toThrow();
    expect(all(received, NS.rms, 'Event')).toHaveLength(4);
  });

  it.each([
    ['GetProof-receipt.xml', 'RECEIPT', ['RECEIPT']],
    ['GetProof-dispatch.xml', 'DISPATCH', ['DISPATCH']],
    ['GetProof-consultation.xml', 'CONSULTATION', ['CONSULTATION']],
    ['GetProof-all.xml', 'ALL', ['RECEIPT', 'DISPATCH', 'CONSULTATION']],
  ] as const)('%s asks for %s and answers the proofs', async (fixture, selection, kinds) => {
    const asked: unknown[] = [];
    const { GetProof } = handlers({
      proofs: async (sender, ticket, kind) => {
        asked.push([sender, ticket, kind]);
        return { ticket, token: TOKEN, proofs: kinds.map(proofOf) };
      },
    });
    const { payload } = await GetProof(context(fixture));
    expect(asked).toEqual([[SENDER, TICKET, selection]]);
    const received = receivedPayload(payload);
    expect(() => validator.validateElement(received)).not.toThrow();
    expect(all(received, NS.rms, 'Kind').map((kind) => kind.textContent)).toEqual(kinds);
  });

  it('GetProof lets the domain fault through (PROOF_B01 for a proof not issued yet)', async () => {
    const { GetProof } = handlers({
      proofs: async () => {
        throw new ProofNotIssuedError();
      },
    });
    await expect(GetProof(context('GetProof-consultation.xml'))).rejects.toMatchObject({ code: 'PROOF_B01' });
  });
});
