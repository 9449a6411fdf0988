import { createHash } from 'node:crypto';
import fs from 'node:fs';
import path from 'node:path';
import type { Element } from '@xmldom/xmldom';
import { createV1Handlers, type V1Services } from '../../src/contract/v1/operations';
import { renderGetStatusResponse } from '../../src/contract/v1/render-responses';
import { contentIdFromCidUrl } from '../../src/contract/swa-reference';
import { PayloadValidator } from '../../src/contract/xsd-validator';
import type { ItemStatusView, StoredProof } from '../../src/domain/model';
import { createLogger } from '../../src/logging/logger';
import {
  NS,
  REPO_ROOT,
  XSD_DIR,
  childElements,
  first,
  readFixture,
  receivedPayload,
} from './contract-test-support';

/*
 * getStatus's answer: Ticket, Token, Status and, once the item is SENT, the ProofOfDispatch as a SignedFile
 * whose Content is the cid: of an attachment carrying the evidence bytes exactly as signed.
 */

/** The proof of dispatch of the citizen item of fixtures/v1 (the evidence sample of fixtures/evidence). */
const EVIDENCE = fs.readFileSync(path.join(REPO_ROOT, 'fixtures', 'evidence', 'ContentConsignment.xml'));
// The renderer hands the signature out as it is stored; any bytes stand in for the CMS DER here.
const SIGNATURE = Buffer.from('3082010a0201013100300b06092a864886f70d010701', 'hex');
const CONTENT_ID = '0b6a2f9e-5d1c-4a57-9f3e-8c2d41b7e6a0@registeredmail';

const dispatchProof: StoredProof = {
  kind: 'DISPATCH',
  evidenceId: '3f1e7c52-8a4b-4d0e-9b61-2c7a5e90d4f8',
  content: EVIDENCE,
  contentSha256: createHash('sha256').update(EVIDENCE).digest(),
  signature: SIGNATURE,
  issuedAt: new Date('2024-07-01T09:31:06.000Z'),
};

const pending: ItemStatusView = { ticket: '7K3M9QX2BH4TZ', token: 'DOSSIER-2024-000123', status: 'PENDING' };
const sent: ItemStatusView = { ...pending, status: 'SENT', proofOfDispatch: dispatchProof };

let validator: PayloadValidator;

beforeAll(async () => {
  validator = await PayloadValidator.load(XSD_DIR);
});

afterAll(() => validator.dispose());

function text(parent: Element, localName: string): string {
  return first(parent, NS.types, localName).textContent ?? '';
}

describe('renderGetStatusResponse', () => {
  it.each([
    ['PENDING', pending],
    ['ERROR', { ...pending, status: 'ERROR' } as ItemStatusView],
    ['SENT without a proof yet', { ...pending, status: 'SENT' } as ItemStatusView],
  ])('%s: Ticket, Token, Status only, valid, and no attachment', (_name, view) => {
    const { payload, attachments } = renderGetStatusResponse(view, CONTENT_ID);

    const received = receivedPayload(payload);
    expect(() => validator.validateElement(received)).not.toThrow();
    expect(received.namespaceURI).toBe(NS.rm);
    expect(received.localName).toBe('GetStatusResponse');
    expect(childElements(received).map((e) => e.localName)).toEqual(['Ticket', 'Token', 'Status']);
    expect(text(received, 'Status')).toBe(view.status);
    expect(attachments).toEqual([]);
  });

  describe('SENT with its proof of dispatch', () => {
    const { payload, attachments } = renderGetStatusResponse(sent, CONTENT_ID);
    const received = receivedPayload(payload);
    const proof = () => first(received, NS.types, 'ProofOfDispatch');

    it('validates against the service schemas', () => {
      expect(() => validator.validateElement(received)).not.toThrow();
    });

    it('appends ProofOfDispatch after Status', () => {
      expect(childElements(received).map((e) => e.localName)).toEqual([
        'Ticket',
        'Token',
        'Status',
        'ProofOfDispatch',
      ]);
      expect(proof().namespaceURI).toBe(NS.types);
      expect(text(received, 'Status')).toBe('SENT');
    });

    it('describes the proof as a SignedFile of the receipt form', () => {
      expect(childElements(proof()).map((e) => e.localName)).toEqual([
        'Title',
        'Digest',
        'DownloadFileName',
        'MIME',
        'Type',
        'Language',
        'Content',
        'Signature',
      ]);
      expect(text(proof(), 'Title')).toBe('ProofOfDispatch');
      expect(text(proof(), 'DownloadFileName')).toBe('ProofOfDispatch.xml');
      expect(text(proof(), 'MIME')).toBe('text/xml');
      expect(text(proof(), 'Type')).toBe('PROOF_OF_DISPATCH');
      expect(text(proof(), 'Language')).toBe('en');
      expect(text(proof(), 'DigestMethod')).toBe('SHA-256');
    });

    it('attaches exactly the evidence bytes as one text/xml part', () => {
      expect(attachments).toHaveLength(1);
      expect(attachments[0].contentType).toBe('text/xml');
      expect(attachments[0].content.equals(EVIDENCE)).toBe(true);
    });

    it('references the attachment by its Content-ID as a cid: URL', () => {
      const content = text(proof(), 'Content');
      expect(content).toMatch(/^cid:/);
      expect(contentIdFromCidUrl(content)).toBe(attachments[0].contentId);
      expect(attachments[0].contentId).toBe(CONTENT_ID);
    });

    it('states the SHA-256 of the attachment as the Digest', () => {
      const digest = Buffer.from(text(proof(), 'DigestValue'), 'base64');
      expect(digest.equals(createHash('sha256').update(attachments[0].content).digest())).toBe(true);
    });

    it('carries the detached signature in base64', () => {
      expect(Buffer.from(text(proof(), 'Signature'), 'base64').equals(SIGNATURE)).toBe(true);
    });
  });

  it('refuses to hand out a consultation proof as the proof of dispatch', () => {
    const wrong: ItemStatusView = { ...sent, proofOfDispatch: { ...dispatchProof, kind: 'CONSULTATION' } };
    expect(() => renderGetStatusResponse(wrong, CONTENT_ID)).toThrow(/CONSULTATION proof/);
  });
});

describe('the getStatus handler', () => {
  function handlerAnswering(view: ItemStatusView) {
    const unused = (): never => {
      throw new Error('not used by getStatus');
    };
    const services: V1Services = {
      precheck: unused,
      send: unused,
      status: async (_sender, ticket) => {
        expect(ticket).toBe(view.ticket);
        return view;
      },
      health: { run: unused } as unknown as V1Services['health'],
      openStaging: unused,
      component: { name: 'RegisteredMail', version: 'test' },
      location: unused,
    };
    return createV1Handlers(services).getStatus;
  }

  async function answer(view: ItemStatusView) {
    const payload = first(readFixture('getStatus.xml'), NS.rm, 'GetStatusRequest');
    return handlerAnswering(view)({
      payload,
      sender: { cbe: '0861023666', applicationId: 'RegisteredMailSampleSender' },
      attachments: { nextAttachment: async () => undefined, failure: () => undefined },
      xopReferences: new Map(),
      requestId: 'request-1',
      log: createLogger({ silent: true }),
    });
  }

  it('answers a SENT item with its proof in an attachment referenced by a fresh cid:', async () => {
    const firstAnswer = await answer(sent);
    const second = await answer(sent);

    for (const { payload, attachments } of [firstAnswer, second]) {
      const received = receivedPayload(payload);
      expect(() => validator.validateElement(received)).not.toThrow();
      expect(attachments).toHaveLength(1);
      expect(contentIdFromCidUrl(text(received, 'Content'))).toBe(attachments[0].contentId);
    }
    expect(firstAnswer.attachments[0].contentId).not.toBe(second.attachments[0].contentId);
  });

  it('answers a PENDING item without attachment', async () => {
    const { payload, attachments } = await answer(pending);
    expect(() => validator.validateElement(receivedPayload(payload))).not.toThrow();
    expect(attachments).toEqual([]);
  });
});
