import { randomUUID } from 'node:crypto';

/** A part that follows the envelope in a SOAP with Attachments response. */
export interface ResponsePart {
  contentId: string;
  contentType: string;
  content: Buffer;
}

/** A response body ready for the wire. */
export interface EncodedResponse {
  contentType: string;
  body: Buffer;
}

/** A single-part SOAP 1.1 response. */
export function plainSoapResponse(envelope: Buffer): EncodedResponse {
  return { contentType: 'text/xml; charset=utf-8', body: envelope };
}

/**
 * A `multipart/related; type="text/xml"` response whose root part is the envelope and whose other parts
 * carry the `Content-ID`s that the envelope's `cid:` URLs name, laid out as JAX-WS RI lays out its own.
 */
export function multipartSoapResponse(envelope: Buffer, parts: readonly ResponsePart[]): EncodedResponse {
  const boundary = `uuid:${randomUUID()}`;
  const rootId = `rootpart*${randomUUID()}@registeredmail`;
  const chunks: Buffer[] = [];
  const head = (headers: string) => Buffer.from(`--${boundary}\r\n${headers}\r\n\r\n`, 'utf8');
  chunks.push(
    head(
      `Content-Id: <${rootId}>\r\nContent-Type: text/xml; charset=utf-8\r\nContent-Transfer-Encoding: binary`,
    ),
    envelope,
    Buffer.from('\r\n'),
  );
  for (const part of parts) {
    chunks.push(
      head(
        `Content-Id: <${part.contentId}>\r\nContent-Type: ${part.contentType}\r\nContent-Transfer-Encoding: binary`,
      ),
      part.content,
      Buffer.from('\r\n'),
    );
  }
  chunks.push(Buffer.from(`--${boundary}--\r\n`));
  return {
    contentType: `multipart/related; type="text/xml"; boundary="${boundary}"; start="<${rootId}>"; start-info="text/xml"`,
    body: Buffer.concat(chunks),
  };
}
