import { createHash } from 'node:crypto';
import type { TestPart } from './soap-client';

/** A file of a test sendDocument request. */
export interface TestFile {
  content: Buffer;
  contentId: string;
  /** Default SHA-256. */
  digestMethod?: 'SHA-1' | 'SHA-256' | 'SHA-512';
  /** Default: the correct digest of {@link content}. */
  digestValue?: string;
  title?: string;
  fileName?: string;
  mime?: string;
}

export type TestRecipient =
  | { kind: 'citizen'; inss: string; qualityCode?: string }
  | { kind: 'enterprise'; cbe: string; qualityCode?: string }
  | { kind: 'raw'; xml: string };

export interface SendDocumentSpec {
  token: string;
  recipient: TestRecipient;
  document: TestFile;
  annexes?: TestFile[];
  checkEboxStatus?: string;
}

const HASHES = { 'SHA-1': 'sha1', 'SHA-256': 'sha256', 'SHA-512': 'sha512' } as const;

function digestOf(file: TestFile): { method: string; value: string } {
  const method = file.digestMethod ?? 'SHA-256';
  return {
    method,
    value: file.digestValue ?? createHash(HASHES[method]).update(file.content).digest('base64'),
  };
}

function recipientXml(recipient: TestRecipient): string {
  if (recipient.kind === 'raw') return recipient.xml;
  if (recipient.kind === 'citizen') {
    return `<t:Recipient xsi:type="t:Citizen"><t:INSS>${recipient.inss}</t:INSS><t:QualityCode>${recipient.qualityCode ?? 'CITIZEN'}</t:QualityCode></t:Recipient>`;
  }
  return `<t:Recipient xsi:type="t:Enterprise"><t:CompanyID>${recipient.cbe}</t:CompanyID><t:QualityCode>${recipient.qualityCode ?? 'QUAL_EMP_NOSS'}</t:QualityCode></t:Recipient>`;
}

function digestXml(file: TestFile): string {
  const digest = digestOf(file);
  return `<t:Digest><t:DigestMethod>${digest.method}</t:DigestMethod><t:DigestValue>${digest.value}</t:DigestValue></t:Digest>`;
}

/** An unsigned v1 sendDocument envelope (prefixes declared on the Envelope, as SoapUI writes them). */
export function sendDocumentEnvelope(spec: SendDocumentSpec): string {
  const document = spec.document;
  const annexes = (spec.annexes ?? [])
    .map(
      (annex, index) =>
        `<t:Annex><t:Content>cid:${annex.contentId}</t:Content><t:Title>${annex.title ?? `Annex ${index + 1}`}</t:Title>${digestXml(annex)}<t:DownloadFileName>${annex.fileName ?? `annex-${index + 1}.txt`}</t:DownloadFileName><t:MIME>${annex.mime ?? 'text/plain'}</t:MIME></t:Annex>`,
    )
    .join('');
  const check = spec.checkEboxStatus ? `<t:CheckEboxStatus>${spec.checkEboxStatus}</t:CheckEboxStatus>` : '';
  return (
    `<soapenv:Envelope xmlns:soapenv="http://schemas.xmlsoap.org/soap/envelope/" xmlns:v1="http://socialsecurity.be/registeredmail/v1" xmlns:t="http://socialsecurity.be/registeredmail/types/v1" xmlns:xsi="http://www.w3.org/2001/XMLSchema-instance">` +
    `<soapenv:Header/><soapenv:Body><v1:SendDocumentRequest><t:RegisteredMailItem>` +
    `<t:Token>${spec.token}</t:Token>${recipientXml(spec.recipient)}` +
    `<t:Document><t:Title>${document.title ?? 'Decision'}</t:Title>${digestXml(document)}<t:DownloadFileName>${document.fileName ?? 'decision.pdf'}</t:DownloadFileName><t:MIME>${document.mime ?? 'application/pdf'}</t:MIME><t:Type>EDER501</t:Type><t:Language>fr</t:Language><t:Content>cid:${document.contentId}</t:Content></t:Document>` +
    `${annexes}<t:Meta><t:Type>FileReference</t:Type><t:Value>F-1</t:Value></t:Meta>` +
    `</t:RegisteredMailItem>${check}</v1:SendDocumentRequest></soapenv:Body></soapenv:Envelope>`
  );
}

/** The MIME parts that carry a spec's files. */
export function partsOf(spec: SendDocumentSpec): TestPart[] {
  return [spec.document, ...(spec.annexes ?? [])].map((file) => ({
    contentId: file.contentId,
    contentType: file.mime ?? 'application/octet-stream',
    content: file.content,
  }));
}

/** An unsigned getStatus envelope. */
export function getStatusEnvelope(ticket: string): string {
  return (
    `<soapenv:Envelope xmlns:soapenv="http://schemas.xmlsoap.org/soap/envelope/" xmlns:v1="http://socialsecurity.be/registeredmail/v1" xmlns:t="http://socialsecurity.be/registeredmail/types/v1">` +
    `<soapenv:Header/><soapenv:Body><v1:GetStatusRequest><t:Ticket>${ticket}</t:Ticket></v1:GetStatusRequest></soapenv:Body></soapenv:Envelope>`
  );
}

/** An unsigned healthCheck envelope. */
export function healthCheckEnvelope(type?: string): string {
  const attribute = type ? ` type="${type}"` : '';
  return (
    `<soapenv:Envelope xmlns:soapenv="http://schemas.xmlsoap.org/soap/envelope/" xmlns:mon="http://services.fgov.be/monitoring/v1">` +
    `<soapenv:Header/><soapenv:Body><mon:HealthCheckRequest${attribute}/></soapenv:Body></soapenv:Envelope>`
  );
}

/** A small PDF-looking document. */
export function samplePdf(label = 'test'): Buffer {
  return Buffer.from(
    `%PDF-1.4\n% RegisteredMail ${label}\n1 0 obj << /Type /Catalog >> endobj\ntrailer << /Root 1 0 R >>\n%%EOF\n`,
  );
}
