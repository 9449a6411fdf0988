import { createHash, randomBytes, randomUUID } from 'node:crypto';
import { buildSwaRequest } from '../../test/support/soap-client';
import { getStatusEnvelope, sendDocumentEnvelope } from '../../test/support/v1-requests';
import { signEnvelope } from '../../test/support/wss-signer';
import type { BenchSender } from './service-process';

/*
 * Requests signed ahead of time, as a client using WSS4J signs them (X.509 token, Timestamp, RSA-SHA256
 * over Body, Timestamp and token: the test suite's signer), each with its own Timestamp, Ids and Token so
 * that every request is a new message and a new item. Signing happens before the clock starts; the
 * service must then accept Timestamps as old as the benchmark is long (RM_TIMESTAMP_MAX_AGE_SECONDS).
 */

/** One HTTP request body, ready to send once. */
export interface PreparedRequest {
  contentType: string;
  body: Buffer;
}

/** The recipient of the large documents and seeded items: a citizen whose e-Box is activated. */
export const BENCH_RECIPIENT_INSS = '85073003328';

/**
 * The recipient of the `index`th measured sendDocument: a valid INSS of someone born in 1986 (the
 * simulator's profile exceptions are all born in 1985), one of 335,328 different citizens. A mailing goes
 * to many people: every request looks up its own recipient's e-Box profile (CheckEboxStatus ACTIVATED).
 */
export function benchRecipientInss(index: number): string {
  const month = 1 + (index % 12);
  const day = 1 + (Math.floor(index / 12) % 28);
  const serial = 1 + (Math.floor(index / 336) % 998);
  const base = `86${String(month).padStart(2, '0')}${String(day).padStart(2, '0')}${String(serial).padStart(3, '0')}`;
  return `${base}${String(97 - (Number(base) % 97)).padStart(2, '0')}`;
}

/** The SOAPAction header every v1 request carries. */
export const SOAP_ACTION = '""';

/** A document's description in the request: its Content-ID, type and SHA-256 (base64). */
interface DocumentReference {
  contentId: string;
  sha256Base64: string;
}

function sign(envelope: string, sender: BenchSender, validitySeconds: number): string {
  const unique = randomUUID();
  return signEnvelope(envelope, {
    keyPem: sender.keyPem,
    certPem: sender.certPem,
    created: new Date(),
    expiresInSeconds: validitySeconds,
    ids: {
      body: `id-${unique}`,
      timestamp: `TS-${unique}`,
      token: `X509-${unique}`,
      signature: `SIG-${unique}`,
    },
  });
}

function signedSendEnvelope(
  sender: BenchSender,
  token: string,
  document: DocumentReference,
  validitySeconds: number,
  recipientInss: string,
): string {
  return sign(
    sendDocumentEnvelope({
      token,
      recipient: { kind: 'citizen', inss: recipientInss },
      // The content is not used to build the envelope once the digest is given.
      document: {
        content: Buffer.alloc(0),
        contentId: document.contentId,
        digestMethod: 'SHA-256',
        digestValue: document.sha256Base64,
      },
    }),
    sender,
    validitySeconds,
  );
}

/**
 * A PDF-looking document of exactly `size` bytes (at least 64), different every time: the blob store is
 * content-addressed, so identical documents would be stored once and measure less than real traffic.
 */
export function uniqueDocument(size: number, label: string): Buffer {
  const head = Buffer.from(`%PDF-1.4\n% RegisteredMail benchmark ${label}\n`);
  const tail = Buffer.from('\n%%EOF\n');
  const fillerLength = Math.max(0, size - head.length - tail.length);
  const filler = Buffer.from(randomBytes(Math.ceil((fillerLength * 3) / 4) + 3).toString('base64'));
  return Buffer.concat([head, filler.subarray(0, fillerLength), tail]).subarray(0, Math.max(size, 64));
}

/** A signed v1 sendDocument request (SOAP with Attachments) carrying `document` to `recipientInss`. */
export function signedSendDocument(
  sender: BenchSender,
  token: string,
  document: Buffer,
  validitySeconds: number,
  recipientInss: string,
): PreparedRequest {
  const contentId = 'document@bench';
  const sha256Base64 = createHash('sha256').update(document).digest('base64');
  const envelope = signedSendEnvelope(
    sender,
    token,
    { contentId, sha256Base64 },
    validitySeconds,
    recipientInss,
  );
  const request = buildSwaRequest(
    envelope,
    [{ contentId, contentType: 'application/pdf', content: document }],
    {
      boundary: `MIMEBoundary_bench_${randomUUID()}`,
    },
  );
  return { contentType: request.contentType, body: request.body };
}

/** A signed v1 getStatus request for `ticket`. */
export function signedGetStatus(
  sender: BenchSender,
  ticket: string,
  validitySeconds: number,
): PreparedRequest {
  return {
    contentType: 'text/xml; charset=utf-8',
    body: Buffer.from(sign(getStatusEnvelope(ticket), sender, validitySeconds), 'utf8'),
  };
}

/**
 * A signed sendDocument whose document is streamed: the bytes before it (the envelope part and the
 * document part's headers) and after it (the closing boundary); the document's digest is given.
 */
export interface StreamedSendDocument {
  contentType: string;
  head: Buffer;
  tail: Buffer;
}

/** Builds a {@link StreamedSendDocument} for a document of known SHA-256 (base64). */
export function signedStreamedSendDocument(
  sender: BenchSender,
  token: string,
  sha256Base64: string,
  validitySeconds: number,
): StreamedSendDocument {
  const contentId = 'document@bench';
  const boundary = `MIMEBoundary_bench_${randomUUID()}`;
  const envelope = signedSendEnvelope(
    sender,
    token,
    { contentId, sha256Base64 },
    validitySeconds,
    BENCH_RECIPIENT_INSS,
  );
  return {
    contentType: `multipart/related; type="text/xml"; boundary="${boundary}"; start="<root.message@bench>"`,
    head: Buffer.from(
      `--${boundary}\r\nContent-Type: text/xml; charset=UTF-8\r\nContent-Transfer-Encoding: 8bit\r\nContent-ID: <root.message@bench>\r\n\r\n` +
        `${envelope}\r\n` +
        `--${boundary}\r\nContent-Type: application/pdf\r\nContent-Transfer-Encoding: binary\r\nContent-ID: <${contentId}>\r\n\r\n`,
    ),
    tail: Buffer.from(`\r\n--${boundary}--\r\n`),
  };
}

/** The Ticket of a sendDocument response (its receipt), or undefined when it holds none. */
export function ticketOf(responseBody: Buffer | string): string | undefined {
  return /<(?:[\w-]+:)?Ticket>([^<]+)<\/(?:[\w-]+:)?Ticket>/.exec(responseBody.toString())?.[1];
}
