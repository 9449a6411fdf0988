import type { Element } from '@xmldom/xmldom';
import { contractDirectories } from '../../src/app/project-paths';
import { PayloadValidator } from '../../src/contract/xsd-validator';
import { parseEnvelope, type ParsedEnvelope } from '../../src/soap/parse-envelope';
import { processSecurityHeader } from '../../src/wssecurity/process-security-header';
import { childElements, optionalText, requiredChild, requiredText } from '../../src/xml/element-reader';
import { expectFault, type CheckedFault, type ExpectedFault } from './fault-assertions';
import { SERVICE_NS } from './service-port-requests';
import type { HttpResult } from './soap-client';

/*
 * The own port's answers read as a careful client reads them: HTTP 200 text/xml (proofs travel inline,
 * never as parts), the service's WS-Security signature over the Body verified on the bytes received,
 * the payload valid against the contract's XSDs, then its values as plain data. Faults are checked with
 * the README's rules (expectFault), their detail validated and their signature verified too.
 */

const TYPES = 'http://socialsecurity.be/registeredmail/types/v1';
const ENVELOPE_LIMITS = { maxDepth: 64, maxElements: 20_000 };

/** A ProofFile (the receipt of a send, a File of GetProof) with its bytes decoded. */
export interface ProofFileAnswer {
  title: string;
  digestMethod: string;
  /** Base64, as in the envelope. */
  digestValue: string;
  downloadFileName: string;
  mime: string;
  type: string;
  language: string;
  /** The decoded Content: the signed bytes. */
  content: Buffer;
  /** The decoded Signature: DER of the detached CMS signature. */
  signature: Buffer;
}

/** SendRegisteredMailResponse. */
export interface SendAnswer {
  ticket: string;
  token: string;
  receipt: ProofFileAnswer;
}

/** One Event of GetStatusResponse. */
export interface StatusEventAnswer {
  name: string;
  time: string;
  status: string;
  eboxMessageId?: string;
  detail?: string;
}

/** GetStatusResponse. */
export interface HistoryAnswer {
  ticket: string;
  token: string;
  status: string;
  events: StatusEventAnswer[];
}

/** GetProofResponse. */
export interface ProofsAnswer {
  ticket: string;
  proofs: { kind: string; file: ProofFileAnswer }[];
}

function base64Of(parent: Element, localName: string): Buffer {
  return Buffer.from(requiredText(parent, SERVICE_NS, localName), 'base64');
}

/** Reads a ProofFile element. */
export function readProofFile(element: Element): ProofFileAnswer {
  const digest = requiredChild(element, SERVICE_NS, 'Digest');
  return {
    title: requiredText(element, SERVICE_NS, 'Title'),
    digestMethod: requiredText(digest, TYPES, 'DigestMethod'),
    digestValue: requiredText(digest, TYPES, 'DigestValue'),
    downloadFileName: requiredText(element, SERVICE_NS, 'DownloadFileName'),
    mime: requiredText(element, SERVICE_NS, 'MIME'),
    type: requiredText(element, SERVICE_NS, 'Type'),
    language: requiredText(element, SERVICE_NS, 'Language'),
    content: base64Of(element, 'Content'),
    signature: base64Of(element, 'Signature'),
  };
}

/** Reads, verifies and validates the own port's answers; one per test file (it holds compiled XSDs). */
export class ServiceAnswerReader {
  private constructor(
    private readonly validator: PayloadValidator,
    private readonly signerCertificate: Buffer,
  ) {}

  /** @param signerCertificate DER of the certificate the service signs its responses with */
  static async load(signerCertificate: Buffer): Promise<ServiceAnswerReader> {
    return new ServiceAnswerReader(
      await PayloadValidator.load(contractDirectories().xsdDir),
      signerCertificate,
    );
  }

  /** Frees the compiled schemas. */
  dispose(): void {
    this.validator.dispose();
  }

  /**
   * Validates a proof's content (a Receipt.xml, an evidence document) against the contract's schemas.
   * @throws XsdComplianceError when it is not valid
   */
  validateProofContent(content: Buffer): void {
    this.validator.validateDocument(content);
  }

  /**
   * The payload of a successful answer, once its signature and its XSD validity are checked.
   * @throws Error when the answer is not HTTP 200, or its payload is not `localName`
   */
  async payload(result: HttpResult, localName: string): Promise<Element> {
    if (result.status !== 200) {
      throw new Error(
        `expected HTTP 200 ${localName}, got ${result.status}: ${result.body
          .toString()
          .replace(/<soapenv:Header>[\s\S]*<\/soapenv:Header>/, '')
          .slice(0, 1500)}`,
      );
    }
    expect(String(result.headers['content-type'])).toMatch(/^text\/xml\b/);
    const envelope = await this.verifiedEnvelope(result);
    expect({ namespace: envelope.payload.namespaceURI, localName: envelope.payload.localName }).toEqual({
      namespace: SERVICE_NS,
      localName,
    });
    this.validator.validateElement(envelope.payload);
    return envelope.payload;
  }

  /** A SendRegisteredMailResponse. */
  async send(result: HttpResult): Promise<SendAnswer> {
    const payload = await this.payload(result, 'SendRegisteredMailResponse');
    return {
      ticket: requiredText(payload, SERVICE_NS, 'Ticket'),
      token: optionalText(payload, SERVICE_NS, 'Token') ?? '',
      receipt: readProofFile(requiredChild(payload, SERVICE_NS, 'Receipt')),
    };
  }

  /** A GetStatusResponse. */
  async history(result: HttpResult): Promise<HistoryAnswer> {
    const payload = await this.payload(result, 'GetStatusResponse');
    return {
      ticket: requiredText(payload, SERVICE_NS, 'Ticket'),
      token: optionalText(payload, SERVICE_NS, 'Token') ?? '',
      status: requiredText(payload, SERVICE_NS, 'Status'),
      events: childElements(payload, SERVICE_NS, 'Event').map((event) => {
        const answer: StatusEventAnswer = {
          name: requiredText(event, SERVICE_NS, 'Name'),
          time: requiredText(event, SERVICE_NS, 'Time'),
          status: requiredText(event, SERVICE_NS, 'Status'),
        };
        const eboxMessageId = optionalText(event, SERVICE_NS, 'EboxMessageId');
        if (eboxMessageId !== undefined) answer.eboxMessageId = eboxMessageId;
        const detail = optionalText(event, SERVICE_NS, 'Detail');
        if (detail !== undefined) answer.detail = detail;
        return answer;
      }),
    };
  }

  /** A GetProofResponse. */
  async proofs(result: HttpResult): Promise<ProofsAnswer> {
    const payload = await this.payload(result, 'GetProofResponse');
    return {
      ticket: requiredText(payload, SERVICE_NS, 'Ticket'),
      proofs: childElements(payload, SERVICE_NS, 'Proof').map((proof) => ({
        kind: requiredText(proof, SERVICE_NS, 'Kind'),
        file: readProofFile(requiredChild(proof, SERVICE_NS, 'File')),
      })),
    };
  }

  /** A fault as the README describes it (expectFault), signed, its detail valid against the XSDs. */
  async fault(result: HttpResult, expected: ExpectedFault): Promise<CheckedFault> {
    const fault = expectFault(result, expected);
    await this.verifiedEnvelope(result);
    this.validator.validateElement(fault.detailElement);
    return fault;
  }

  /** The envelope, once the service's signature over its Body is verified on the bytes received. */
  private async verifiedEnvelope(result: HttpResult): Promise<ParsedEnvelope> {
    const envelope = parseEnvelope(result.body, ENVELOPE_LIMITS);
    const facts = await processSecurityHeader(envelope);
    expect(facts.securityHeaders).toHaveLength(1);
    const [header] = facts.securityHeaders;
    expect(
      header.binarySecurityTokens.map((token) => token.certificateDer?.equals(this.signerCertificate)),
    ).toEqual([true]);
    expect(header.signatures).toHaveLength(1);
    const [signature] = header.signatures;
    expect(signature.signatureValue).toEqual({ outcome: 'valid' });
    const body = signature.references.find((reference) => reference.element === envelope.body);
    expect(body?.digest).toEqual({ outcome: 'valid' });
    return envelope;
  }
}
