import { openStreamingRequest } from './raw-http';
import type { HttpResult } from './soap-client';

/*
 * MTOM/XOP requests built by hand the way a JAX-WS client on Apache CXF sends them: an XOP package
 * (`multipart/related; type="application/xop+xml"; start-info="text/xml"`), the envelope as root part
 * (`application/xop+xml; type="text/xml"`), each optimised base64Binary element holding an
 * `xop:Include href="cid:..."` that names a binary part, the body sent with chunked transfer coding.
 * The envelope is sent exactly as given: sign it (with its Includes) before handing it over, as WSS4J
 * signs the SAAJ form.
 */

/** The namespace of `xop:Include` (XOP 1.0). */
export const XOP_INCLUDE_NS = 'http://www.w3.org/2004/08/xop/include';

/** An `xop:Include` of the part whose Content-ID is `contentId`, with its own namespace declaration. */
export function xopInclude(contentId: string): string {
  return `<xop:Include xmlns:xop="${XOP_INCLUDE_NS}" href="cid:${contentId}"/>`;
}

/** A binary part of an XOP package. */
export interface MtomPart {
  /** Without angle brackets, e.g. `4f2c...-1@cxf.apache.org`. */
  contentId: string;
  /** Default application/octet-stream. */
  contentType?: string;
  /** The bytes, whole or as chunks written one after the other. */
  content: Buffer | Iterable<Buffer> | AsyncIterable<Buffer>;
}

/** Options of {@link postMtom}. */
export interface MtomRequestOptions {
  /** The SOAPAction header value, quotes included; default `""`. */
  soapAction?: string;
  boundary?: string;
  /** The root part's Content-ID, without angle brackets. */
  rootContentId?: string;
}

const DEFAULT_BOUNDARY = 'uuid:6c1f0b8e-94a1-4b7e-9a55-2f4c7d3b9e10';
const DEFAULT_ROOT_ID = 'root.message@cxf.apache.org';

/** The HTTP Content-Type of an XOP package, as CXF writes it. */
export function mtomContentType(
  options: Pick<MtomRequestOptions, 'boundary' | 'rootContentId'> = {},
): string {
  const boundary = options.boundary ?? DEFAULT_BOUNDARY;
  const root = options.rootContentId ?? DEFAULT_ROOT_ID;
  return `multipart/related; type="application/xop+xml"; boundary="${boundary}"; start="<${root}>"; start-info="text/xml"`;
}

/**
 * POSTs an XOP package to `url`: the (already signed) envelope as root part, then the parts in order,
 * each streamed in the chunks it is given, without a Content-Length (chunked, as CXF streams).
 */
export async function postMtom(
  url: string,
  envelope: string | Buffer,
  parts: readonly MtomPart[],
  options: MtomRequestOptions = {},
): Promise<HttpResult> {
  const boundary = options.boundary ?? DEFAULT_BOUNDARY;
  const outgoing = openStreamingRequest(url, {
    'Content-Type': mtomContentType(options),
    SOAPAction: options.soapAction ?? '""',
  });
  try {
    await outgoing.write(
      `--${boundary}\r\nContent-Type: application/xop+xml; charset=UTF-8; type="text/xml"\r\n` +
        `Content-Transfer-Encoding: binary\r\nContent-ID: <${options.rootContentId ?? DEFAULT_ROOT_ID}>\r\n\r\n`,
    );
    await outgoing.write(Buffer.from(envelope));
    await outgoing.write('\r\n');
    for (const part of parts) {
      await outgoing.write(
        `--${boundary}\r\nContent-Type: ${part.contentType ?? 'application/octet-stream'}\r\n` +
          `Content-Transfer-Encoding: binary\r\nContent-ID: <${part.contentId}>\r\n\r\n`,
      );
      const chunks = Buffer.isBuffer(part.content) ? [part.content] : part.content;
      for await (const chunk of chunks) await outgoing.write(chunk);
      await outgoing.write('\r\n');
    }
    await outgoing.write(`--${boundary}--\r\n`);
    outgoing.end();
    return await outgoing.response;
  } finally {
    outgoing.destroy();
  }
}
