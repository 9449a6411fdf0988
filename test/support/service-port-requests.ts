import { createHash } from 'node:crypto';
import { readFileSync } from 'node:fs';
import path from 'node:path';
import { xopInclude, type MtomPart } from './mtom-request';
import { post, type HttpResult } from './soap-client';
import type { TestService } from './service-fixture';
import type { TestRecipient } from './v1-requests';

/*
 * Requests of RegisteredMailService, the service's own port (/RegisteredMailService,
 * wsdl/RegisteredMailService.wsdl): the samples of fixtures/service as an integrator pastes them, and
 * SendRegisteredMail envelopes built from a spec, each file's bytes inline (base64) or as an MTOM part
 * (the Content holding an xop:Include). Envelopes are unsigned: sign them with TestService.sign.
 */

/** Where the own port answers. */
export const SERVICE_PORT_PATH = '/RegisteredMailService';
/** The own port's namespace. */
export const SERVICE_NS = 'urn:registeredmail:service:v1';

/** The operations of the own port. */
export type ServiceOperation = 'SendRegisteredMail' | 'GetStatus' | 'GetProof';
/** What GetProof may ask for. */
export type ProofKindRequest = 'RECEIPT' | 'DISPATCH' | 'CONSULTATION' | 'ALL';

const FIXTURES = path.join(__dirname, '../../fixtures/service');
const ENVELOPE_START =
  `<soapenv:Envelope xmlns:soapenv="http://schemas.xmlsoap.org/soap/envelope/" xmlns:urn="${SERVICE_NS}" ` +
  `xmlns:v1="http://socialsecurity.be/registeredmail/types/v1" xmlns:xsi="http://www.w3.org/2001/XMLSchema-instance">` +
  `<soapenv:Header/><soapenv:Body>`;
const ENVELOPE_END = `</soapenv:Body></soapenv:Envelope>`;

/** The own port's URL on a test service. */
export function servicePortUrl(rm: Pick<TestService, 'baseUrl'>): string {
  return `${rm.baseUrl}${SERVICE_PORT_PATH}`;
}

/** The SOAPAction header of an operation (quoted, as generated clients send it). */
export function serviceSoapAction(operation: ServiceOperation): string {
  return `"${SERVICE_NS}:${operation}"`;
}

/** POSTs a single-part (text/xml) request to the own port, with the operation's SOAPAction. */
export function postToServicePort(
  rm: Pick<TestService, 'baseUrl'>,
  envelope: string,
  operation: ServiceOperation,
  headers: Record<string, string> = {},
): Promise<HttpResult> {
  return post(servicePortUrl(rm), envelope, {
    'Content-Type': 'text/xml; charset=utf-8',
    SOAPAction: serviceSoapAction(operation),
    ...headers,
  });
}

/** A sample request of fixtures/service, e.g. `SendRegisteredMail-citizen.xml`, as text. */
export function serviceSample(fileName: string): string {
  return readFileSync(path.join(FIXTURES, fileName), 'utf8');
}

/** A file of a test SendRegisteredMail request. */
export interface ServiceFile {
  content: Buffer;
  /** Send the bytes as this MTOM part (an xop:Include in Content); inline base64 when absent. */
  contentId?: string;
  /** The Content text as written instead of the base64 of {@link content} (e.g. text that is not base64). */
  contentText?: string;
  /** Default SHA-256. */
  digestMethod?: 'SHA-1' | 'SHA-256' | 'SHA-512';
  /** Default: the correct digest of {@link content}. */
  digestValue?: string;
  title?: string;
  fileName?: string;
  mime?: string;
}

/** A SendRegisteredMail request. */
export interface SendRegisteredMailSpec {
  token: string;
  recipient: TestRecipient;
  checkEboxStatus?: 'ACTIVATED' | 'PREFERRED' | 'BYPASS';
  document: ServiceFile;
  annexes?: ServiceFile[];
}

const HASHES = { 'SHA-1': 'sha1', 'SHA-256': 'sha256', 'SHA-512': 'sha512' } as const;

/** The Digest a spec's file declares (the correct one unless the file says otherwise). */
export function declaredDigest(file: ServiceFile): { method: string; value: string } {
  const method = file.digestMethod ?? 'SHA-256';
  return {
    method,
    value: file.digestValue ?? createHash(HASHES[method]).update(file.content).digest('base64'),
  };
}

function digestXml(file: ServiceFile): string {
  const { method, value } = declaredDigest(file);
  return `<urn:Digest><v1:DigestMethod>${method}</v1:DigestMethod><v1:DigestValue>${value}</v1:DigestValue></urn:Digest>`;
}

function contentXml(file: ServiceFile): string {
  if (file.contentId !== undefined) return `<urn:Content>${xopInclude(file.contentId)}</urn:Content>`;
  return `<urn:Content>${file.contentText ?? file.content.toString('base64')}</urn:Content>`;
}

function recipientXml(recipient: TestRecipient): string {
  if (recipient.kind === 'raw') return recipient.xml;
  if (recipient.kind === 'citizen') {
    return `<urn:Recipient xsi:type="v1:Citizen"><v1:INSS>${recipient.inss}</v1:INSS><v1:QualityCode>${recipient.qualityCode ?? 'CITIZEN'}</v1:QualityCode></urn:Recipient>`;
  }
  return `<urn:Recipient xsi:type="v1:Enterprise"><v1:CompanyID>${recipient.cbe}</v1:CompanyID><v1:QualityCode>${recipient.qualityCode ?? 'QUAL_EMP_NOSS'}</v1:QualityCode></urn:Recipient>`;
}

/** An unsigned SendRegisteredMail envelope, elements in the XSD's order. */
export function sendRegisteredMailEnvelope(spec: SendRegisteredMailSpec): string {
  const { document } = spec;
  const annexes = (spec.annexes ?? [])
    .map(
      (annex, index) =>
        `<urn:Annex><urn:Title>${annex.title ?? `Annex ${index + 1}`}</urn:Title>${digestXml(annex)}` +
        `<urn:DownloadFileName>${annex.fileName ?? `annex-${index + 1}.txt`}</urn:DownloadFileName>` +
        `<urn:MIME>${annex.mime ?? 'text/plain'}</urn:MIME>${contentXml(annex)}</urn:Annex>`,
    )
    .join('');
  const check = spec.checkEboxStatus
    ? `<urn:CheckEboxStatus>${spec.checkEboxStatus}</urn:CheckEboxStatus>`
    : '';
  return (
    `${ENVELOPE_START}<urn:SendRegisteredMailRequest><urn:Token>${spec.token}</urn:Token>` +
    `${recipientXml(spec.recipient)}${check}` +
    `<urn:Document><urn:Title>${document.title ?? 'Decision'}</urn:Title>${digestXml(document)}` +
    `<urn:DownloadFileName>${document.fileName ?? 'decision.pdf'}</urn:DownloadFileName>` +
    `<urn:MIME>${document.mime ?? 'application/pdf'}</urn:MIME><urn:Type>EDER501</urn:Type>` +
    `<urn:Language>fr</urn:Language>${contentXml(document)}</urn:Document>` +
    `${annexes}<urn:Meta><v1:Type>FileReference</v1:Type><v1:Value>F-1</v1:Value></urn:Meta>` +
    `</urn:SendRegisteredMailRequest>${ENVELOPE_END}`
  );
}

/** The MTOM parts of a spec: each file that has a Content-ID, in document-then-annex order. */
export function mtomPartsOf(spec: SendRegisteredMailSpec): MtomPart[] {
  return [spec.document, ...(spec.annexes ?? [])].flatMap((file) =>
    file.contentId === undefined
      ? []
      : [
          {
            contentId: file.contentId,
            contentType: file.mime ?? 'application/octet-stream',
            content: file.content,
          },
        ],
  );
}

/** An unsigned GetStatus envelope. */
export function getStatusRequestEnvelope(ticket: string): string {
  return `${ENVELOPE_START}<urn:GetStatusRequest><urn:Ticket>${ticket}</urn:Ticket></urn:GetStatusRequest>${ENVELOPE_END}`;
}

/** An unsigned GetProof envelope. */
export function getProofRequestEnvelope(ticket: string, kind: ProofKindRequest): string {
  return (
    `${ENVELOPE_START}<urn:GetProofRequest><urn:Ticket>${ticket}</urn:Ticket><urn:Kind>${kind}</urn:Kind>` +
    `</urn:GetProofRequest>${ENVELOPE_END}`
  );
}
